"""Outcomes computed by pabutools (GPL-3.0): imported by tests and benchmarks only, never by
the product. Each rule id names our equivalent: `rule/sat[/completion[/fill]]`."""

from __future__ import annotations

from pabutools.election import (
    Additive_Borda_Sat,
    Additive_Cardinal_Sat,
    Cardinality_Sat,
    Cost_Sat,
    parse_pabulib,
)
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

SAT_CLASSES = {
    "cost": Cost_Sat,
    "cardinality": Cardinality_Sat,
    "points": Additive_Cardinal_Sat,
    "borda": Additive_Borda_Sat,
}


def rule_ids(vote_type: str) -> list[str]:
    """The conformance rules of the issue that apply to a vote type."""
    ids = ["greedy/cost", "greedy/cardinality", "mes/cost/none", "mes/cardinality/none"]
    if vote_type in ("cumulative", "scoring"):
        ids += ["greedy/points", "mes/points/none"]
    if vote_type == "ordinal":
        ids += ["greedy/borda", "mes/borda/none"]
    return ids + ["mes/cost/add1/greedy"]


def load(path):
    instance, profile = parse_pabulib(str(path))
    return instance, profile.as_multiprofile()


def outcome(instance, profile, rule_id: str) -> list[str]:
    """Selected project ids, sorted as strings."""
    parts = rule_id.split("/")
    rule, sat_class = parts[0], SAT_CLASSES[parts[1]]
    if rule == "greedy":
        # Borda is not an AdditiveSatisfaction subclass although it is additive: the issue
        # asks for pabutools' additive scheme, which ranks by total utility per cost.
        selected = greedy_utilitarian_welfare(
            instance, profile, sat_class=sat_class, is_sat_additive=True
        )
    else:
        increment = 1 if parts[2] == "add1" else None
        selected = method_of_equal_shares(
            instance, profile, sat_class=sat_class, voter_budget_increment=increment
        )
        if len(parts) > 3 and parts[3] == "greedy":
            selected = greedy_utilitarian_welfare(
                instance, profile, sat_class=sat_class, is_sat_additive=True,
                initial_budget_allocation=selected,
            )
    return sorted(p.name for p in selected)
