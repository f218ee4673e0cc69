"""Casting ballots: online, on site (an officer checks the person in), and on paper (an
officer checks the person in and hands out a numbered ballot; the ballots are entered twice
by two different people, in batches, and counted once reconciled).

One ballot per person and cycle across every channel: the voter mark's primary key decides,
in the same statement as the ballot (or the paper ballot's issue), so concurrent attempts
leave exactly one. No ballot lands after voting closed (online, on site) or after the count
(paper): see `do_vote` and `_cycle_taking_paper`.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    exc,
    exists,
    func,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.audit import services as audit
from saas.core.auth import current_principal
from saas.core.refusals import Conflict, Forbidden, Invalid, NotFound, Refusal
from saas.core.tenancy.binding import DriverStatement
from saas.core.tenancy.context import TenantRef
from tenants.cycles.models import VOTING, Cycle
from tenants.cycles.services import require_phase
from tenants.proposals.models import Project
from tenants.results.models import Result
from tenants.voting import receipts, sheets
from tenants.voting.models import (
    Ballot,
    BallotChoice,
    BallotDraft,
    PaperBallot,
    PaperBatch,
    PaperEntry,
    VoterMark,
)
from tenants.voting.refusals import AlreadyVoted, VotingClosed
from tenants.voting.rules import check_eligibility, check_online_identity, entitled_envelopes, validate_ballot

RESULTS = "results"  # the phase after voting, in which paper batches may still be reconciled


def voter_key(secret: str, identity: str) -> str:
    """The key a person is struck off under: the same for a person on every channel.

    Online the identity is the signed-in person; on site the officer scans the voter card that
    shows this key (or keys in an identity document: see `identity_document_key`). Keyed
    hashing keeps identities out of the voting tables; `secret` is the voter key secret
    (settings.voter_key_secret), never SECRET_KEY, so rotating that changes no one's key."""
    return hmac.new(secret.encode(), identity.strip().encode(), hashlib.sha256).hexdigest()


def sheet_for_online_vote(connection: Connection, cycle_id: int) -> sheets.BallotSheet:
    """The cycle's ballot sheet, for an online vote by the caller of this request, who must
    sign in as the cycle's eligibility says: through the national IdP if it says
    `online_requires_national_idp` (API tokens, even of role resident, and sign-ins through a
    municipality's own IdP are refused), and at the assurance (`acr`) it asks for (see
    rules.online_acr_values). Raises NotVerifiedEnough (403) otherwise."""
    principal = current_principal()
    national = principal is not None and principal.national_identity is not None
    acr = principal.acr if principal is not None else None
    sheet = sheets.sheet(connection, cycle_id)
    try:
        check_online_identity(sheet.cycle, national=national, acr=acr)
    except Forbidden:
        sheet = sheets.reread(connection, cycle_id)  # a refusal never stands on a kept sheet
        check_online_identity(sheet.cycle, national=national, acr=acr)
    return sheet


# Dashes an officer may type or a scanner may send inside a document number (the minus sign
# and the full-width hyphen-minus are not in Unicode's dash category).
_DASHES = frozenset("\u2212\ufe63\uff0d")


def normalise_identity_document(document: str) -> str:
    """A document number as it is keyed: compatibility forms folded (full-width digits and
    letters), every space and dash dropped, letters in upper case. "800101-1234567",
    "800101 1234567" and "８００１０１－１２３４５６７" are one number."""
    folded = unicodedata.normalize("NFKC", document)
    kept = (
        ch
        for ch in folded
        if not ch.isspace() and unicodedata.category(ch) not in ("Pd", "Cf") and ch not in _DASHES
    )
    return "".join(kept).upper()


def identity_document_key(secret: str, document: str) -> str:
    """The voter key of a person checked in with an identity document (normalised first)."""
    return voter_key(secret, "id:" + normalise_identity_document(document))


def _projects(session: Session, cycle: Cycle) -> dict[int, Project]:
    """The cycle's projects."""
    return {p.id: p for p in session.scalars(select(Project).where(Project.cycle_id == cycle.id))}


_MARK_COLUMNS = ("person_key", "channel", "basis", "birth_year", "district_code", "marked_by")


def _in_voting_and_mark() -> tuple[Any, Any, Any]:
    """The two CTEs every check-in and online vote starts with: the cycle, if it is (as the
    statement runs) in the voting that the ballot was checked for (`in_voting`: same
    `voting_opened_at`), and the voter mark, inserted only then and only if the person has no
    mark yet (`mark`: its primary key is the arbiter). Also the bind of the moment."""
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
    return in_voting, mark, at


def _drafts_deleted(mark: Any) -> Any:
    """A CTE that deletes the person's ballot drafts of the cycle once the statement struck
    them off: the selection they were making is their ballot now (or, for a paper check-in,
    on paper), and a draft must outlive no vote. PostgreSQL runs a data-modifying CTE to
    completion whether or not the query reads it."""
    return (
        delete(BallotDraft)
        .where(
            BallotDraft.cycle_id == bindparam("cycle_id"),
            BallotDraft.person_key == bindparam("person_key", type_=String),
            exists(select(mark.c.cycle_id)),
        )
        .returning(BallotDraft.envelope_id)
        .cte("drafts")
    )


def _mark_and_ballot_statement() -> Select:
    """Strike the person off and, if that struck them off (`with_ballot` true), store the
    ballot and its choices: one statement, one round trip, atomic on its own.

    Nothing is written unless the cycle is in that voting, and a person already marked
    inserts nothing, neither mark nor ballot (see `_in_voting_and_mark`). Built once, not per
    ballot (building one costs about as much as running it); values are bind parameters
    (arrays, not expanded IN lists)."""
    in_voting, mark, at = _in_voting_and_mark()
    ballot = (
        insert(Ballot)
        .from_select(
            ["cycle_id", "channel", "cast_at", "receipt"],
            select(
                mark.c.cycle_id,
                mark.c.channel,
                at,
                bindparam("receipt", type_=Ballot.__table__.c.receipt.type),
            ).where(bindparam("with_ballot", type_=Boolean)),
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
    ).add_cte(choices.cte("choices"), _drafts_deleted(mark))


def _mark_and_issue_statement() -> Select:
    """Strike the person off and, if that struck them off, record the numbered paper ballot
    handed to them: one statement. A number already issued in the cycle breaks the paper
    ballots' primary key, so the statement fails as a whole and no one is struck off."""
    in_voting, mark, _ = _in_voting_and_mark()
    issue = (
        insert(PaperBallot)
        .from_select(
            ["cycle_id", "number", "district_code"],
            select(
                mark.c.cycle_id,
                bindparam("paper_number", type_=Integer),
                bindparam("district_code", type_=PaperBallot.__table__.c.district_code.type),
            ),
        )
        .returning(PaperBallot.number)
        .cte("issue")
    )
    return select(
        select(func.count()).select_from(in_voting).scalar_subquery().label("in_voting"),
        select(func.count()).select_from(mark).scalar_subquery().label("marked"),
        select(func.count()).select_from(issue).scalar_subquery().label("issued"),
    ).add_cte(_drafts_deleted(mark))


_MARK_AND_BALLOT = DriverStatement(_mark_and_ballot_statement())
_MARK_AND_ISSUE = DriverStatement(_mark_and_issue_statement())
_PAPER_NUMBER_TAKEN = "pk_paper_ballots"


def _strike_off_and_store(
    connection: Connection,
    cycle: Cycle,
    chosen: dict[int, list[tuple[Project, int]]] | None,
    *,
    paper_number: int | None,
    person_key: str,
    channel: str,
    basis: str,
    birth_year: int,
    district_code: str | None,
    marked_by: str,
    at: datetime,
    receipt: str | None = None,
) -> tuple[bool, bool, int | None]:
    """Mark the person at `at` and, in the same statement, store `chosen` (with the digest of
    its receipt code, `receipt`) or (with `paper_number`) issue that paper ballot; the
    person's ballot drafts of the cycle go once they are struck off. Returns whether the
    cycle was still in that voting, whether the person was struck off (not marked before, on
    any channel), and the ballot's id (None for paper). Raises Conflict, striking no one off,
    if the paper ballot was already issued."""
    mark = {
        "cycle_id": cycle.id,
        "voting_opened_at": cycle.voting_opened_at,
        "at": at,
        "person_key": person_key,
        "channel": channel,
        "basis": basis,
        "birth_year": birth_year,
        "district_code": district_code,
        "marked_by": marked_by,
    }
    if paper_number is not None:
        try:
            row = _MARK_AND_ISSUE.first(connection, {**mark, "paper_number": paper_number})
        except exc.IntegrityError as error:
            if getattr(getattr(error.orig, "diag", None), "constraint_name", None) != _PAPER_NUMBER_TAKEN:
                raise
            raise Conflict(
                f"Paper ballot {paper_number} was already handed out in this cycle; hand out "
                "another one and record its number. No one was struck off.",
                errors={"paper_ballot": [f"{paper_number} was already issued"]},
            ) from None
        assert row is not None  # a SELECT of scalar subqueries: one row, always
        in_voting, marked, _ = row
        return bool(in_voting), bool(marked), None
    picks = [
        (project.id, envelope_id, value)
        for envelope_id, picked in (chosen or {}).items()
        for project, value in picked
    ]
    row = _MARK_AND_BALLOT.first(
        connection,
        {
            **mark,
            "with_ballot": chosen is not None,
            "receipt": receipt,
            "project_ids": [p for p, _, _ in picks],
            "envelope_ids": [e for _, e, _ in picks],
            "values": [v for _, _, v in picks],
        },
    )
    assert row is not None  # a SELECT of scalar subqueries: one row, always
    in_voting, marked, ballot_id = row
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


@dataclass(frozen=True)
class Cast:
    """What casting gave the voter: the ballot's id (None for a paper check-in), its receipt
    code (shown to the voter once, never stored: see `receipts`), when and on which channel."""

    ballot_id: int | None
    receipt_code: str | None
    cast_at: datetime
    channel: str


def do_vote(connection: Connection, cycle_id: int, **kw: Any) -> int | None:
    """`do_cast_ballot`, answering only the ballot's id (None for a paper check-in)."""
    return do_cast_ballot(connection, cycle_id, **kw).ballot_id


def do_cast_ballot(
    connection: Connection,
    cycle_id: int,
    *,
    person_key: str,
    channel: str,
    voter: dict[str, Any],
    choices: list[dict[str, Any]] | None,
    marked_by: str,
    sheet: sheets.BallotSheet | None = None,
    paper_ballot: int | None = None,
) -> Cast:
    """Strike the person off and (with `choices`) store their ballot with a fresh receipt
    code; the person's ballot drafts of the cycle are deleted by the same statement.

    `connection` is in autocommit (`db_autocommit()`): the write is one statement, atomic on
    its own, committed as it runs. `sheet` is the cycle's ballot sheet if the caller has it.
    Every channel (the API, the page, a check-in) casts through here, so one ballot per
    person and cycle holds on all of them.

    `channel` is online (the person votes), onsite (an officer checks the person in and the
    ballot is entered on site), or paper (an officer checks the person in and hands out the
    numbered ballot `paper_ballot`, issued in the same statement; the ballot is entered later
    in a batch, so `choices` is None: no receipt). Raises VotingClosed (409) if voting is not
    open or closed while casting, AlreadyVoted (409) if the person already voted on any
    channel, Conflict if the paper ballot was already issued, NotEligible or BallotRuleBroken
    (422) if they may not vote or the ballot breaks a rule."""
    if (channel == "paper") != (paper_ballot is not None) or (channel == "paper") != (choices is None):
        raise Invalid(
            "A paper check-in records the number of the paper ballot handed out, and no choices; "
            "other channels take choices and no paper ballot.",
            errors={"paper_ballot": ["required for a paper check-in, and only there"]},
        )
    district_code = voter.get("district_code")
    code = receipts.new_code() if choices is not None else None
    sheet, fresh = sheet or sheets.sheet(connection, cycle_id), False
    while True:
        # A kept sheet may be of a voting that is no longer the cycle's: neither a refusal
        # nor a write stands on it until the sheet, read afresh, says the same.
        cycle = sheet.cycle
        try:
            _require_voting(cycle)
            check_eligibility(cycle, basis=voter["basis"], birth_year=voter["birth_year"])
            chosen = None
            if choices is not None:
                envelopes = entitled_envelopes(sheet.envelopes.values(), district_code)
                chosen = validate_ballot(cycle, envelopes, sheet.projects, choices)
        except Refusal:
            if fresh:
                raise
            sheet, fresh = sheets.reread(connection, cycle_id), True
            continue
        at = clock.now()
        in_voting, marked, ballot_id = _strike_off_and_store(
            connection,
            cycle,
            chosen,
            paper_number=paper_ballot,
            person_key=person_key,
            channel=channel,
            basis=voter["basis"],
            birth_year=voter["birth_year"],
            district_code=district_code,
            marked_by=marked_by,
            at=at,
            receipt=receipts.digest(code) if code is not None else None,
        )
        if in_voting:
            break
        if fresh:
            raise VotingClosed("Voting closed while the ballot was being cast.")
        sheet, fresh = sheets.reread(connection, cycle_id), True
    if not marked:
        previous = has_voted(connection, cycle_id, person_key)
        raise AlreadyVoted(
            f"This person has already voted in this cycle ({previous or 'another channel'}).",
            channel=previous,
        )
    return Cast(ballot_id, code, at, channel)


def _require_voting(cycle: Cycle) -> None:
    """Refuse with VotingClosed unless the cycle is in voting (as `require_phase` words it)."""
    try:
        require_phase(cycle, VOTING, action="Voting")
    except Conflict as refused:
        raise VotingClosed(refused.message, status_now=cycle.status) from None


def has_voted(executor: Session | Connection, cycle_id: int, person_key: str) -> str | None:
    return executor.scalar(
        select(VoterMark.channel).where(VoterMark.cycle_id == cycle_id, VoterMark.person_key == person_key)
    )


# Paper ballots ------------------------------------------------------------------------------
#
# Batches are opened, entered and reconciled in the voting and results phases, until the
# cycle is counted. Each of those actions first locks the cycle's row (FOR NO KEY UPDATE),
# as counting does (FOR UPDATE) and as a phase change does: a reconciliation and the count
# run one after the other, so a batch is either in the count or refused after it. Online
# and on-site ballots take no such lock (their foreign keys take only KEY SHARE, which this
# one lets through), so the hot path never waits for paperwork.


def _cycle_taking_paper(session: Session, cycle_id: int, *, action: str) -> Cycle:
    """The cycle, locked until the transaction ends, if it still takes paper ballots:
    in voting or results, and not counted. Raises NotFound or Conflict (409)."""
    cycle = session.scalar(
        select(Cycle)
        .where(Cycle.id == cycle_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE
        .execution_options(populate_existing=True)
    )
    if cycle is None:
        raise NotFound(f"There is no cycle {cycle_id}.")
    require_phase(cycle, VOTING, RESULTS, action=action)
    counted_at = session.scalar(select(func.min(Result.counted_at)).where(Result.cycle_id == cycle.id))
    if counted_at is not None:
        raise Conflict(
            f"The cycle's results were counted on {counted_at:%Y-%m-%d %H:%M} UTC: no ballot is "
            f"accepted after the count, on any channel. {action} is refused."
        )
    return cycle


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
    """Open batch `number` for the paper ballots numbered `first_ballot`..`last_ballot`. Two
    batches never share a ballot number (openings are serialised on the cycle's row)."""
    cycle = _cycle_taking_paper(session, cycle_id, action="Opening a paper batch")
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


PERSON_RULE = (
    "The two entries of a paper batch must be made by two different people. A person is the "
    "account they signed in with, or the account an API token was issued to; two credentials "
    "of one account are one person."
)


def _clerks_apart(person: str | None, other: str | None, round_: int) -> None:
    """Refuse an entry of round `round_` by `person` when the other round's entry (`other`,
    None if not entered yet) is by the same person, or either cannot be told to be a person."""
    if person is None:
        raise Forbidden(
            f"{PERSON_RULE} This credential names no person (an API token not issued to an "
            "account), so the rule cannot be checked: sign in, or use a token issued to your "
            "account.",
        )
    if other is None:
        return
    other_round = 2 if round_ == 1 else 1
    if not other.startswith("account:"):
        raise Conflict(
            f"{PERSON_RULE} Round {other_round} was entered with a credential that names no "
            f"person ({other}): enter round {other_round} again, signed in, first."
        )
    if other == person:
        raise Conflict(f"{PERSON_RULE} Round {other_round} was entered by this person ({person}).")


def do_enter_batch(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    batch_id: int,
    *,
    round_: int,
    entries: list[dict[str, Any]],
    actor: str,
    person: str | None,
) -> int:
    """Record one of the two independent entries of a batch (every ballot number in it), made
    by `person` (`account:<id>`, see `saas.core.auth.Principal.person`; None: the credential names
    no one, refused with Forbidden). The other round must be another person's."""
    _cycle_taking_paper(session, cycle_id, action="Entering a paper batch")
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
    _clerks_apart(person, other_clerk, round_)
    session.execute(delete(PaperEntry).where(PaperEntry.batch_id == batch.id, PaperEntry.round == round_))
    session.execute(
        insert(PaperEntry),
        [
            {
                "batch_id": batch.id,
                "round": round_,
                "ballot_number": e["ballot_number"],
                "entered_by": person,
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
        data={"round": round_, "ballots": len(entries), "person": person},
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


def _entered_by(session: Session, batch: PaperBatch) -> dict[int, str]:
    return dict(
        session.execute(
            select(PaperEntry.round, func.min(PaperEntry.entered_by))
            .where(PaperEntry.batch_id == batch.id)
            .group_by(PaperEntry.round)
        ).all()
    )


def do_reconcile_batch(
    session: Session, tenant: TenantRef, cycle_id: int, batch_id: int, *, actor: str
) -> dict[str, Any]:
    """If both entries agree on every ballot, turn the batch into counted ballots; otherwise
    list the mismatches and change nothing.

    Only a ballot issued at a paper check-in counts, once: a number never issued, or already
    accounted for by another batch, is set aside and named, as is an invalid ballot (one that
    breaks the ballot rules, or marks projects of an envelope its voter was not entitled to).
    Refused with 409 once the cycle is counted, and serialised with the count."""
    cycle = _cycle_taking_paper(session, cycle_id, action="Reconciling a paper batch")
    batch = batch_or_404(session, cycle_id, batch_id, lock=True)
    if batch.status != "open":
        raise Conflict("The batch is already reconciled.")
    mismatches = batch_mismatches(session, batch)
    if mismatches:
        return {"reconciled": False, "mismatches": mismatches, "counted": 0, "invalid": []}
    clerks = _entered_by(session, batch)
    if any(not clerk.startswith("account:") for clerk in clerks.values()) or clerks[1] == clerks[2]:
        raise Conflict(f"{PERSON_RULE} This batch's rounds were entered by {clerks[1]} and {clerks[2]}.")
    issued = {
        row.number: row
        for row in session.scalars(
            select(PaperBallot)
            .where(
                PaperBallot.cycle_id == cycle.id,
                PaperBallot.number.between(batch.first_ballot, batch.last_ballot),
            )
            .with_for_update()
        )
    }
    projects = _projects(session, cycle)
    counted, invalid, accounted = 0, [], []
    entries = session.scalars(
        select(PaperEntry)
        .where(PaperEntry.batch_id == batch.id, PaperEntry.round == 1)
        .order_by(PaperEntry.ballot_number)
    ).all()
    for entry in entries:
        number, issue = entry.ballot_number, issued.get(entry.ballot_number)
        if issue is None:
            invalid.append(
                {"ballot_number": number, "reason": f"Ballot {number} was never issued at a paper check-in."}
            )
            continue
        if issue.batch_id is not None:
            invalid.append(
                {"ballot_number": number, "reason": f"Ballot {number} is already counted in another batch."}
            )
            continue
        issue.batch_id = batch.id  # accounted for, counted or spoilt: never counted again
        accounted.append(number)
        choices = [{"project_id": int(pid), "value": value} for pid, value in entry.choices.items()]
        try:
            # The envelopes of the dong checked at the ballot's check-in.
            envelopes = entitled_envelopes(cycle.envelopes, issue.district_code)
            chosen = validate_ballot(cycle, envelopes, projects, choices)
        except Invalid as error:
            invalid.append({"ballot_number": number, "reason": error.message})
            continue
        _store_ballot(session, cycle, chosen, channel="paper", paper_batch_id=batch.id, paper_number=number)
        counted += 1
    batch.status, batch.reconciled_at = "reconciled", clock.now()
    not_issued = [i["ballot_number"] for i in invalid if i["ballot_number"] not in accounted]
    audit.record(
        session,
        actor=actor,
        action="paper.batch_reconcile",
        tenant_slug=tenant.slug,
        target=f"paper_batch:{batch.id}",
        data={"counted": counted, "invalid": len(invalid), "refused_numbers": not_issued},
    )
    session.commit()
    return {"reconciled": True, "mismatches": [], "counted": counted, "invalid": invalid}
