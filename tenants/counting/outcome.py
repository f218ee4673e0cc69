"""What a rule returns: the selection, its order, and why each project is in or out."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

SELECTED = "selected"
REJECTED = "rejected"


@dataclass
class Reason:
    status: str  # SELECTED or REJECTED
    text: str
    # Machine-readable facts behind the text (round, price per unit of utility, money left...).
    facts: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"status": self.status, "reason": self.text, **{
            k: json_number(v) for k, v in self.facts.items()
        }}


@dataclass
class Outcome:
    order: list[str]
    total_cost: Fraction
    reasons: dict[str, Reason] = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    @property
    def selected(self) -> list[str]:
        return sorted(self.order)


def json_number(value):
    """Exact numbers as JSON: integers stay integers, other fractions become decimal strings
    (with the exact fraction beside them when they do not terminate)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        return {"approx": float(value), "exact": f"{value.numerator}/{value.denominator}"}
    if isinstance(value, list):
        return [json_number(v) for v in value]
    if isinstance(value, dict):
        return {k: json_number(v) for k, v in value.items()}
    return value
