"""The subsidy's path through Stripe: reserve before a renewal, apply when the invoice is
finalized (its "Ministry subsidy" line, or a credit note when it was finalized without one),
bill the ministry monthly, settle when the ministry pays, and reverse on voids.

Every function here is safe to run again for the same facts: ledger entries carry keys that
name the business event, Stripe writes carry idempotency keys derived from the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.control.billing.gateway import StripeGateway
from saas.control.billing.models import (
    BillingAlert,
    BillingInvoice,
    LedgerEntry,
    Plan,
    Subscription,
    SubsidyBeneficiary,
    SubsidyProgram,
)
from saas.control.billing.services import ledger, programs
from saas.control.billing.services.ledger import Line
from saas.core import clock
from saas.core.registry.models import Tenant

SUBSIDY_MARK = "subsidy"  # metadata chamyeo=subsidy marks our lines and credit notes
SUBSIDY_DESCRIPTION = "Ministry subsidy (정부 보조금)"


class NotReady(Exception):
    """Stripe shows a fact whose cause is not committed here yet (retry the job later)."""


@dataclass(frozen=True)
class Reservation:
    program_id: int | None
    amount: int
    entry: LedgerEntry | None
    inputs: dict[str, Any]


def reservation_key(tenant_id: int, service_start: date) -> str:
    # One subsidy per tenant and service period, however often it is asked for.
    return f"reserve:t{tenant_id}:{service_start.isoformat()}"


def raise_alert(session: Session, key: str, kind: str, message: str, **data: Any) -> None:
    session.execute(
        insert(BillingAlert)
        .values(
            key=key,
            kind=kind,
            message=message,
            program_id=data.get("program_id"),
            tenant_id=data.get("tenant_id"),
            data=data,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )


def beneficiary_in_program(session: Session, program_id: int, tenant: Tenant) -> int:
    """The tenant that `program_id` pays for `tenant`'s municipality: `tenant` itself when it
    is the first to claim it (recorded here, in the caller's transaction), else the earlier
    one. One program pays one portal per municipality (the primary key says so too)."""
    session.execute(
        insert(SubsidyBeneficiary)
        .values(program_id=program_id, region_code=tenant.region_code, tenant_id=tenant.id)
        .on_conflict_do_nothing(index_elements=["program_id", "region_code"])
    )
    return session.execute(
        select(SubsidyBeneficiary.tenant_id).where(
            SubsidyBeneficiary.program_id == program_id, SubsidyBeneficiary.region_code == tenant.region_code
        )
    ).scalar_one()


def reserve(
    session: Session, *, tenant_id: int, service_start: date, subsidizable: int, subtotal: int
) -> Reservation:
    """Reserve `min(floor(subsidizable × rate), budget left, subtotal)` for the service period
    starting on `service_start`, in the caller's transaction. The program (hence the fiscal
    year) and the tier are those in force on `service_start`. The program row stays locked
    until the caller commits, so concurrent reservations see each other's effect."""
    program = programs.program_for_service_period(session, service_start)
    if program is None:
        return Reservation(None, 0, None, {"reason": f"no subsidy program for {service_start.year}"})
    ledger.lock_program(session, program.id)
    key = reservation_key(tenant_id, service_start)
    existing = ledger.entry_for_key(session, key)
    if existing is not None:
        return Reservation(program.id, existing.inputs["amount"], existing, existing.inputs)
    tenant = session.get(Tenant, tenant_id)
    if tenant is not None:
        paid_for = beneficiary_in_program(session, program.id, tenant)
        if paid_for != tenant_id:
            reason = (
                f"program {program.code} already subsidises {tenant.name} (region "
                f"{tenant.region_code[:5]}) through tenant {paid_for}; one program pays once per municipality"
            )
            raise_alert(
                session,
                f"beneficiary:{program.id}:t{tenant_id}",
                "second_portal_of_municipality",
                f"Tenant {tenant_id} gets no subsidy: {reason}.",
                program_id=program.id,
                tenant_id=tenant_id,
                beneficiary=paid_for,
            )
            return Reservation(program.id, 0, None, {"reason": reason})
    decision = programs.rate_for(session, program.id, tenant_id, service_start)
    if decision is None:
        # A renewal into a new program year (December's serves January): the tier follows
        # from the official data, as it did when billing opened.
        assigned = tenant and programs.assign_tier_from_official_data(session, program, tenant, service_start)
        if assigned:
            decision = programs.rate_for(session, program.id, tenant_id, service_start)
    if decision is None:
        return Reservation(program.id, 0, None, {"reason": "no tier assigned for the period"})
    budget_before = ledger.balances(session, program.id)["available"]
    computed = subsidizable * decision.rate_bp // 10000  # floor: the ministry never overpays a won
    amount = max(min(computed, budget_before, subtotal), 0)
    cap = "none" if amount == computed else ("budget" if amount == budget_before else "subtotal")
    inputs = {
        "subsidizable_amount": subsidizable,
        "invoice_subtotal": subtotal,
        "tier": decision.tier,
        "rate_bp": decision.rate_bp,
        "rate_version": decision.rate_version,
        "tier_assignment_id": decision.assignment_id,
        "computed": computed,
        "budget_before": budget_before,
        "budget_after": budget_before - amount,
        "cap_applied": cap,
        "amount": amount,
        "service_period_start": service_start.isoformat(),
        "fiscal_year": program.fiscal_year,
    }
    if cap == "budget":
        raise_alert(
            session,
            f"budget:{program.id}:t{tenant_id}:{service_start.isoformat()}",
            "budget_exhausted",
            f"Program {program.code} had {budget_before} won left: tenant {tenant_id} gets {amount} "
            f"of {computed} won for the period from {service_start}.",
            program_id=program.id,
            tenant_id=tenant_id,
            computed=computed,
            granted=amount,
        )
    if amount == 0:
        return Reservation(program.id, 0, None, inputs)
    entry, _ = ledger.post(
        session,
        program_id=program.id,
        idempotency_key=key,
        kind="reservation",
        tenant_id=tenant_id,
        lines=[Line("available", -amount), Line("reserved", amount, tenant_id)],
        inputs=inputs,
    )
    return Reservation(program.id, amount, entry, inputs)


def do_reserve(session: Session, **kwargs: Any) -> Reservation:
    """`reserve` as an action of its own (commits)."""
    reservation = reserve(session, **kwargs)
    session.commit()
    return reservation


def _day(timestamp: int) -> date:
    return clock.korean_date(datetime.fromtimestamp(timestamp, UTC))


def do_prepare_renewal(session: Session, gateway: StripeGateway, subscription: Subscription) -> Reservation:
    """Before the next renewal: reserve the subsidy for the coming period (commit), then put
    the negative "Ministry subsidy" item on the customer, for Stripe to sweep into the
    renewal invoice."""
    remote = gateway.retrieve_subscription(subscription.stripe_subscription_id or "")
    if remote.get("status") not in ("active", "trialing", "past_due"):
        return Reservation(None, 0, None, {"reason": f"subscription is {remote.get('status')}"})
    plan = session.get(Plan, subscription.plan_id)
    assert plan is not None
    start = _day(remote["current_period_end"])
    reservation = reserve(
        session,
        tenant_id=subscription.tenant_id,
        service_start=start,
        subsidizable=plan.amount,
        subtotal=plan.amount,
    )
    session.commit()
    if (
        reservation.entry is not None
        and not _applied(session, reservation.entry)
        # Preparation runs again every day until the renewal; Stripe forgets idempotency keys
        # after 24 hours, so the item already waiting for the invoice is looked for by its mark.
        and not _pending_items(gateway, subscription, reservation.entry)
    ):
        gateway.create_invoice_item(
            customer=subscription.stripe_customer_id or "",
            amount=-reservation.amount,
            description=SUBSIDY_DESCRIPTION,
            metadata={"chamyeo": SUBSIDY_MARK, "reservation": reservation.entry.idempotency_key},
            idempotency_key=f"subsidy-item-{reservation.entry.id}",
        )
    return reservation


def _pending_items(
    gateway: StripeGateway, subscription: Subscription, reservation: LedgerEntry
) -> list[dict[str, Any]]:
    """The customer's pending items that carry this reservation's mark."""
    return [
        item
        for item in gateway.pending_invoice_items(customer=subscription.stripe_customer_id or "")
        if (item.get("metadata") or {}).get("reservation") == reservation.idempotency_key
    ]


def _applied(session: Session, reservation: LedgerEntry) -> LedgerEntry | None:
    return ledger.entry_for_key(session, f"apply:{reservation.id}")


def _project(session: Session, invoice: dict[str, Any], subscription: Subscription, subsidy: int) -> None:
    lines = invoice["lines"]["data"]
    gross = sum(
        line["amount"] for line in lines if (line.get("metadata") or {}).get("chamyeo") != SUBSIDY_MARK
    )
    period = next((line["period"] for line in lines if line.get("type") == "subscription"), None)
    values = {
        "audience": "municipality",
        "tenant_id": subscription.tenant_id,
        "status": invoice["status"],
        "number": invoice.get("number"),
        "gross": gross,
        "subsidy": subsidy,
        "net": gross - subsidy,
        "period_start": _day(period["start"]) if period else None,
        "period_end": _day(period["end"]) if period else None,
    }
    statement = insert(BillingInvoice).values(stripe_invoice_id=invoice["id"], **values)
    session.execute(statement.on_conflict_do_update(index_elements=["stripe_invoice_id"], set_=values))


def applications_for_invoice(session: Session, invoice_id: str) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.kind == "application", LedgerEntry.stripe["invoice"].astext == invoice_id)
            .order_by(LedgerEntry.id)
        )
    )


def live_subsidy_on_invoice(session: Session, invoice_id: str) -> int:
    """The subsidy the ledger holds as applied to this invoice (applications not reversed)."""
    return sum(
        -line.amount
        for entry in applications_for_invoice(session, invoice_id)
        if not ledger.is_reversed(session, entry.id)
        for line in entry.lines
        if line.account == "reserved"
    )


def sync_municipality_invoice(
    session: Session, gateway: StripeGateway, invoice: dict[str, Any], subscription: Subscription
) -> None:
    """Bring the ledger in line with a municipality invoice as Stripe shows it now (events
    are only hints: whatever order they came in, this reads the current state)."""
    status = invoice["status"]
    if status in ("open", "paid", "uncollectible"):
        _ensure_applied(session, gateway, invoice, subscription)
    elif status == "void":
        ensure_reversed(session, gateway, invoice["id"], reason="invoice voided")
    _project(session, invoice, subscription, live_subsidy_on_invoice(session, invoice["id"]))


def _ensure_applied(
    session: Session, gateway: StripeGateway, invoice: dict[str, Any], subscription: Subscription
) -> None:
    lines = invoice["lines"]["data"]
    marked = [line for line in lines if (line.get("metadata") or {}).get("chamyeo") == SUBSIDY_MARK]
    for line in marked:
        reservation = ledger.entry_for_key(session, line["metadata"].get("reservation", ""))
        if reservation is None:
            raise NotReady(f"invoice {invoice['id']} carries a subsidy whose reservation is not committed")
        _apply(
            session,
            gateway,
            reservation,
            {"invoice": invoice["id"], "invoice_item": line.get("invoice_item")},
        )
    if marked or applications_for_invoice(session, invoice["id"]):
        return
    period_line = next((line for line in lines if line.get("type") == "subscription"), None)
    if period_line is None:
        return  # not a subscription invoice: nothing is subsidized
    start = _day(period_line["period"]["start"])
    creditable = (
        invoice["total"]
        - invoice.get("pre_payment_credit_notes_amount", 0)
        - invoice.get("post_payment_credit_notes_amount", 0)
    )
    reserved = reserve(
        session,
        tenant_id=subscription.tenant_id,
        service_start=start,
        subsidizable=period_line["amount"],
        subtotal=max(creditable, 0),
    )
    if reserved.entry is None or _applied(session, reserved.entry):
        return
    # The invoice was finalized without our line: credit the subsidy instead, and withdraw the
    # pending item that missed the sweep, or it would subsidize the next invoice a second time.
    for item in _pending_items(gateway, subscription, reserved.entry):
        gateway.delete_invoice_item(item["id"])
    note = gateway.create_credit_note(
        invoice=invoice["id"],
        amount=reserved.amount,
        memo=SUBSIDY_DESCRIPTION,
        metadata={"chamyeo": SUBSIDY_MARK, "reservation": reserved.entry.idempotency_key},
        idempotency_key=f"subsidy-credit-note-{reserved.entry.id}",
    )
    _apply(session, gateway, reserved.entry, {"invoice": invoice["id"], "credit_note": note["id"]})


def _apply(
    session: Session, gateway: StripeGateway, reservation: LedgerEntry, stripe: dict[str, Any]
) -> None:
    amount = reservation.inputs["amount"]
    application, _ = ledger.post(
        session,
        program_id=reservation.program_id,
        idempotency_key=f"apply:{reservation.id}",
        kind="application",
        tenant_id=reservation.tenant_id,
        stripe=stripe,
        lines=[
            Line("reserved", -amount, reservation.tenant_id),
            Line("applied", amount, reservation.tenant_id),
        ],
        inputs={"reservation_id": reservation.id, "amount": amount},
    )
    if not ledger.is_reversed(session, application.id):
        _bill_ministry(session, gateway, application)


def _month(now: datetime | None = None) -> date:
    # The ministry is billed per Korean calendar month.
    moment = (now or clock.now()).astimezone(clock.SEOUL)
    return date(moment.year, moment.month, 1)


def _ministry_row(session: Session, program_id: int, month: date) -> BillingInvoice | None:
    return session.scalar(
        select(BillingInvoice).where(
            BillingInvoice.audience == "ministry",
            BillingInvoice.program_id == program_id,
            BillingInvoice.month == month,
        )
    )


def ministry_invoice(
    session: Session, gateway: StripeGateway, program_id: int, month: date
) -> BillingInvoice:
    """The ministry's draft invoice of `program_id` for `month` (created once). A month whose
    invoice was closed takes no more lines: they go to the next month's invoice."""
    while True:
        found = _ministry_row(session, program_id, month)
        if found is None:
            break
        if found.status == "draft":
            return found
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    program = session.get(SubsidyProgram, program_id)
    assert program is not None
    if not program.stripe_customer_id:
        customer = gateway.create_customer(
            name=f"행정안전부 — {program.name}",
            metadata={"program": program.code},
            idempotency_key=f"program-{program.id}-ministry-customer",
        )
        program.stripe_customer_id = customer["id"]
    remote = gateway.create_invoice(
        customer=program.stripe_customer_id,
        metadata={"chamyeo_audience": "ministry", "program_id": str(program.id), "month": month.isoformat()},
        idempotency_key=f"program-{program.id}-ministry-invoice-{month:%Y-%m}",
    )
    invoice = BillingInvoice(
        stripe_invoice_id=remote["id"],
        audience="ministry",
        program_id=program.id,
        month=month,
        status=remote["status"],
        gross=0,
        subsidy=0,
        net=0,
    )
    session.add(invoice)
    session.flush()
    return invoice


def _bill_ministry(session: Session, gateway: StripeGateway, application: LedgerEntry) -> None:
    key = f"bill:{application.id}"
    if ledger.entry_for_key(session, key) is not None:
        return
    amount = application.inputs["amount"]
    invoice = ministry_invoice(session, gateway, application.program_id, _month())
    assert invoice.month is not None  # a ministry invoice names the month it bills
    tenant = session.get(Tenant, application.tenant_id) if application.tenant_id else None
    item = gateway.create_invoice_item(
        customer=session.get_one(SubsidyProgram, application.program_id).stripe_customer_id or "",
        invoice=invoice.stripe_invoice_id,
        amount=amount,
        description=f"{tenant.name if tenant else application.tenant_id}: {SUBSIDY_DESCRIPTION}",
        metadata={"chamyeo": "ministry_line", "application": str(application.id)},
        idempotency_key=f"ministry-line-{application.id}",
    )
    ledger.post(
        session,
        program_id=application.program_id,
        idempotency_key=key,
        kind="ministry_billing",
        tenant_id=application.tenant_id,
        lines=[
            Line("applied", -amount, application.tenant_id),
            Line("billed", amount, application.tenant_id),
        ],
        inputs={"application_id": application.id, "amount": amount, "month": invoice.month.isoformat()},
        stripe={"invoice": invoice.stripe_invoice_id, "invoice_item": item["id"]},
    )
    invoice.gross += amount
    invoice.net += amount


def ensure_reversed(session: Session, gateway: StripeGateway, invoice_id: str, *, reason: str) -> None:
    """Undo every subsidy applied to a municipality invoice: its ministry line (by a negative
    line on the current month's invoice), its application and its reservation."""
    for application in applications_for_invoice(session, invoice_id):
        billing = ledger.entry_for_key(session, f"bill:{application.id}")
        if billing is not None and not ledger.is_reversed(session, billing.id):
            amount = billing.inputs["amount"]
            month_invoice = ministry_invoice(session, gateway, billing.program_id, _month())
            item = gateway.create_invoice_item(
                customer=session.get_one(SubsidyProgram, billing.program_id).stripe_customer_id or "",
                invoice=month_invoice.stripe_invoice_id,
                amount=-amount,
                description=f"Correction: {SUBSIDY_DESCRIPTION} withdrawn ({reason})",
                metadata={"chamyeo": "ministry_line", "reverses": str(billing.id)},
                idempotency_key=f"ministry-line-reversal-{billing.id}",
            )
            ledger.reverse(
                session,
                billing,
                idempotency_key=f"reverse:{billing.id}",
                reason=reason,
                stripe={"invoice": month_invoice.stripe_invoice_id, "invoice_item": item["id"]},
            )
            month_invoice.gross -= amount
            month_invoice.net -= amount
        ledger.reverse(
            session,
            application,
            idempotency_key=f"reverse:{application.id}",
            reason=reason,
            stripe={"invoice": invoice_id},
        )
        reservation = session.get(LedgerEntry, application.inputs["reservation_id"])
        if reservation is not None:
            ledger.reverse(session, reservation, idempotency_key=f"reverse:{reservation.id}", reason=reason)


def sync_ministry_invoice(session: Session, invoice: dict[str, Any]) -> None:
    """The ministry paid (by bank transfer, marked paid in Stripe): settle each line."""
    row = session.get(BillingInvoice, invoice["id"])
    if row is None:
        return
    row.status = invoice["status"]
    row.number = invoice.get("number")
    if invoice["status"] != "paid":
        return
    billings = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.kind == "ministry_billing", LedgerEntry.stripe["invoice"].astext == invoice["id"])
        .order_by(LedgerEntry.id)
    )
    for billing in billings:
        if ledger.is_reversed(session, billing.id):
            continue
        amount = billing.inputs["amount"]
        ledger.post(
            session,
            program_id=billing.program_id,
            idempotency_key=f"settle:{billing.id}",
            kind="settlement",
            tenant_id=billing.tenant_id,
            lines=[Line("billed", -amount, billing.tenant_id), Line("settled", amount, billing.tenant_id)],
            inputs={"billing_id": billing.id, "amount": amount},
            stripe={"invoice": invoice["id"]},
        )


def do_close_ministry_month(
    session: Session, gateway: StripeGateway, program_id: int, month: date
) -> BillingInvoice | None:
    """Finalize and send the ministry's invoice for `month` (it pays by bank transfer). Commits."""
    row = _ministry_row(session, program_id, month)
    if row is None:
        return None
    remote = gateway.retrieve_invoice(row.stripe_invoice_id)
    if remote["status"] == "draft":
        remote = gateway.finalize_invoice(row.stripe_invoice_id)
        remote = gateway.send_invoice(row.stripe_invoice_id)
    row.status = remote["status"]
    row.number = remote.get("number")
    session.commit()
    return row
