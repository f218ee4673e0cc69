"""RQ jobs of the `billing` queue. They carry ids, never objects, and build their own engine
and gateway from the worker's environment."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import stripe
from rq import Queue
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from saas.control.billing import gateway as billing_gateway
from saas.control.billing import reconciliation, webhooks
from saas.control.billing.models import BillingInvoice, Subscription, SubsidyProgram
from saas.control.billing.services import subsidy
from saas.core import clock
from saas.core.queue import enqueue_after_commit
from saas.core.tenancy.binding import session_without_tenant

JOB_TIMEOUT_SECONDS = 300
log = logging.getLogger(__name__)


@functools.cache
def _engine() -> Engine:
    from saas.core.db import Database
    from saas.core.settings import Settings

    database = Database()
    database.configure(Settings.from_env())
    return database.engine


def process_stripe_event(event_id: str) -> bool:
    with session_without_tenant(_engine()) as session:
        return webhooks.process(session, billing_gateway.current(), event_id)


def enqueue_event(queue: Queue, event_id: str, *, session: Session | None = None) -> None:
    """Process the recorded event `event_id` in the background, once `session` (if given and
    in a transaction) commits."""
    # The event id is the job id: a duplicate delivery enqueues nothing new while one is queued.
    enqueue_after_commit(
        session,
        queue,
        process_stripe_event,
        event_id,
        job_id=f"stripe-{event_id}"[:128],
        job_timeout=JOB_TIMEOUT_SECONDS,
        result_ttl=3600,
        failure_ttl=86400,
        description=f"stripe event {event_id}",
    )


@dataclass(frozen=True)
class RenewalOutcome:
    """What preparing one subscription's renewal did (`error` set when Stripe refused)."""

    tenant_id: int
    amount: int
    inputs: dict[str, Any]
    error: str | None = None


def prepare_renewals(engine: Engine | None = None) -> list[RenewalOutcome]:
    """Reserve the coming period's subsidy for every subscription and put its line on the
    customer. One subscription's failure is reported and does not stop the others: the next
    run retries it (every step is idempotent)."""
    engine = engine or _engine()
    gateway = billing_gateway.current()
    with session_without_tenant(engine) as session:
        ids = list(
            session.scalars(
                select(Subscription.id)
                .where(Subscription.stripe_subscription_id.is_not(None))
                .order_by(Subscription.id)
            )
        )
    outcomes = []
    for subscription_id in ids:
        with session_without_tenant(engine) as session:
            subscription = session.get(Subscription, subscription_id)
            if subscription is None:
                continue
            tenant_id = subscription.tenant_id
            try:
                reservation = subsidy.do_prepare_renewal(session, gateway, subscription)
            except stripe.StripeError as error:
                session.rollback()
                log.warning("renewal of tenant %s not prepared: %s", tenant_id, error)
                outcomes.append(RenewalOutcome(tenant_id, 0, {}, str(error)))
                continue
            outcomes.append(RenewalOutcome(tenant_id, reservation.amount, reservation.inputs))
    return outcomes


def previous_month(now: datetime | None = None) -> date:
    """The Korean calendar month before the one `now` falls in (the month to close)."""
    moment = (now or clock.now()).astimezone(clock.SEOUL)
    return date(moment.year - (moment.month == 1), (moment.month - 2) % 12 + 1, 1)


def close_month(month: str | date | None = None, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Finalize and send every program's ministry invoice for `month` (default: the previous
    month). Invoices already sent are reported as they are. `month` may be an ISO date, as
    jobs carry plain values."""
    if isinstance(month, str):
        month = date.fromisoformat(month)
    month = month or previous_month()
    gateway = billing_gateway.current()
    with session_without_tenant(engine or _engine()) as session:
        program_ids = [
            program_id  # every ministry invoice bills a program; the column allows none for others
            for program_id in session.scalars(
                select(BillingInvoice.program_id)
                .where(BillingInvoice.audience == "ministry", BillingInvoice.month == month)
                .order_by(BillingInvoice.program_id)
            )
            if program_id is not None
        ]
        closed = []
        for program_id in program_ids:
            row = subsidy.do_close_ministry_month(session, gateway, program_id, month)
            program = session.get(SubsidyProgram, program_id)
            if row is not None and program is not None:
                closed.append(
                    {
                        "program": program.code,
                        "month": month.isoformat(),
                        "invoice": row.stripe_invoice_id,
                        "number": row.number,
                        "status": row.status,
                        "amount": row.gross,
                    }
                )
        return closed


def reconcile(engine: Engine | None = None) -> list[dict[str, Any]]:
    """Compare Stripe with the ledger; every difference is returned and raised as an alert
    for the ministry admins (once per invoice and kind of difference)."""
    with session_without_tenant(engine or _engine()) as session:
        differences = [d.as_dict() for d in reconciliation.reconcile(session, billing_gateway.current())]
        for difference in differences:
            subsidy.raise_alert(
                session,
                f"reconcile:{difference['stripe_invoice_id']}:{difference['what']}",
                "reconciliation",
                f"Stripe invoice {difference['stripe_invoice_id']}: {difference['what']} is "
                f"{difference['stripe_amount']} won in Stripe, {difference['ledger_amount']} in the ledger.",
                **difference,
            )
        session.commit()
        return differences
