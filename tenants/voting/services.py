"""Casting ballots: online, on site (an officer checks the person in), and on paper
(numbered ballots entered twice by two staff members, counted once reconciled).

One ballot per person and cycle across every channel: the voter mark's primary key decides,
in the same transaction as the ballot, so concurrent attempts leave exactly one.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, Select, bindparam, delete, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from saas import clock
from saas.audit import services as audit
from saas.tenancy.binding import DriverStatement
from saas.tenancy.context import TenantRef
from tenants.cycles.models import VOTING, Cycle
from tenants.cycles.services import cycle_or_404, require_phase
from tenants.errors import Conflict, Invalid, NotFound, PortalError
from tenants.proposals.models import Project
from tenants.voting import sheets
from tenants.voting.models import Ballot, BallotChoice, PaperBatch, PaperEntry, VoterMark
from tenants.voting.rules import check_eligibility, entitled_envelopes, validate_ballot


def voter_key(secret: str, identity: str) -> str:
    """The key a person is struck off under: the same for a person on every channel.

    Online the identity is the signed-in person; on site the officer scans the voter card that
    shows this key (or keys in an identity document). Keyed hashing keeps identities out of the
    voting tables."""
    return hmac.new(secret.encode(), identity.strip().encode(), hashlib.sha256).hexdigest()


def _projects(session: Session, cycle: Cycle) -> dict[int, Project]:
    """The cycle's projects."""
    return {p.id: p for p in session.scalars(select(Project).where(Project.cycle_id == cycle.id))}


_MARK_COLUMNS = ("person_key", "channel", "basis", "birth_year", "district_code", "marked_by")


def _mark_and_ballot_statement() -> Select:
    """Strike the person off and, if that struck them off (`with_ballot` true), store the
    ballot and its choices: one statement, one round trip, atomic on its own.

    Nothing is written unless the cycle is, as the statement runs, in the voting that the
    ballot was checked for (`in_voting`: same `voting_opened_at`). The voter mark's primary
    key is the arbiter: a person already marked inserts nothing here, neither mark nor ballot.
    Built once, not per ballot (building one costs about as much as running it); values are
    bind parameters (arrays, not expanded IN lists)."""
    in_voting = (
        select(Cycle.id)
        .where(
            Cycle.id == bindparam("cycle_id"),
            Cycle.status == VOTING,
            Cycle.voting_opened_at == bindparam("voting_opened_at"),
        )
        .cte("in_voting")
    )
    table = VoterMark.__table__
    # The moment comes from the platform clock, as a bind: from_select would otherwise render
    # the columns' Python defaults once, when the statement is built.
    at = bindparam("at", type_=table.c.marked_at.type)
    mark = (
        insert(VoterMark)
        .from_select(
            ["cycle_id", *_MARK_COLUMNS, "marked_at"],
            select(in_voting.c.id, *(bindparam(c, type_=table.c[c].type) for c in _MARK_COLUMNS), at),
        )
        .on_conflict_do_nothing()
        .returning(VoterMark.cycle_id, VoterMark.channel)
        .cte("mark")
    )
    ballot = (
        insert(Ballot)
        .from_select(
            ["cycle_id", "channel", "cast_at"],
            select(mark.c.cycle_id, mark.c.channel, at).where(bindparam("with_ballot", type_=Boolean)),
        )
        .returning(Ballot.id)
        .cte("ballot")
    )
    picks = (
        func.unnest(
            bindparam("project_ids", type_=ARRAY(BigInteger)),
            bindparam("envelope_ids", type_=ARRAY(BigInteger)),
            bindparam("values", type_=ARRAY(Integer)),
        )
        .table_valued("project_id", "envelope_id", "value")
        .render_derived(name="pick")
    )
    choices = insert(BallotChoice).from_select(
        ["ballot_id", "project_id", "envelope_id", "value"],
        select(ballot.c.id, picks.c.project_id, picks.c.envelope_id, picks.c.value).join_from(
            ballot, picks, true()
        ),
    )
    return select(
        select(func.count()).select_from(in_voting).scalar_subquery().label("in_voting"),
        select(func.count()).select_from(mark).scalar_subquery().label("marked"),
        select(ballot.c.id).scalar_subquery().label("ballot_id"),
    ).add_cte(choices.cte("choices"))


_MARK_AND_BALLOT = DriverStatement(_mark_and_ballot_statement())


def _strike_off_and_store(
    connection: Connection,
    cycle: Cycle,
    chosen: dict[int, list[tuple[Project, int]]] | None,
    *,
    person_key: str,
    channel: str,
    basis: str,
    birth_year: int,
    district_code: str | None,
    marked_by: str,
) -> tuple[bool, bool, int | None]:
    """Mark the person and store `chosen` (None: a paper ballot, entered later) in one
    statement. Returns whether the cycle was still in that voting, whether the person was
    struck off (not marked before, on any channel), and the ballot's id."""
    picks = [
        (project.id, envelope_id, value)
        for envelope_id, picked in (chosen or {}).items()
        for project, value in picked
    ]
    in_voting, marked, ballot_id = _MARK_AND_BALLOT.first(
        connection,
        {
            "cycle_id": cycle.id,
            "voting_opened_at": cycle.voting_opened_at,
            "at": clock.now(),
            "person_key": person_key,
            "channel": channel,
            "basis": basis,
            "birth_year": birth_year,
            "district_code": district_code,
            "marked_by": marked_by,
            "with_ballot": chosen is not None,
            "project_ids": [p for p, _, _ in picks],
            "envelope_ids": [e for _, e, _ in picks],
            "values": [v for _, _, v in picks],
        },
    )
    return bool(in_voting), bool(marked), ballot_id


def _store_ballot(
    session: Session,
    cycle: Cycle,
    chosen: dict[int, list[tuple[Project, int]]],
    *,
    channel: str,
    paper_batch_id: int | None = None,
    paper_number: int | None = None,
) -> Ballot:
    ballot = Ballot(
        cycle_id=cycle.id, channel=channel, paper_batch_id=paper_batch_id, paper_number=paper_number
    )
    session.add(ballot)
    session.flush()
    session.execute(
        insert(BallotChoice),
        [
            {"ballot_id": ballot.id, "project_id": project.id, "envelope_id": envelope_id, "value": value}
            for envelope_id, picks in chosen.items()
            for project, value in picks
        ],
    )
    return ballot


def do_vote(
    connection: Connection,
    cycle_id: int,
    *,
    person_key: str,
    channel: str,
    voter: dict[str, Any],
    choices: list[dict[str, Any]] | None,
    marked_by: str,
    sheet: sheets.BallotSheet | None = None,
) -> int | None:
    """Strike the person off and (with `choices`) store their ballot; returns the ballot's id
    (the receipt), None for a paper ballot.

    `connection` is in autocommit (`db_autocommit()`): the write is one statement, atomic on
    its own, committed as it runs. `sheet` is the cycle's ballot sheet if the caller has it.

    `channel` is online (the person votes), onsite (an officer checks the person in and the
    ballot is entered on site), or paper (an officer checks the person in; the paper ballot
    is entered later in a batch, so `choices` is None). Raises Conflict if voting is not open
    or the person already voted on any channel, Invalid if they may not vote or the ballot
    breaks a rule."""
    district_code = voter.get("district_code")
    sheet, fresh = sheet or sheets.sheet(connection, cycle_id), False
    while True:
        # A kept sheet may be of a voting that is no longer the cycle's: neither a refusal
        # nor a write stands on it until the sheet, read afresh, says the same.
        cycle = sheet.cycle
        try:
            require_phase(cycle, VOTING, action="Voting")
            check_eligibility(cycle, basis=voter["basis"], birth_year=voter["birth_year"])
            chosen = None
            if choices is not None:
                envelopes = entitled_envelopes(sheet.envelopes.values(), district_code)
                chosen = validate_ballot(cycle, envelopes, sheet.projects, choices)
        except PortalError:
            if fresh:
                raise
            sheet, fresh = sheets.reread(connection, cycle_id), True
            continue
        in_voting, marked, ballot_id = _strike_off_and_store(
            connection,
            cycle,
            chosen,
            person_key=person_key,
            channel=channel,
            basis=voter["basis"],
            birth_year=voter["birth_year"],
            district_code=district_code,
            marked_by=marked_by,
        )
        if in_voting:
            break
        if fresh:
            raise Conflict("Voting closed while the ballot was being cast.")
        sheet, fresh = sheets.reread(connection, cycle_id), True
    if not marked:
        previous = has_voted(connection, cycle_id, person_key)
        raise Conflict(f"This person has already voted in this cycle ({previous or 'another channel'}).")
    return ballot_id


def has_voted(executor: Session | Connection, cycle_id: int, person_key: str) -> str | None:
    return executor.scalar(
        select(VoterMark.channel).where(VoterMark.cycle_id == cycle_id, VoterMark.person_key == person_key)
    )


# Paper ballots ------------------------------------------------------------------------------


def batch_or_404(session: Session, cycle_id: int, batch_id: int, *, lock: bool = False) -> PaperBatch:
    statement = select(PaperBatch).where(PaperBatch.id == batch_id, PaperBatch.cycle_id == cycle_id)
    batch = session.scalar(statement.with_for_update() if lock else statement)
    if batch is None:
        raise NotFound(f"Cycle {cycle_id} has no paper batch {batch_id}.")
    return batch


def do_open_batch(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    *,
    number: int,
    first_ballot: int,
    last_ballot: int,
    actor: str,
) -> PaperBatch:
    cycle = cycle_or_404(session, cycle_id)
    require_phase(cycle, VOTING, "results", action="Opening a paper batch")
    if last_ballot < first_ballot:
        raise Invalid(
            "The last ballot number is below the first.", errors={"last_ballot": ["below first_ballot"]}
        )
    if session.scalar(
        select(PaperBatch.id).where(PaperBatch.cycle_id == cycle.id, PaperBatch.number == number)
    ):
        raise Conflict(f"Batch {number} already exists.")
    overlapping = session.scalar(
        select(PaperBatch.number).where(
            PaperBatch.cycle_id == cycle.id,
            PaperBatch.first_ballot <= last_ballot,
            PaperBatch.last_ballot >= first_ballot,
        )
    )
    if overlapping is not None:
        raise Conflict(f"Ballot numbers {first_ballot}–{last_ballot} overlap batch {overlapping}.")
    batch = PaperBatch(cycle_id=cycle.id, number=number, first_ballot=first_ballot, last_ballot=last_ballot)
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="paper.batch_open",
        tenant_slug=tenant.slug,
        target=f"paper_batch:{batch.id}",
        data={"number": number},
    )
    session.commit()
    return batch


def do_enter_batch(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    batch_id: int,
    *,
    round_: int,
    entries: list[dict[str, Any]],
    actor: str,
) -> int:
    """Record one of the two independent entries of a batch (every ballot number in it).
    The second entry must come from another staff member than the first."""
    batch = batch_or_404(session, cycle_id, batch_id, lock=True)
    if batch.status != "open":
        raise Conflict("The batch is reconciled; it can no longer change.")
    numbers = [e["ballot_number"] for e in entries]
    expected = list(range(batch.first_ballot, batch.last_ballot + 1))
    if sorted(numbers) != expected:
        raise Invalid(
            f"Enter every ballot {batch.first_ballot}–{batch.last_ballot} exactly once.",
            errors={"entries": ["ballot numbers do not match the batch"]},
        )
    other_round = 2 if round_ == 1 else 1
    other_clerk = session.scalar(
        select(PaperEntry.entered_by)
        .where(PaperEntry.batch_id == batch.id, PaperEntry.round == other_round)
        .limit(1)
    )
    if other_clerk == actor:
        raise Conflict("The two entries of a batch must be made by two different staff members.")
    session.execute(delete(PaperEntry).where(PaperEntry.batch_id == batch.id, PaperEntry.round == round_))
    session.execute(
        insert(PaperEntry),
        [
            {
                "batch_id": batch.id,
                "round": round_,
                "ballot_number": e["ballot_number"],
                "entered_by": actor,
                "choices": {str(c["project_id"]): c.get("value", 1) for c in e["choices"]},
            }
            for e in entries
        ],
    )
    audit.record(
        session,
        actor=actor,
        action="paper.batch_entry",
        tenant_slug=tenant.slug,
        target=f"paper_batch:{batch.id}",
        data={"round": round_, "ballots": len(entries)},
    )
    session.commit()
    return len(entries)


def batch_mismatches(session: Session, batch: PaperBatch) -> list[dict[str, Any]]:
    """Ballot numbers whose two entries differ (or where an entry is missing)."""
    rows = session.scalars(select(PaperEntry).where(PaperEntry.batch_id == batch.id)).all()
    by_number: dict[int, dict[int, dict]] = {}
    for row in rows:
        by_number.setdefault(row.ballot_number, {})[row.round] = row.choices
    mismatches = []
    for number in range(batch.first_ballot, batch.last_ballot + 1):
        entered = by_number.get(number, {})
        first, second = entered.get(1), entered.get(2)
        if first is None or second is None or first != second:
            mismatches.append({"ballot_number": number, "first_entry": first, "second_entry": second})
    return mismatches


def do_reconcile_batch(
    session: Session, tenant: TenantRef, cycle_id: int, batch_id: int, *, actor: str
) -> dict[str, Any]:
    """If both entries agree on every ballot, turn the batch into counted ballots (invalid
    ones are set aside and listed); otherwise list the mismatches and change nothing."""
    cycle = cycle_or_404(session, cycle_id)
    batch = batch_or_404(session, cycle_id, batch_id, lock=True)
    if batch.status != "open":
        raise Conflict("The batch is already reconciled.")
    mismatches = batch_mismatches(session, batch)
    if mismatches:
        return {"reconciled": False, "mismatches": mismatches, "counted": 0, "invalid": []}
    projects = _projects(session, cycle)
    counted, invalid = 0, []
    entries = session.scalars(
        select(PaperEntry)
        .where(PaperEntry.batch_id == batch.id, PaperEntry.round == 1)
        .order_by(PaperEntry.ballot_number)
    ).all()
    for entry in entries:
        choices = [{"project_id": int(pid), "value": value} for pid, value in entry.choices.items()]
        try:
            # A paper ballot carries every envelope; the voter's dong was checked at check-in.
            chosen = validate_ballot(cycle, cycle.envelopes, projects, choices)
        except Invalid as error:
            invalid.append({"ballot_number": entry.ballot_number, "reason": error.message})
            continue
        _store_ballot(
            session, cycle, chosen, channel="paper", paper_batch_id=batch.id, paper_number=entry.ballot_number
        )
        counted += 1
    batch.status, batch.reconciled_at = "reconciled", clock.now()
    audit.record(
        session,
        actor=actor,
        action="paper.batch_reconcile",
        tenant_slug=tenant.slug,
        target=f"paper_batch:{batch.id}",
        data={"counted": counted, "invalid": len(invalid)},
    )
    session.commit()
    return {"reconciled": True, "mismatches": [], "counted": counted, "invalid": invalid}
