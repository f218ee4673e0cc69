"""Counting rules a municipality layers on top of the plain rules.

- Envelopes: one cycle, several budgets counted independently (city-wide and per dong, or per
  district), each over its own projects.
- Channel weights: ballots cast on site may weigh more than online ones where an ordinance
  says so; a weight multiplies the voter's utilities, so vote totals are weighted.
- Blended rule: rank by w_vote x normalised votes + w_committee x committee score, then fund
  greedily; used where a citizens' committee's review counts towards the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from tenants.counting.election import Ballot, Election, build_election
from tenants.counting.outcome import REJECTED, SELECTED, Outcome, Reason
from tenants.counting.rules import RuleSpec, count
from tenants.counting.satisfaction import VoterGroups, voter_groups
from tenants.counting.tiebreak import DEFAULT_CHAIN, tie_key


@dataclass(frozen=True)
class Envelope:
    name: str
    budget: Fraction
    project_ids: frozenset[str]


def envelope_election(election: Election, envelope: Envelope) -> Election:
    """The part of `election` an envelope counts: its projects, its budget, and the voters
    who chose at least one of them (MES shares the envelope among those voters)."""
    unknown = envelope.project_ids - election.projects.keys()
    if unknown:
        raise ValueError(f"envelope {envelope.name!r} names unknown projects {sorted(unknown)}")
    ballots, counts = [], []
    for ballot, n in zip(election.ballots, election.counts, strict=True):
        keep = [i for i, p in enumerate(ballot.projects) if p in envelope.project_ids]
        if not keep:
            continue
        points = tuple(ballot.points[i] for i in keep) if ballot.points else ()
        ballots.append(Ballot(tuple(ballot.projects[i] for i in keep), points))
        counts.append(n)
    projects = [p for pid, p in election.projects.items() if pid in envelope.project_ids]
    meta = dict(election.meta, subunit=envelope.name)
    return build_election(meta, projects, envelope.budget, election.vote_type, ballots, counts)


def count_envelopes(
    election: Election, envelopes: list[Envelope], spec: RuleSpec
) -> dict[str, Outcome]:
    """Each envelope counted on its own; a project may belong to one envelope only."""
    seen: dict[str, str] = {}
    for envelope in envelopes:
        for pid in envelope.project_ids:
            if pid in seen:
                raise ValueError(f"project {pid!r} is in envelopes {seen[pid]!r} and "
                                 f"{envelope.name!r}")
            seen[pid] = envelope.name
    return {e.name: count(envelope_election(election, e), spec) for e in envelopes}


def channel_election(
    by_channel: Mapping[str, Election], weights: Mapping[str, Fraction], sat: str
) -> tuple[Election, VoterGroups]:
    """Merge the ballots of several channels (same projects and budget) into one election,
    with voter groups whose utilities carry each channel's weight. Greedy rules count with
    these groups; MES does not take weights (it gives every voter an equal share)."""
    channels = list(by_channel)
    if not channels:
        raise ValueError("no channel")
    first = by_channel[channels[0]]
    ballots, counts, weight_list = [], [], []
    for name in channels:
        part = by_channel[name]
        if part.projects.keys() != first.projects.keys() or part.budget != first.budget:
            raise ValueError(f"channel {name!r} does not count the same projects and budget")
        weight = Fraction(weights.get(name, 1))
        if weight < 0:
            raise ValueError(f"channel {name!r} has a negative weight")
        ballots += part.ballots
        counts += part.counts
        weight_list += [weight] * len(part.ballots)
    merged = Election(dict(first.meta), first.projects, first.budget, first.vote_type,
                      ballots, counts)
    return merged, voter_groups(merged, sat, weights=weight_list)


def count_weighted(election: Election, groups: VoterGroups, spec: RuleSpec) -> Outcome:
    if spec.rule == "mes":
        raise ValueError("channel weights apply to greedy rules; MES gives every voter an "
                         "equal share")
    return count(election, spec, groups=groups)


def blended(
    election: Election,
    committee_scores: Mapping[str, Fraction],
    w_vote: Fraction,
    w_committee: Fraction,
    tie_break: str = DEFAULT_CHAIN,
) -> Outcome:
    """Rank by w_vote x votes / top votes + w_committee x score / top score, fund greedily
    (skipping what no longer fits). Both terms are normalised to [0, 1] by their maximum, so
    the weights say how much each side counts."""
    votes = election.supporters()
    top_votes = max(votes.values(), default=0) or 1
    top_score = max((Fraction(s) for s in committee_scores.values()), default=0) or 1
    score = {
        p: Fraction(w_vote) * Fraction(votes[p], top_votes)
        + Fraction(w_committee) * Fraction(committee_scores.get(p, 0)) / top_score
        for p in election.projects
    }
    key = tie_key(election, tie_break)
    order: list[str] = []
    reasons: dict[str, Reason] = {}
    left = election.budget
    ranked = sorted(election.projects, key=lambda p: (-score[p], key(p)))
    for rank, pid in enumerate(ranked, 1):
        cost = election.projects[pid].cost
        facts = {"rank": rank, "blended_score": score[pid], "votes": votes[pid],
                 "committee_score": Fraction(committee_scores.get(pid, 0))}
        if cost <= left:
            order.append(pid)
            left -= cost
            reasons[pid] = Reason(SELECTED, f"rank {rank} by blended score; fits", facts)
        else:
            reasons[pid] = Reason(REJECTED, f"rank {rank} by blended score; costs {cost}, "
                                  f"only {left} left", facts)
    return Outcome(order, election.budget - left, reasons, {"rule": "blended"})
