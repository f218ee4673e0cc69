"""From a cycle's ballots to the counting engine's election, one envelope at a time.

The election is built deterministically (projects by code, ballots by id), so that the same
ballots always give the same pabulib text and therefore the same input hash.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants.counting.election import APPROVAL, CUMULATIVE, ORDINAL, Ballot, Election, Project, build_election
from tenants.cycles.models import Cycle, Envelope
from tenants.proposals.models import Project as BallotProject
from tenants.voting.models import Ballot as CastBallot
from tenants.voting.models import BallotChoice

VOTE_TYPES = {"approval": APPROVAL, "knapsack": APPROVAL, "cumulative": CUMULATIVE, "ranked": ORDINAL}


def elections_by_channel(
    session: Session, cycle: Cycle, envelope: Envelope, *, unit: str
) -> dict[str, Election]:
    """One election per channel (same projects and budget), for channel-weighted counting."""
    projects = list(
        session.scalars(
            select(BallotProject).where(BallotProject.envelope_id == envelope.id).order_by(BallotProject.code)
        )
    )
    code_of = {p.id: p.code for p in projects}
    rows = session.execute(
        select(BallotChoice.ballot_id, BallotChoice.project_id, BallotChoice.value, CastBallot.channel)
        .join(CastBallot, CastBallot.id == BallotChoice.ballot_id)
        .where(BallotChoice.envelope_id == envelope.id)
        .order_by(BallotChoice.ballot_id, BallotChoice.project_id)
    ).all()
    picks: dict[int, list[tuple[str, int]]] = defaultdict(list)
    channel_of: dict[int, str] = {}
    for ballot_id, project_id, value, channel in rows:
        picks[ballot_id].append((code_of[project_id], value))
        channel_of[ballot_id] = channel
    vote_type = VOTE_TYPES[cycle.ballot["type"]]
    ballots: dict[str, list[Ballot]] = defaultdict(list)
    for ballot_id in sorted(picks):
        chosen = picks[ballot_id]
        if vote_type == ORDINAL:
            ballot = Ballot(tuple(code for code, _ in sorted(chosen, key=lambda c: c[1])))
        elif vote_type == CUMULATIVE:
            ballot = Ballot(tuple(code for code, _ in chosen), tuple(v for _, v in chosen))
        else:
            ballot = Ballot(tuple(code for code, _ in chosen))
        ballots[channel_of[ballot_id]].append(ballot)
    meta = {
        "description": f"{unit} — {cycle.name_en} — {envelope.name_en}",
        "country": "South Korea",
        "unit": unit,
        "subunit": envelope.name_ko,
        "instance": str(cycle.fiscal_year),
        "currency": "KRW",
    }
    counted = [
        Project(p.code, Fraction(p.cost), {"name": p.title_ko, "category": p.category_key}) for p in projects
    ]
    channels = sorted(ballots) or ["online"]
    return {
        channel: build_election(meta, counted, Fraction(envelope.budget), vote_type, ballots.get(channel, []))
        for channel in channels
    }


def election_for(session: Session, cycle: Cycle, envelope: Envelope, *, unit: str) -> Election:
    """Every ballot of the envelope in one election (for export: weights are not pabulib's)."""
    parts = list(elections_by_channel(session, cycle, envelope, unit=unit).values())
    first = parts[0]
    return build_election(
        first.meta,
        list(first.projects.values()),
        first.budget,
        first.vote_type,
        [ballot for part in parts for ballot in part.ballots],
        [n for part in parts for n in part.counts],
    )
