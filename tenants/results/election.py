"""From a cycle's ballots to the counting engine's election, one envelope at a time.

The election is built deterministically (projects by code, ballots by id), so that the same
ballots always give the same pabulib text and therefore the same input hash.
"""

from __future__ import annotations

import math
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


def channel_multipliers(channels: dict[str, float]) -> dict[str, int]:
    """Channel weights as whole numbers of voters: a ballot weighing 1.5 counts as 1.5 voters,
    so every weight is scaled by one common denominator (1.5 and 1 become 3 and 2)."""
    fractions = {name: Fraction(str(weight)).limit_denominator(100) for name, weight in channels.items()}
    denominator = math.lcm(*(f.denominator for f in fractions.values())) if fractions else 1
    return {name: int(f * denominator) for name, f in fractions.items()}


def election_for(session: Session, cycle: Cycle, envelope: Envelope, *, unit: str) -> Election:
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
    multiplier = channel_multipliers(cycle.channels)
    ballots, counts = [], []
    for ballot_id in sorted(picks):
        chosen = picks[ballot_id]
        if vote_type == ORDINAL:
            ballots.append(Ballot(tuple(code for code, _ in sorted(chosen, key=lambda c: c[1]))))
        elif vote_type == CUMULATIVE:
            ballots.append(Ballot(tuple(code for code, _ in chosen), tuple(v for _, v in chosen)))
        else:
            ballots.append(Ballot(tuple(code for code, _ in chosen)))
        counts.append(multiplier.get(channel_of[ballot_id], 1))
    meta = {
        "description": f"{unit} — {cycle.name_en} — {envelope.name_en}",
        "country": "South Korea",
        "unit": unit,
        "subunit": envelope.name_ko,
        "instance": str(cycle.fiscal_year),
        "currency": "KRW",
    }
    return build_election(
        meta,
        [
            Project(p.code, Fraction(p.cost), {"name": p.title_ko, "category": p.category_key})
            for p in projects
        ],
        Fraction(envelope.budget),
        vote_type,
        ballots,
        counts,
    )
