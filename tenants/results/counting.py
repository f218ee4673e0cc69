"""Counting one envelope with the cycle's rule, into a record that anyone can recount.

The record holds the rule and all its parameters, the tie-breaking chain (with its seed),
the input hash (SHA-256 of the election as a pabulib file) and the outcome with a reason for
every project; its own hash covers all of it.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any

from tenants.counting.election import CUMULATIVE, ORDINAL, Election
from tenants.counting.greedy import greedy
from tenants.counting.mes import equal_shares
from tenants.counting.outcome import REJECTED, SELECTED, Outcome, Reason, json_number
from tenants.counting.pabulib import write_pabulib
from tenants.counting.tiebreak import tie_key

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


def blended(
    election: Election,
    sat: str,
    chain: str,
    *,
    vote_weight: float,
    committee_weight: float,
    committee: dict[str, float],
) -> Outcome:
    """Rank by vote_weight × votes / most votes + committee_weight × committee score (0..1),
    then take projects in that order while they fit the budget."""
    from tenants.counting.satisfaction import voter_groups

    totals = voter_groups(election, "cardinality" if sat == "cost" else sat).totals()
    top = max(totals.values(), default=0) or 1
    wv, wc = Fraction(str(vote_weight)), Fraction(str(committee_weight))
    score = {
        p: wv * Fraction(totals[p]) / Fraction(top) + wc * Fraction(str(committee.get(p, 0)))
        for p in election.projects
    }
    key = tie_key(election, chain)
    order, reasons, left = [], {}, election.budget
    for rank, pid in enumerate(sorted(election.projects, key=lambda p: (-score[p], key(p))), start=1):
        cost = election.projects[pid].cost
        facts = {"rank": rank, "score": score[pid], "votes": totals[pid], "committee": committee.get(pid, 0)}
        if cost <= left:
            order.append(pid)
            left -= cost
            reasons[pid] = Reason(SELECTED, f"ranked {rank} by blended score and fits the budget", facts)
        else:
            reasons[pid] = Reason(REJECTED, f"ranked {rank} but costs more than the {left} left", facts)
    return Outcome(order, election.budget - left, reasons)


def count(
    election: Election, ballot_rules: dict[str, Any], *, seed: str, committee: dict[str, float] | None = None
) -> dict[str, Any]:
    """Count `election` under the cycle's ballot rules; return the record (with its hashes)."""
    counting = ballot_rules["counting"]
    rule = counting["rule"]
    sat = satisfaction(election.vote_type)
    chain = tie_break_chain(ballot_rules.get("tie_break", []), seed)
    parameters: dict[str, Any] = {"sat": sat}
    if rule == "greedy":
        outcome = greedy(election, sat, chain)
    elif rule == "greedy-threshold":
        threshold = Fraction(str(counting["threshold"])) * election.voter_count
        parameters["threshold_votes"] = str(threshold)
        outcome = greedy(election, sat, chain, threshold=threshold)
    elif rule == "mes":
        parameters.update(
            completion=counting["completion"], fill="greedy" if counting.get("fill") else "none"
        )
        outcome = equal_shares(
            election,
            sat,
            chain,
            completion=counting["completion"],
            fill="greedy" if counting.get("fill") else None,
        )
    elif rule == "blended":
        parameters.update(
            vote_weight=counting["vote_weight"],
            committee_weight=counting["committee_weight"],
            committee_scores={p: committee.get(p, 0) for p in sorted(election.projects)} if committee else {},
        )
        outcome = blended(
            election,
            sat,
            chain,
            vote_weight=counting["vote_weight"],
            committee_weight=counting["committee_weight"],
            committee=committee or {},
        )
    else:
        raise ValueError(f"unknown counting rule {rule!r}")
    pabulib = write_pabulib(election)
    record = {
        "version": RECORD_VERSION,
        "rule": rule,
        "parameters": parameters,
        "tie_break": chain,
        "budget": json_number(election.budget),
        "voters": election.voter_count,
        "input_hash": hashlib.sha256(pabulib.encode()).hexdigest(),
        "selected": outcome.selected,
        "order": outcome.order,
        "total_cost": json_number(outcome.total_cost),
        "reasons": {pid: reason.as_json() for pid, reason in sorted(outcome.reasons.items())},
    }
    record["result_hash"] = canonical_hash(record)
    return record
