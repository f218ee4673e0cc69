"""Ballot drafts: the selection a person is making in an envelope, kept on the server while
they browse, leave and come back, or sign in on the way (Decidim measured 20-25 % of
participants never confirming a ballot they had started).

A draft is keyed by the person's voter key, as their vote will be; it is read only for that
key, counted nowhere, and deleted by the very statement that casts the ballot (or strikes
the person off on site or on paper: see services._drafts_deleted). Saving checks what adding
could never fix (a project of another envelope, over the budget, too many picks, points or
ranks); what a selection still lacks (the minimum spend, min_k) it may lack until it is cast.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.refusals import NotFound
from tenants.cycles.models import VOTING, Cycle
from tenants.voting import selection as sel
from tenants.voting import sheets
from tenants.voting.models import BallotDraft
from tenants.voting.refusals import BallotRuleBroken, VotingClosed
from tenants.voting.sheets import BallotSheet


def drafts_of(session: Session, cycle_id: int, person_key: str) -> dict[int, dict[int, int]]:
    """The person's drafts in the cycle: {envelope id: {project id: value}}."""
    rows = session.execute(
        select(BallotDraft.envelope_id, BallotDraft.choices).where(
            BallotDraft.cycle_id == cycle_id, BallotDraft.person_key == person_key
        )
    ).all()
    return {envelope_id: {int(p): int(v) for p, v in choices.items()} for envelope_id, choices in rows}


def saved_at(session: Session, cycle_id: int, person_key: str, envelope_id: int) -> datetime | None:
    return session.scalar(
        select(BallotDraft.saved_at).where(
            BallotDraft.cycle_id == cycle_id,
            BallotDraft.person_key == person_key,
            BallotDraft.envelope_id == envelope_id,
        )
    )


def envelope_projects(sheet: BallotSheet, envelope_id: int) -> list[tuple[int, int]]:
    """(id, cost) of the envelope's projects on the sheet; NotFound for an envelope without."""
    projects = [(p.id, p.cost) for p in sheet.projects.values() if p.envelope_id == envelope_id]
    if not projects:
        raise NotFound(f"There is no envelope {envelope_id} on this ballot.")
    return projects


def do_save_draft(
    session: Session,
    sheet: BallotSheet | int,
    *,
    envelope_id: int,
    person_key: str,
    selection: Mapping[int, int],
) -> sel.Standing:
    """Keep `selection` as the person's draft of the envelope (an empty one deletes the
    draft), in the cycle of `sheet` (or of that id, its sheet read through the session) while
    it is in voting; returns where it stands.

    Raises VotingClosed (409) outside voting, NotFound for an envelope not on the sheet,
    ChoiceUnreadable for a project not in the envelope, BallotRuleBroken (422, the rule in
    `rule`) for a selection over what the ballot allows; then nothing is saved."""
    if isinstance(sheet, int):
        sheet = sheets.sheet(session.connection(), sheet)
    cycle: Cycle = sheet.cycle
    if cycle.status != VOTING:
        raise VotingClosed("Ballots can be prepared only while voting is open.", status_now=cycle.status)
    projects = envelope_projects(sheet, envelope_id)
    known = {pid for pid, _ in projects}
    for pid in selection:
        if pid not in known:
            raise sel.ChoiceUnreadable(
                f"Project {pid} is not in this envelope.", field="project", reason="not_on_ballot"
            )
    standing = sel.standing(cycle.ballot, sheet.envelopes[envelope_id].budget, projects, selection)
    if standing.over:
        raise BallotRuleBroken(
            f"The selection breaks the ballot's rule {standing.problem!r}; it was not saved.",
            rule=standing.problem or "over",
            envelope_id=envelope_id,
            errors={"choices": [f"{standing.problem}: over what the ballot allows"]},
        )
    key = {"cycle_id": cycle.id, "person_key": person_key, "envelope_id": envelope_id}
    chosen = standing.chosen
    if not chosen:
        session.execute(delete(BallotDraft).filter_by(**key))
    else:
        values = {**key, "choices": {str(p): v for p, v in chosen.items()}, "saved_at": clock.now()}
        upsert = insert(BallotDraft).values(values)
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=list(key),
                set_={"choices": upsert.excluded.choices, "saved_at": upsert.excluded.saved_at},
            )
        )
    session.commit()
    return standing


def do_discard_drafts(session: Session, cycle_id: int, person_key: str) -> int:
    """Forget the person's drafts in the cycle; returns how many there were."""
    gone = session.execute(
        delete(BallotDraft)
        .where(BallotDraft.cycle_id == cycle_id, BallotDraft.person_key == person_key)
        .returning(BallotDraft.envelope_id)
    ).all()
    session.commit()
    return len(gone)
