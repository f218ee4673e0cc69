"""Our outcome for a conformance rule id (`rule/sat[/completion[/fill]]`)."""

from __future__ import annotations

from tenants.counting.election import Election
from tenants.counting.rules import RuleSpec, count


def spec_for(rule_id: str) -> RuleSpec:
    parts = rule_id.split("/")
    if parts[0] == "greedy":
        return RuleSpec("greedy", parts[1])
    fill = parts[3] if len(parts) > 3 else "none"
    return RuleSpec("mes", parts[1], completion=parts[2], fill=fill)


def selected(election: Election, rule_id: str) -> list[str]:
    return count(election, spec_for(rule_id)).selected
