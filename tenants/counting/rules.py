"""One entry point for every rule, and the defaults a pabulib file's META implies."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from tenants.counting.election import Election
from tenants.counting.gc_pause import cyclic_gc_paused
from tenants.counting.greedy import NO_SKIP, SKIP, greedy
from tenants.counting.mes import ADD1_FULL, COMPLETIONS, NONE, equal_shares
from tenants.counting.outcome import Outcome
from tenants.counting.satisfaction import SATISFACTIONS, VoterGroups
from tenants.counting.tiebreak import DEFAULT_CHAIN, parse_chain

RULES = ("greedy", "greedy-no-skip", "greedy-threshold", "mes")
FILLS = ("none", "greedy")


@dataclass(frozen=True)
class RuleSpec:
    """Everything that decides an outcome besides the votes: stored with every result."""

    rule: str = "greedy"
    sat: str = "cost"
    completion: str = NONE  # MES only
    fill: str = "none"  # MES only
    tie_break: str = DEFAULT_CHAIN
    threshold: Fraction | None = None  # greedy-threshold: minimum number of votes

    def check(self) -> RuleSpec:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; expected one of {', '.join(RULES)}")
        if self.sat not in SATISFACTIONS:
            raise ValueError(f"unknown satisfaction {self.sat!r}")
        if self.completion not in COMPLETIONS:
            raise ValueError(f"unknown completion {self.completion!r}")
        if self.fill not in FILLS:
            raise ValueError(f"unknown fill {self.fill!r}")
        if self.rule == "greedy-threshold" and self.threshold is None:
            raise ValueError("greedy-threshold needs a threshold (META "
                             "min_project_score_threshold or --threshold)")
        parse_chain(self.tie_break)
        return self

    def as_json(self) -> dict:
        return {
            "rule": self.rule, "sat": self.sat, "completion": self.completion,
            "fill": self.fill, "tie_break": self.tie_break,
            "threshold": None if self.threshold is None else str(self.threshold),
        }


def spec_from_meta(meta: dict[str, str]) -> RuleSpec:
    """The rule the file says was used, where we implement it; else plain greedy.

    equalshares/add1 (and -comparison) means raising the endowment while the outcome stays
    within budget, which is our add1-full: it reproduces the published results."""
    rule = meta.get("rule", "").strip().lower()
    threshold = meta.get("min_project_score_threshold")
    if rule.startswith("equalshares"):
        completion = ADD1_FULL if "add1" in rule else NONE
        return RuleSpec("mes", completion=completion)
    if rule in ("greedy-no-skip", "greedy-threshold"):
        spec = RuleSpec(rule)
        if threshold is not None:
            spec = replace(spec, threshold=Fraction(threshold.replace(",", ".")))
        return spec
    return RuleSpec("greedy")


@cyclic_gc_paused()
def count(election: Election, spec: RuleSpec, groups: VoterGroups | None = None) -> Outcome:
    spec.check()
    if spec.rule == "mes":
        return equal_shares(
            election, spec.sat, spec.tie_break, completion=spec.completion,
            fill=spec.fill, groups=groups,
        )
    variant = NO_SKIP if spec.rule == "greedy-no-skip" else SKIP
    threshold = spec.threshold if spec.rule == "greedy-threshold" else None
    outcome = greedy(election, spec.sat, spec.tie_break, variant=variant, threshold=threshold,
                     groups=groups)
    outcome.details["rule"] = spec.rule
    return outcome
