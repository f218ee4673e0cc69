"""The subsidy ledger: append-only, double-entry, integer won, hash-chained per program.

Accounts (where a program's money sits; balances are derived by summing lines):
  appropriation      the budget's source (negative by the budget once the program opens)
  available          budget not yet promised
  reserved           promised to one renewal, not yet on a finalized invoice
  applied            on a municipality's finalized invoice (line or credit note)
  billed             on the ministry's monthly invoice
  settled            paid by the ministry
A subsidy moves available → reserved → applied → billed → settled; a reversal moves it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from saas.control.billing.models import LedgerEntry, LedgerLine, SubsidyProgram
from saas.core import clock, hashchain
from saas.core.hashchain import GENESIS_HASH
from saas.core.refusals import NotFound

ACCOUNTS = ("appropriation", "available", "reserved", "applied", "billed", "settled")


class LedgerError(Exception):
    """A posting that would break the ledger's rules (unbalanced, unknown account, …)."""


@dataclass(frozen=True)
class Line:
    account: str
    amount: int
    tenant_id: int | None = None


def entry_hash(entry: LedgerEntry, lines: Sequence[tuple[str, int | None, int]]) -> str:
    """The chain hash of `entry` (its `prev_hash` set) with `lines` as (account, tenant, won)."""
    return hashchain.link_hash(
        entry.prev_hash,
        [
            entry.program_id,
            entry.idempotency_key,
            entry.kind,
            entry.tenant_id,
            hashchain.moment(entry.occurred_at),
            entry.inputs,
            entry.stripe,
            entry.reverses_id,
            [list(line) for line in lines],
        ],
    )


def lock_program(session: Session, program_id: int) -> SubsidyProgram:
    """Lock the program row for the rest of the transaction: appends to its chain and reads
    of its budget happen one transaction at a time, so nobody overdraws or forks the chain."""
    program = session.scalar(select(SubsidyProgram).where(SubsidyProgram.id == program_id).with_for_update())
    if program is None:
        raise NotFound(f"no subsidy program {program_id}")
    return program


def entry_for_key(session: Session, idempotency_key: str) -> LedgerEntry | None:
    return session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == idempotency_key))


def post(
    session: Session,
    *,
    program_id: int,
    idempotency_key: str,
    kind: str,
    lines: Sequence[Line],
    tenant_id: int | None = None,
    inputs: dict[str, Any] | None = None,
    stripe: dict[str, Any] | None = None,
    reverses_id: int | None = None,
) -> tuple[LedgerEntry, bool]:
    """Append an entry in the caller's transaction; returns (entry, created).

    The business event named by `idempotency_key` is recorded once: posting it again returns
    the first entry unchanged. Raises `LedgerError` for unbalanced or malformed lines."""
    lock_program(session, program_id)
    existing = entry_for_key(session, idempotency_key)
    if existing is not None:
        return existing, False
    for line in lines:
        if line.account not in ACCOUNTS:
            raise LedgerError(f"unknown ledger account {line.account!r}")
        if type(line.amount) is not int:  # bool and float are not won
            raise LedgerError(f"amounts are integer won, got {line.amount!r}")
    if not lines or sum(line.amount for line in lines) != 0:
        raise LedgerError(f"the lines of {idempotency_key!r} do not sum to zero")
    prev = session.scalar(
        select(LedgerEntry.hash)
        .where(LedgerEntry.program_id == program_id)
        .order_by(LedgerEntry.id.desc())
        .limit(1)
    )
    occurred_at = clock.now()
    stored_inputs = hashchain.as_stored(inputs or {})
    stored_stripe = hashchain.as_stored(stripe or {})
    leg_tuples = [(line.account, line.tenant_id, line.amount) for line in lines]
    entry = LedgerEntry(
        program_id=program_id,
        idempotency_key=idempotency_key,
        kind=kind,
        tenant_id=tenant_id,
        occurred_at=occurred_at,
        inputs=stored_inputs,
        stripe=stored_stripe,
        reverses_id=reverses_id,
        prev_hash=prev or GENESIS_HASH,
    )
    entry.hash = entry_hash(entry, leg_tuples)
    session.add(entry)
    session.flush()
    for account, line_tenant, amount in leg_tuples:
        session.add(LedgerLine(entry_id=entry.id, account=account, tenant_id=line_tenant, amount=amount))
    session.flush()
    return entry, True


def reverse(
    session: Session,
    entry: LedgerEntry,
    *,
    idempotency_key: str,
    reason: str,
    stripe: dict[str, Any] | None = None,
) -> tuple[LedgerEntry, bool]:
    """Post the mirror image of `entry` (each line negated). An entry is reversed at most once:
    a second reversal of it returns the first."""
    lock_program(session, entry.program_id)
    already = session.scalar(select(LedgerEntry).where(LedgerEntry.reverses_id == entry.id))
    if already is not None:
        return already, False
    return post(
        session,
        program_id=entry.program_id,
        idempotency_key=idempotency_key,
        kind="reversal",
        tenant_id=entry.tenant_id,
        lines=[Line(line.account, -line.amount, line.tenant_id) for line in entry.lines],
        inputs={"reason": reason, "reversed_kind": entry.kind, "reversed_key": entry.idempotency_key},
        stripe=stripe,
        reverses_id=entry.id,
    )


def is_reversed(session: Session, entry_id: int) -> bool:
    return session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id)) is not None


def balances(session: Session, program_id: int, *, tenant_id: int | None = None) -> dict[str, int]:
    """Each account's balance, derived from the lines (optionally only one tenant's lines)."""
    statement = (
        select(LedgerLine.account, func.coalesce(func.sum(LedgerLine.amount), 0))
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(LedgerEntry.program_id == program_id)
        .group_by(LedgerLine.account)
    )
    if tenant_id is not None:
        statement = statement.where(LedgerLine.tenant_id == tenant_id)
    found = {account: int(total) for account, total in session.execute(statement)}
    return {account: found.get(account, 0) for account in ACCOUNTS}


def balances_by_tenant(session: Session, program_id: int) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(LedgerLine.tenant_id, LedgerLine.account, func.sum(LedgerLine.amount))
        .join(LedgerEntry, LedgerEntry.id == LedgerLine.entry_id)
        .where(LedgerEntry.program_id == program_id, LedgerLine.tenant_id.is_not(None))
        .group_by(LedgerLine.tenant_id, LedgerLine.account)
    )
    result: dict[int, dict[str, int]] = {}
    for tenant_id, account, total in rows:
        assert tenant_id is not None  # the query keeps the lines that name a tenant
        result.setdefault(tenant_id, dict.fromkeys(ACCOUNTS, 0))[account] = int(total)
    return result


@dataclass(frozen=True)
class VerifyReport:
    program_id: int
    entries: int
    first_broken_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify(session: Session, program_id: int) -> VerifyReport:
    """Recompute the program's hash chain and check the invariants entry by entry (lines sum
    to zero, integer won, reversals mirror what they reverse, no stage of the subsidy goes
    negative); name the first entry where something is off."""
    running = dict.fromkeys(ACCOUNTS, 0)
    seen: dict[int, list[tuple[str, int | None, int]]] = {}

    def legs(entry: LedgerEntry) -> list[tuple[str, int | None, int]]:
        return [(line.account, line.tenant_id, line.amount) for line in entry.lines]

    def invariants(entry: LedgerEntry) -> str | None:
        lines = legs(entry)
        if not lines or sum(amount for _, _, amount in lines) != 0:
            return "lines do not sum to zero"
        if entry.reverses_id is not None:
            original = seen.get(entry.reverses_id)
            if original is None or sorted(lines) != sorted((a, t, -m) for a, t, m in original):
                return f"does not mirror entry {entry.reverses_id}"
        for account, _, amount in lines:
            running[account] += amount
        negative = [a for a in ACCOUNTS if a != "appropriation" and running[a] < 0]
        if negative:
            return f"balance of {negative[0]} goes negative"
        seen[entry.id] = lines
        return None

    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.program_id == program_id)
        .order_by(LedgerEntry.id)
        .options(selectinload(LedgerEntry.lines))
    )
    check = hashchain.verify(entries, lambda entry: entry_hash(entry, legs(entry)), invariants)
    return VerifyReport(program_id, check.links, check.first_broken_id, check.problem)
