"""The main scenarios against Stripe itself, in test mode (opt-in: `-m stripe_live` with a
test-mode STRIPE_API_KEY; skipped otherwise, see conftest). Stripe cannot call our webhook
from here, so each test does what processing an event does: re-read the invoice from Stripe
and bring the ledger in line (`webhooks.sync_invoice`). Renewals need Stripe's test clocks
and stay with the fake; preparing one (the pending subsidy line) is covered."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, update

from saas.control.billing import gateway, reconciliation, webhooks
from saas.control.billing.models import BillingInvoice, Plan, Subscription
from saas.control.billing.services import ledger, subsidy
from saas.control.billing.services.subscriptions import do_create_plan
from saas.core.tenancy.binding import session_without_tenant

pytestmark = pytest.mark.stripe_live


@pytest.fixture
def live(engine, app):
    """The gateway on Stripe test mode for this test, with a default plan of its own."""
    previous = gateway.current() if gateway.is_configured() else None
    live_gateway = gateway.StripeGateway(os.environ["STRIPE_API_KEY"])
    gateway.use(live_gateway, app)
    gateway.use(live_gateway)
    with session_without_tenant(engine) as session:
        plan = do_create_plan(
            session,
            live_gateway,
            code=f"live-{os.urandom(4).hex()}",
            name="Chamyeo test plan",
            amount=1_000_000,
            interval="month",
            is_default=True,
            actor="test",
        )
    yield live_gateway
    with session_without_tenant(engine) as session:
        session.execute(update(Plan).where(Plan.id == plan.id).values(is_default=False))
        session.commit()
    gateway.use(previous, app)
    gateway.use(previous)


def _subscribed(engine, make_tenant, slug):
    tenant = make_tenant(f"{slug}_{os.urandom(3).hex()}", low_tier=True)  # the 70 % tier
    with session_without_tenant(engine) as session:
        return tenant, session.scalar(select(Subscription).where(Subscription.tenant_id == tenant.id))


def test_live_first_invoice_is_credited_billed_to_the_ministry_and_settled(
    engine, live, this_year_program, make_tenant
):
    tenant, subscription = _subscribed(engine, make_tenant, "live_first")
    assert subscription.stripe_subscription_id.startswith("sub_")
    with session_without_tenant(engine) as session:
        for invoice in live.list_invoices(customer=subscription.stripe_customer_id):
            webhooks.sync_invoice(session, live, invoice["id"])
        session.commit()
        entries = [e.kind for e in ledger_entries(session, tenant.id)]
        assert entries == ["reservation", "application", "ministry_billing"]
        mine = [d for d in reconciliation.reconcile(session, live) if d.tenant_id == tenant.id]
        assert mine == []
        draft = session.scalar(
            select(BillingInvoice).where(
                BillingInvoice.program_id == this_year_program.id, BillingInvoice.status == "draft"
            )
        )
        row = subsidy.do_close_ministry_month(session, live, this_year_program.id, draft.month)
        assert row.status == "open"
    live.client.v1.invoices.pay(row.stripe_invoice_id, {"paid_out_of_band": True})
    with session_without_tenant(engine) as session:
        webhooks.sync_invoice(session, live, row.stripe_invoice_id)
        session.commit()
        assert ledger.balances(session, this_year_program.id, tenant_id=tenant.id)["settled"] > 0
        assert ledger.verify(session, this_year_program.id).ok


def test_live_renewal_preparation_puts_one_negative_line_on_the_customer(
    engine, live, this_year_program, make_tenant
):
    _, subscription = _subscribed(engine, make_tenant, "live_renewal")
    with session_without_tenant(engine) as session:
        first = subsidy.do_prepare_renewal(session, live, session.get(Subscription, subscription.id))
        again = subsidy.do_prepare_renewal(session, live, session.get(Subscription, subscription.id))
    assert first.amount == again.amount > 0
    pending = live.pending_invoice_items(customer=subscription.stripe_customer_id)
    assert [item["amount"] for item in pending] == [-first.amount]


def ledger_entries(session, tenant_id):
    from saas.control.billing.models import LedgerEntry

    return session.scalars(
        select(LedgerEntry).where(LedgerEntry.tenant_id == tenant_id).order_by(LedgerEntry.id)
    ).all()
