"""Stripe webhooks: verified on the raw body, recorded once by event id, processed in RQ.

Processing never trusts the event's snapshot for state: it re-reads the object from Stripe
and brings the ledger in line with it, so duplicates, concurrent deliveries and events out
of order (paid before finalized) all end in the same ledger.
"""

from __future__ import annotations

from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.control.billing.gateway import StripeGateway
from saas.control.billing.models import StripeEvent
from saas.control.billing.services import subscriptions, subsidy
from saas.core import clock
from saas.core.refusals import Malformed


class WebhookRefused(Malformed):
    """Bad signature, stale timestamp or a body that is no event (answered with 400)."""


def do_receive(session: Session, payload: bytes, signature: str | None, secret: str) -> tuple[str, bool]:
    """Verify and record an event; returns (event id, first time seen). Commits."""
    try:
        event = StripeGateway.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise WebhookRefused(f"Refused: {str(error) or 'the signature does not verify'}") from None
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise WebhookRefused("Refused: the body is not a Stripe event")
    if not 0 < len(event_id) <= 255 or not 0 < len(event_type) <= 100:
        raise WebhookRefused("Refused: the event's id (1-255 characters) or type (1-100) does not fit")
    data = event.get("data") or {}
    obj = (data.get("object") or {}) if isinstance(data, dict) else None
    # A Stripe event's data.object is the object, with a string id: anything else is no event
    # (and processing, which reads the object's id, would fail on it in the worker).
    if not isinstance(obj, dict) or not isinstance(obj.get("id", ""), str) or len(obj.get("id", "")) > 255:
        raise WebhookRefused(
            "Refused: the body is not a Stripe event (data.object: an object with a string id)"
        )
    inserted = session.execute(
        insert(StripeEvent)
        .values(id=event_id, type=event_type, object_id=obj.get("id"), payload=event)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StripeEvent.id)
    ).first()
    session.commit()
    return event_id, inserted is not None


def process(session: Session, gateway: StripeGateway, event_id: str) -> bool:
    """Apply one recorded event, once (the row lock makes a concurrent run wait, then skip).
    Returns whether it did anything. Commits."""
    event = session.scalar(select(StripeEvent).where(StripeEvent.id == event_id).with_for_update())
    if event is None or event.processed_at is not None:
        session.rollback()
        return False
    obj: dict[str, Any] = event.payload.get("data", {}).get("object", {})
    if event.type.startswith("invoice."):
        sync_invoice(session, gateway, obj["id"])
    elif event.type.startswith("credit_note.") and obj.get("invoice"):
        sync_invoice(session, gateway, obj["invoice"])
    event.processed_at = clock.now()
    session.commit()
    return True


def sync_invoice(session: Session, gateway: StripeGateway, invoice_id: str) -> None:
    """Bring the ledger in line with one Stripe invoice as it is now (caller commits)."""
    invoice = gateway.retrieve_invoice(invoice_id)
    if (invoice.get("metadata") or {}).get("chamyeo_audience") == "ministry":
        subsidy.sync_ministry_invoice(session, invoice)
        return
    subscription = subscriptions.subscription_for_customer(session, invoice["customer"])
    if subscription is None:
        return  # not one of our municipalities
    if invoice["status"] == "paid" and _fully_credited_by_others(gateway, invoice):
        # Credited in full by someone else (a refund): the subsidy is withdrawn like on a void.
        subsidy.ensure_reversed(session, gateway, invoice["id"], reason="invoice credited in full")
    subsidy.sync_municipality_invoice(session, gateway, invoice, subscription)


def _fully_credited_by_others(gateway: StripeGateway, invoice: dict[str, Any]) -> bool:
    credited = invoice.get("post_payment_credit_notes_amount", 0) + invoice.get(
        "pre_payment_credit_notes_amount", 0
    )
    if credited < invoice["total"] or invoice["total"] == 0:
        return False
    notes = gateway.list_credit_notes(invoice=invoice["id"])
    ours = sum(n["amount"] for n in notes if (n.get("metadata") or {}).get("chamyeo") == subsidy.SUBSIDY_MARK)
    return credited - ours >= invoice["total"] - ours
