"""The result record: everything needed to recount an outcome and check it.

A record holds the rule and its parameters (satisfaction, completion, fill, tie-breaking,
threshold, and for the portal: envelopes, channel weights, blended weights), a digest of the
votes counted, and the outcome. Anyone holding the same votes can recompute the digest and
the outcome; `recount` does both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from fractions import Fraction

from tenants.counting.election import Election, format_number
from tenants.counting.outcome import Outcome
from tenants.counting.rules import RuleSpec, count

ENGINE = "chamyeo-counting/1"


def input_digest(election: Election) -> str:
    """sha256 of a canonical form of what is counted (budget, vote type, projects and costs,
    distinct ballots with their counts); independent of file layout, voter order and columns
    that do not count."""
    ballots = sorted(
        ([list(b.projects), [str(p) for p in b.points], n]
         for b, n in zip(election.ballots, election.counts, strict=True)),
        key=lambda item: json.dumps(item[:2], ensure_ascii=False),
    )
    canonical = {
        "budget": str(Fraction(election.budget)),
        "vote_type": election.vote_type,
        "projects": sorted([p.id, str(Fraction(p.cost))] for p in election.projects.values()),
        "ballots": ballots,
    }
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ResultRecord:
    spec: RuleSpec
    input_sha256: str
    selected: list[str]
    order: list[str]
    total_cost: Fraction
    # Platform parameters that shaped the input (envelope, channel weights, blend weights).
    parameters: dict = field(default_factory=dict)
    engine: str = ENGINE

    def to_json(self) -> str:
        return json.dumps({
            "engine": self.engine,
            "spec": self.spec.as_json(),
            "parameters": self.parameters,
            "input_sha256": self.input_sha256,
            "selected": self.selected,
            "order": self.order,
            "total_cost": str(self.total_cost),
        }, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ResultRecord:
        data = json.loads(text)
        spec = dict(data["spec"])
        threshold = spec.pop("threshold")
        return cls(
            RuleSpec(**spec, threshold=None if threshold is None else Fraction(threshold)),
            data["input_sha256"], data["selected"], data["order"],
            Fraction(data["total_cost"]), data.get("parameters", {}), data["engine"],
        )


def record_result(election: Election, spec: RuleSpec, outcome: Outcome,
                  parameters: dict | None = None) -> ResultRecord:
    return ResultRecord(spec, input_digest(election), outcome.selected, list(outcome.order),
                        Fraction(outcome.total_cost), dict(parameters or {}))


def recount(record: ResultRecord, election: Election) -> list[str]:
    """Problems found recounting `election` under `record` (empty when it checks out)."""
    problems = []
    digest = input_digest(election)
    if digest != record.input_sha256:
        problems.append(f"votes differ: digest {digest}, record says {record.input_sha256}")
    outcome = count(election, record.spec)
    if outcome.order != record.order:
        problems.append(f"outcome differs: recount gives {outcome.order}, record says "
                        f"{record.order}")
    if Fraction(outcome.total_cost) != record.total_cost:
        problems.append(f"total cost differs: {format_number(outcome.total_cost)}")
    return problems
