"""A cycle's ballot sheet: what a ballot is checked against (rules, eligibility, projects and
their envelopes), read in one statement.

Once voting opens a cycle's sheet is frozen (every change is refused with 409, and phases only
move forward), so each process keeps the sheets of cycles in voting and checks ballots against
them without reading them again. A kept sheet is only ever used together with a write that
checks, in the same statement, that the cycle is still in the voting it was read in (same
`voting_opened_at`); when that check fails the sheet is read afresh (`reread`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from saas.core.refusals import NotFound
from saas.core.tenancy.binding import bound_schema
from tenants.cycles.models import VOTING, Cycle, Envelope
from tenants.proposals.models import Project


@dataclass(frozen=True)
class BallotSheet:
    """Transient objects built from rows; never added to a session, never changed."""

    cycle: Cycle
    projects: dict[int, Project]
    envelopes: dict[int, Envelope]  # those that hold a project


# Built once: building a statement costs about as much as running it.
_SHEET = (
    select(
        Cycle.status,
        Cycle.fiscal_year,
        Cycle.voting_opened_at,
        Cycle.ballot,
        Cycle.eligibility,
        Project.id.label("project_id"),
        Project.code,
        Project.cost,
        Project.envelope_id,
        Envelope.key.label("envelope_key"),
        Envelope.scope,
        Envelope.area_code,
        Envelope.name_en,
        Envelope.budget,
    )
    .select_from(Cycle)
    .outerjoin(Project, Project.cycle_id == Cycle.id)
    .outerjoin(Envelope, Envelope.id == Project.envelope_id)
    .where(Cycle.id == bindparam("cycle_id"))
)

# (tenant schema, cycle id) → sheet of a cycle in voting, the oldest dropped past 256. A sheet
# of 200 projects takes ~234 KB, so a full process holds ~60 MB. Of 10,000 tenants only those
# voting through this process at the same time need one; past 256 of them, a dropped sheet is
# read again (one statement) by its next ballot.
_KEPT: dict[tuple[str | None, int], BallotSheet] = {}
_MAX_KEPT = 256


def _read(connection: Connection, cycle_id: int) -> BallotSheet:
    rows = connection.execute(_SHEET, {"cycle_id": cycle_id}).all()
    if not rows:
        raise NotFound(f"There is no cycle {cycle_id}.")
    first = rows[0]
    cycle = Cycle(
        id=cycle_id,
        status=first.status,
        fiscal_year=first.fiscal_year,
        voting_opened_at=first.voting_opened_at,
        ballot=first.ballot,
        eligibility=first.eligibility,
    )
    projects: dict[int, Project] = {}
    envelopes: dict[int, Envelope] = {}
    for row in rows:
        if row.project_id is None:  # a cycle with no project yet
            continue
        projects[row.project_id] = Project(
            id=row.project_id, code=row.code, cost=row.cost, envelope_id=row.envelope_id
        )
        envelopes.setdefault(
            row.envelope_id,
            Envelope(
                id=row.envelope_id,
                key=row.envelope_key,
                scope=row.scope,
                area_code=row.area_code,
                name_en=row.name_en,
                budget=row.budget,
            ),
        )
    return BallotSheet(cycle, projects, envelopes)


def sheet(connection: Connection, cycle_id: int) -> BallotSheet:
    """The sheet of cycle `cycle_id` in the connection's tenant: kept while it is in voting.
    Raises NotFound for an unknown cycle."""
    key = (bound_schema(connection), cycle_id)
    kept = _KEPT.get(key)
    if kept is not None:
        return kept
    return _keep(key, _read(connection, cycle_id))


def reread(connection: Connection, cycle_id: int) -> BallotSheet:
    """Forget the kept sheet (a write found the cycle no longer in that voting) and read it."""
    key = (bound_schema(connection), cycle_id)
    _KEPT.pop(key, None)
    return _keep(key, _read(connection, cycle_id))


def _keep(key: tuple[str | None, int], read: BallotSheet) -> BallotSheet:
    if read.cycle.status == VOTING:
        if len(_KEPT) >= _MAX_KEPT:
            with contextlib.suppress(RuntimeError, StopIteration):  # another thread changed it
                _KEPT.pop(next(iter(_KEPT)), None)  # the oldest sheet
        _KEPT[key] = read
    return read
