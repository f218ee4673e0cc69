"""A correctly signed webhook whose body is JSON but no event object answers 400."""

import json

import pytest
import stripe

from tests.billing.conftest import WEBHOOK_SECRET


def _post_signed(webhook_app, body):
    """POST `body` as JSON to the webhook, correctly signed with the test secret."""
    payload = json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    return webhook_app.test_client().post(
        "/billing/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("body", [[], [{"id": "evt_1", "type": "invoice.paid"}], "evt", 7, None, {}])
def test_a_signed_body_that_is_no_event_object_is_400(webhook_app, body):
    response = _post_signed(webhook_app, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "not a Stripe event" in response.get_json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"id": "evt_x1", "type": "invoice.paid", "data": [1]},
        {"id": "evt_x2", "type": "invoice.paid", "data": {"object": [1]}},
        {"id": "evt_x3", "type": "invoice.paid", "data": {"object": {"id": 7}}},
        {"id": "evt_x4", "type": "invoice.paid", "data": "x"},
        {"id": 5, "type": "invoice.paid"},
        {"id": "evt_x5", "type": ["invoice.paid"]},
        {"id": "evt_x6", "type": "invoice." + "x" * 100},
        {"id": "evt_" + "x" * 300, "type": "invoice.paid"},
        {"id": "", "type": "invoice.paid"},
        {"id": "evt_x7", "type": "invoice.paid", "data": {"object": {"id": "in_" + "x" * 300}}},
    ],
)
def test_a_signed_event_of_the_wrong_shape_is_400(webhook_app, body):
    response = _post_signed(webhook_app, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["message"].startswith("Refused")
