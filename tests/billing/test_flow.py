"""The subsidy's path through our fake Stripe over HTTP: provisioning opens billing, a
renewal carries the subsidy line, an invoice finalized without it gets a credit note, the
ministry is billed monthly and settles, voids reverse; webhooks are verified, recorded once
and processed in any order; reconciliation finds a planted difference."""

from __future__ import annotations

import json

import requests
from sqlalchemy import select

from saas.control.billing import reconciliation
from saas.control.billing.models import BillingInvoice, LedgerEntry, StripeEvent, Subscription
from saas.control.billing.services import ledger, subsidy
from saas.core import clock
from saas.core.tenancy.binding import session_without_tenant
from tests.billing.stripe_events import deliver, pay_out_of_band, process


def _subscribed(engine, make_tenant, slug):
    tenant = make_tenant(slug, low_tier=True)  # a municipality of the low tier, as 목포시
    with session_without_tenant(engine) as session:
        subscription = session.scalar(select(Subscription).where(Subscription.tenant_id == tenant.id))
    return tenant, subscription


def test_provisioning_opens_billing_and_the_first_invoice_gets_a_credit_note(
    engine, webhook_app, stripe_fake, stripe_gateway, default_plan, this_year_program, make_tenant
):
    client = webhook_app.test_client()
    stripe_fake.fake.take_outbox()
    tenant, subscription = _subscribed(engine, make_tenant, "mokpo_first")
    assert subscription.stripe_customer_id.startswith(
        "cus_"
    ) and subscription.stripe_subscription_id.startswith("sub_")
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    with session_without_tenant(engine) as session:
        mine = ledger.balances(session, this_year_program.id, tenant_id=tenant.id)
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.tenant_id == tenant.id).order_by(LedgerEntry.id)
        ).all()
    # The first invoice was finalized with no subsidy line: a credit note carries it.
    assert [e.kind for e in entries] == ["reservation", "application", "ministry_billing"]
    assert "credit_note" in entries[1].stripe
    granted = entries[0].inputs["amount"]
    assert granted == default_plan.amount * entries[0].inputs["rate_bp"] // 10000 > 0
    assert mine["billed"] == granted
    invoices = client.get(f"/t/{tenant.slug}/api/v1/billing/invoices", headers=tenant.auth()).get_json()
    assert [(i["gross"], i["subsidy"], i["net"]) for i in invoices] == [
        (1_000_000, granted, 1_000_000 - granted)
    ]
    # The provisioning step is safe to re-run: same Stripe customer and subscription.
    from saas.control.billing.services.subscriptions import open_billing

    with session_without_tenant(engine) as session:
        again = open_billing(session, lambda: stripe_gateway, tenant.id)
        assert again.stripe_subscription_id == subscription.stripe_subscription_id


def test_a_renewal_carries_the_subsidy_line_and_a_void_reverses_it(
    engine, webhook_app, stripe_fake, stripe_gateway, default_plan, current_programs, make_tenant
):
    client = webhook_app.test_client()
    tenant, subscription = _subscribed(engine, make_tenant, "mokpo_renew")
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    paying = current_programs.paying_the_renewal_of(stripe_gateway, subscription)
    with session_without_tenant(engine) as session:
        reservation = subsidy.do_prepare_renewal(
            session, stripe_gateway, session.get(Subscription, subscription.id)
        )
    # 목포시 is in the 70 % tier, in the program of the year the renewed period starts in.
    assert (reservation.program_id, reservation.amount) == (paying.id, default_plan.amount * 7000 // 10000)
    url = f"{stripe_fake.url}/_fake/subscriptions/{subscription.stripe_subscription_id}/renew"
    invoice = requests.post(
        url, data={"pay": "false"}, headers={"Authorization": "Bearer sk_test_x"}, timeout=5
    ).json()
    lines = [line["amount"] for line in invoice["lines"]["data"]]
    assert sorted(lines) == [-reservation.amount, default_plan.amount]
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    with session_without_tenant(engine) as session:
        applied = subsidy.applications_for_invoice(session, invoice["id"])
        assert len(applied) == 1 and "invoice_item" in applied[0].stripe  # the line, no credit note
    stripe_gateway.void_invoice(invoice["id"])
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    with session_without_tenant(engine) as session:
        assert subsidy.live_subsidy_on_invoice(session, invoice["id"]) == 0
        assert ledger.is_reversed(session, reservation.entry.id)
        assert ledger.verify(session, paying.id).ok
        # Other tests plant differences on their own tenants' invoices.
        assert [
            d for d in reconciliation.reconcile(session, stripe_gateway) if d.tenant_id == tenant.id
        ] == []


def test_webhooks_refuse_forgery_and_stale_signatures_and_record_replays_once(
    engine, webhook_app, stripe_fake, default_plan, this_year_program, make_tenant
):
    client = webhook_app.test_client()
    make_tenant("mokpo_hooks", low_tier=True)
    event = stripe_fake.fake.take_outbox()[-1]
    payload, header = stripe_fake.fake.signed(event)
    forged, forged_header = stripe_fake.fake.signed(event, secret="whsec_someone_else")
    stale_payload, stale_header = stripe_fake.fake.signed(event, timestamp=int(clock.timestamp()) - 3600)
    assert (
        client.post(
            "/billing/stripe/webhook", data=forged, headers={"Stripe-Signature": forged_header}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/billing/stripe/webhook", data=stale_payload, headers={"Stripe-Signature": stale_header}
        ).status_code
        == 400
    )
    tampered = json.dumps({**event, "type": "invoice.voided"}).encode()
    assert (
        client.post(
            "/billing/stripe/webhook", data=tampered, headers={"Stripe-Signature": header}
        ).status_code
        == 400
    )
    first = client.post(
        "/billing/stripe/webhook", data=payload, headers={"Stripe-Signature": header}
    ).get_json()
    replay = client.post(
        "/billing/stripe/webhook", data=payload, headers={"Stripe-Signature": header}
    ).get_json()
    assert (first["duplicate"], replay["duplicate"]) == (False, True)
    with session_without_tenant(engine) as session:
        assert len(session.scalars(select(StripeEvent).where(StripeEvent.id == event["id"])).all()) == 1


def test_events_out_of_order_and_twice_leave_the_same_ledger(
    engine, webhook_app, stripe_fake, stripe_gateway, default_plan, this_year_program, make_tenant
):
    client = webhook_app.test_client()
    tenant, _ = _subscribed(engine, make_tenant, "mokpo_order")
    events = stripe_fake.fake.take_outbox()
    paid_first = sorted(events, key=lambda e: e["type"] != "invoice.paid")  # paid before finalized
    ids = deliver(client, stripe_fake, paid_first)
    deliver(client, stripe_fake, paid_first)  # and everything delivered twice
    process(engine, stripe_gateway, ids + ids)
    with session_without_tenant(engine) as session:
        kinds = [
            e.kind for e in session.scalars(select(LedgerEntry).where(LedgerEntry.tenant_id == tenant.id))
        ]
        assert sorted(kinds) == ["application", "ministry_billing", "reservation"]
        processed = session.scalars(select(StripeEvent.processed_at).where(StripeEvent.id.in_(ids))).all()
        assert all(processed)


def test_the_ministry_is_billed_monthly_and_settles_by_bank_transfer(
    engine,
    webhook_app,
    stripe_fake,
    stripe_gateway,
    default_plan,
    this_year_program,
    make_tenant,
    auditor,
    ministry,
):
    client = webhook_app.test_client()
    _subscribed(engine, make_tenant, "mokpo_ministry")
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    with session_without_tenant(engine) as session:
        # The invoice taking this month's lines: this month's, or the next one when another
        # test closed this month already.
        month = session.scalar(
            select(BillingInvoice.month).where(
                BillingInvoice.program_id == this_year_program.id, BillingInvoice.status == "draft"
            )
        )
        row = subsidy.do_close_ministry_month(session, stripe_gateway, this_year_program.id, month)
        assert row.status == "open"
    pay_out_of_band(stripe_fake, row.stripe_invoice_id)
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    view = client.get(f"/api/v1/billing/programs/{this_year_program.id}", headers=ministry).get_json()
    amounts = view["amounts"]
    assert amounts["settled"] == amounts["billed"] == amounts["applied"] > 0
    assert amounts["available"] + amounts["reserved"] + amounts["applied"] == amounts["budget"]
    verify = client.get(f"/api/v1/billing/programs/{this_year_program.id}/verify", headers=auditor).get_json()
    assert verify["ok"] and verify["first_broken_id"] is None
    for fmt in ("csv", "json"):
        url = f"/api/v1/billing/programs/{this_year_program.id}/ledger?format={fmt}&period_to=2999-01-01"
        first, second = client.get(url, headers=auditor), client.get(url, headers=auditor)
        assert first.status_code == 200 and first.data == second.data and len(first.data) > 100


def test_reconciliation_reports_a_planted_difference(
    engine, webhook_app, stripe_fake, stripe_gateway, default_plan, this_year_program, make_tenant
):
    client = webhook_app.test_client()
    _, subscription = _subscribed(engine, make_tenant, "mokpo_recon")
    process(engine, stripe_gateway, deliver(client, stripe_fake))
    invoice = stripe_gateway.list_invoices(customer=subscription.stripe_customer_id)[0]
    # Someone credits a second "subsidy" in Stripe by hand; the ledger never heard of it.
    stripe_gateway.create_credit_note(
        invoice=invoice["id"],
        amount=1234,
        memo="by hand",
        metadata={"chamyeo": "subsidy"},
        idempotency_key="planted",
    )
    stripe_fake.fake.take_outbox()
    with session_without_tenant(engine) as session:
        found = [
            d
            for d in reconciliation.reconcile(session, stripe_gateway)
            if d.stripe_invoice_id == invoice["id"]
        ]
    assert len(found) == 1 and found[0].stripe_amount - found[0].ledger_amount == 1234
