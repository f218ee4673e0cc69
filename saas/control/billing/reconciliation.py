"""Reconciliation: compare Stripe's invoices with the ledger and report every difference.

For each municipality subscription, every Stripe invoice of its customer is compared with
the subsidy the ledger holds for it; for each ministry invoice, its total with the ledger's
billing entries. Nothing is corrected here: a difference is a finding for a person.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.billing.gateway import StripeGateway
from saas.control.billing.models import BillingInvoice, LedgerEntry, Subscription
from saas.control.billing.services import subsidy


@dataclass(frozen=True)
class Difference:
    stripe_invoice_id: str
    what: str
    stripe_amount: int
    ledger_amount: int
    tenant_id: int | None = None
    program_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stripe_subsidy(gateway: StripeGateway, invoice: dict[str, Any]) -> int:
    on_lines = -sum(
        line["amount"]
        for line in invoice["lines"]["data"]
        if (line.get("metadata") or {}).get("chamyeo") == subsidy.SUBSIDY_MARK
    )
    credited = sum(
        note["amount"]
        for note in gateway.list_credit_notes(invoice=invoice["id"])
        if (note.get("metadata") or {}).get("chamyeo") == subsidy.SUBSIDY_MARK
        and note.get("status") == "issued"
    )
    return on_lines + credited


def reconcile(session: Session, gateway: StripeGateway) -> list[Difference]:
    differences: list[Difference] = []
    for subscription in session.scalars(select(Subscription).order_by(Subscription.id)):
        if not subscription.stripe_customer_id:
            continue
        for invoice in gateway.list_invoices(customer=subscription.stripe_customer_id):
            if invoice["status"] == "draft":
                continue  # not final: its subsidy is still only reserved
            expected = 0 if invoice["status"] == "void" else _stripe_subsidy(gateway, invoice)
            held = subsidy.live_subsidy_on_invoice(session, invoice["id"])
            if expected != held:
                differences.append(
                    Difference(
                        invoice["id"],
                        "municipality subsidy",
                        expected,
                        held,
                        tenant_id=subscription.tenant_id,
                    )
                )
    for row in session.scalars(select(BillingInvoice).where(BillingInvoice.audience == "ministry")):
        invoice = gateway.retrieve_invoice(row.stripe_invoice_id)
        billed = 0
        for entry in session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.kind.in_(("ministry_billing", "reversal")),
                LedgerEntry.stripe["invoice"].astext == row.stripe_invoice_id,
            )
        ):
            billed += sum(line.amount for line in entry.lines if line.account == "billed")
        if invoice["subtotal"] != billed:
            differences.append(
                Difference(
                    row.stripe_invoice_id,
                    "ministry invoice total",
                    invoice["subtotal"],
                    billed,
                    program_id=row.program_id,
                )
            )
        if (invoice["status"] == "paid") != (row.status == "paid"):
            differences.append(
                Difference(
                    row.stripe_invoice_id,
                    f"ministry invoice status {invoice['status']}",
                    invoice["subtotal"],
                    billed,
                    program_id=row.program_id,
                )
            )
    return differences
