"""Webhook delivery by hand: the fake keeps its events in an outbox (deliver="manual"), tests
post them to our endpoint, signed, and process them as the RQ job would."""

from __future__ import annotations

from saas.control.billing import webhooks
from saas.core.tenancy.binding import session_without_tenant


def deliver(client, stripe_fake, events=None):
    """Post the fake's pending events to our endpoint, signed; returns the recorded ids."""
    ids = []
    for event in stripe_fake.fake.take_outbox() if events is None else events:
        payload, header = stripe_fake.fake.signed(event)
        response = client.post("/billing/stripe/webhook", data=payload, headers={"Stripe-Signature": header})
        assert response.status_code == 200, response.get_json()
        ids.append(event["id"])
    return ids


def process(engine, gateway, event_ids):
    with session_without_tenant(engine) as session:
        for event_id in event_ids:
            webhooks.process(session, gateway, event_id)


def pay_out_of_band(stripe_fake, invoice_id):
    """The ministry pays by bank transfer; someone marks the invoice paid in Stripe."""
    import requests

    response = requests.post(
        f"{stripe_fake.url}/v1/invoices/{invoice_id}/pay",
        data={"paid_out_of_band": "true"},
        headers={"Authorization": "Bearer sk_test_x"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
