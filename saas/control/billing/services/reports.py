"""What ministry admins, auditors and municipalities read about subsidies (no writes)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session, selectinload

from saas.control.billing.models import BillingAlert, BillingInvoice, LedgerEntry, SubsidyProgram
from saas.control.billing.services import ledger
from saas.core import clock
from saas.core.registry.models import Tenant


def _amounts(balances: dict[str, int]) -> dict[str, int]:
    # Stages are cumulative: an applied subsidy stays "applied" once billed and settled.
    return {
        "available": balances["available"],
        "reserved": balances["reserved"],
        "applied": balances["applied"] + balances["billed"] + balances["settled"],
        "billed": balances["billed"] + balances["settled"],
        "settled": balances["settled"],
    }


def program_view(session: Session, program_id: int) -> dict[str, Any] | None:
    program = session.get(SubsidyProgram, program_id)
    if program is None:
        return None
    per_tenant = ledger.balances_by_tenant(session, program_id)
    tenants = {t.id: t for t in session.scalars(select(Tenant).where(Tenant.id.in_(per_tenant)))}
    alerts = session.scalars(
        select(BillingAlert).where(BillingAlert.program_id == program_id).order_by(BillingAlert.id)
    )
    return {
        "id": program.id,
        "code": program.code,
        "name": program.name,
        "fiscal_year": program.fiscal_year,
        "eligibility": program.eligibility,
        "amounts": {"budget": program.budget, **_amounts(ledger.balances(session, program_id))},
        "tenants": [
            {
                "tenant_id": tid,
                "slug": getattr(tenants.get(tid), "slug", None),
                "name": getattr(tenants.get(tid), "name", None),
                **_amounts(balances),
            }
            for tid, balances in sorted(per_tenant.items())
        ],
        "alerts": [{"kind": a.kind, "message": a.message, "tenant_id": a.tenant_id} for a in alerts],
    }


def list_programs(session: Session, fiscal_year: int | None = None) -> list[dict[str, Any]]:
    statement = select(SubsidyProgram.id).order_by(SubsidyProgram.fiscal_year, SubsidyProgram.id)
    if fiscal_year is not None:
        statement = statement.where(SubsidyProgram.fiscal_year == fiscal_year)
    ids = session.scalars(statement)
    return [view for pid in ids if (view := program_view(session, pid)) is not None]


EXPORT_COLUMNS = (
    "entry_id",
    "occurred_at",
    "kind",
    "idempotency_key",
    "tenant_id",
    "reverses_id",
    "account",
    "line_tenant_id",
    "amount",
    "inputs",
    "stripe",
    "prev_hash",
    "hash",
)


def export_rows(
    session: Session, program_id: int, period_from: date | None, period_to: date | None
) -> list[dict[str, Any]]:
    """One row per ledger line, in entry order; nothing in it depends on when it is exported.
    The period is of Korean calendar days (as billing months are), whatever the time zone of
    the server or of the database session."""
    statement = (
        select(LedgerEntry)
        .where(LedgerEntry.program_id == program_id)
        .order_by(LedgerEntry.id)
        .options(selectinload(LedgerEntry.lines))
    )
    day = cast(func.timezone(clock.SEOUL.key, LedgerEntry.occurred_at), Date)
    if period_from is not None:
        statement = statement.where(day >= period_from)
    if period_to is not None:
        statement = statement.where(day <= period_to)
    rows = []
    for entry in session.scalars(statement):
        for line in entry.lines:
            rows.append(
                {
                    "entry_id": entry.id,
                    "occurred_at": entry.occurred_at.isoformat(),
                    "kind": entry.kind,
                    "idempotency_key": entry.idempotency_key,
                    "tenant_id": entry.tenant_id,
                    "reverses_id": entry.reverses_id,
                    "account": line.account,
                    "line_tenant_id": line.tenant_id,
                    "amount": line.amount,
                    "inputs": json.dumps(
                        entry.inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                    ),
                    "stripe": json.dumps(
                        entry.stripe, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                    ),
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                }
            )
    return rows


def export_json(rows: list[dict[str, Any]]) -> bytes:
    return json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def export_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def tenant_invoices(session: Session, tenant_id: int, status: str | None = None) -> list[BillingInvoice]:
    statement = (
        select(BillingInvoice)
        .where(BillingInvoice.audience == "municipality", BillingInvoice.tenant_id == tenant_id)
        .order_by(BillingInvoice.period_start.desc().nulls_last(), BillingInvoice.stripe_invoice_id)
    )
    if status is not None:
        statement = statement.where(BillingInvoice.status == status)
    return list(session.scalars(statement))
