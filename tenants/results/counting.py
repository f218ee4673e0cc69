"""Counting one envelope with the cycle's rule, into a record that anyone can recount.

The counting itself is the engine's (`tenants.counting`): its rules, channel weights and
blended rule. This module maps a cycle's ballot rules (the templates' vocabulary) onto the
engine's rule specification, and keeps, besides the engine's record, a reason for every
project so that published results explain themselves. The record's own hash covers it all.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any

from tenants.counting.election import CUMULATIVE, ORDINAL, Election
from tenants.counting.envelopes import blended, channel_election
from tenants.counting.outcome import json_number
from tenants.counting.record import ENGINE, input_digest
from tenants.counting.rules import RuleSpec
from tenants.counting.rules import count as count_rule

RECORD_VERSION = 1
_TIE_BREAKS = {"votes_desc": "max-votes", "cost_asc": "min-cost"}


def tie_break_chain(template_chain: list[str], seed: str) -> str:
    """The template's tie-breaks in the engine's words; the lottery is seeded per cycle and
    published in the record, so a recount draws the same lots."""
    chain = [_TIE_BREAKS[c] for c in template_chain if c in _TIE_BREAKS]
    if "lottery" in template_chain:
        chain.append(f"lot:{seed}")
    return ",".join(chain) or "id"


def satisfaction(vote_type: str) -> str:
    return {CUMULATIVE: "points", ORDINAL: "borda"}.get(vote_type, "cost")


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def rule_spec(ballot_rules: dict[str, Any], vote_type: str, voters: int, chain: str) -> RuleSpec | None:
    """The engine's rule for the cycle's counting settings (None for the blended rule)."""
    counting = ballot_rules["counting"]
    sat = satisfaction(vote_type)
    if counting["rule"] == "greedy":
        return RuleSpec("greedy", sat=sat, tie_break=chain)
    if counting["rule"] == "greedy-threshold":
        threshold = Fraction(str(counting["threshold"])) * voters
        return RuleSpec("greedy-threshold", sat=sat, tie_break=chain, threshold=threshold)
    if counting["rule"] == "mes":
        return RuleSpec(
            "mes",
            sat=sat,
            tie_break=chain,
            completion=counting["completion"],
            fill="greedy" if counting.get("fill") else "none",
        )
    return None


def count(
    by_channel: dict[str, Election],
    ballot_rules: dict[str, Any],
    channels: dict[str, float],
    *,
    seed: str,
    committee: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Count one envelope (its ballots split by channel) under the cycle's ballot rules.

    Channel weights multiply utilities for the greedy rules; MES gives every voter an equal
    share, so its weights are all 1 (and the record says so)."""
    first = next(iter(by_channel.values()))
    chain = tie_break_chain(ballot_rules.get("tie_break", []), seed)
    rule = ballot_rules["counting"]["rule"]
    weights = {c: Fraction(str(channels.get(c, 1))) for c in by_channel}
    if rule == "mes":
        weights = dict.fromkeys(by_channel, Fraction(1))
    election, groups = channel_election(by_channel, weights, satisfaction(first.vote_type))
    spec = rule_spec(ballot_rules, election.vote_type, election.voter_count, chain)
    if spec is None:
        counting = ballot_rules["counting"]
        scores = {p: Fraction(str((committee or {}).get(p, 0))) for p in sorted(election.projects)}
        outcome = blended(
            election,
            scores,
            Fraction(str(counting["vote_weight"])),
            Fraction(str(counting["committee_weight"])),
            chain,
        )
        described = {
            "rule": "blended",
            "vote_weight": counting["vote_weight"],
            "committee_weight": counting["committee_weight"],
            "tie_break": chain,
            "committee_scores": {p: str(s) for p, s in scores.items()},
        }
    else:
        outcome = count_rule(election, spec, groups=None if rule == "mes" else groups)
        described = spec.as_json()
    record = {
        "version": RECORD_VERSION,
        "engine": ENGINE,
        "rule": rule,
        "spec": described,
        "tie_break": chain,
        "channel_weights": {c: str(w) for c, w in sorted(weights.items())},
        "budget": json_number(election.budget),
        "voters": election.voter_count,
        "input_hash": input_digest(election),
        "selected": outcome.selected,
        "order": outcome.order,
        "total_cost": json_number(outcome.total_cost),
        "reasons": {pid: reason.as_json() for pid, reason in sorted(outcome.reasons.items())},
    }
    record["result_hash"] = canonical_hash(record)
    return record
