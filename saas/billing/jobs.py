"""RQ jobs of the `billing` queue. They carry ids, never objects, and build their own engine
and gateway from the worker's environment."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from saas.billing import gateway as billing_gateway
from saas.billing import reconciliation, webhooks
from saas.billing.models import Subscription
from saas.billing.services import subsidy
from saas.tenancy.binding import session_without_tenant

JOB_TIMEOUT_SECONDS = 300


@functools.cache
def _engine() -> Engine:
    from saas.db import Database
    from saas.settings import Settings

    database = Database()
    database.configure(Settings.from_env())
    return database.engine


def process_stripe_event(event_id: str) -> bool:
    with session_without_tenant(_engine()) as session:
        return webhooks.process(session, billing_gateway.current(), event_id)


def enqueue_event(queue: Any, event_id: str) -> None:  # noqa: ANN401 - rq.Queue
    # The event id is the job id: a duplicate delivery enqueues nothing new while one is queued.
    queue.enqueue(
        process_stripe_event,
        event_id,
        job_id=f"stripe-{event_id}"[:128],
        job_timeout=JOB_TIMEOUT_SECONDS,
        result_ttl=3600,
        failure_ttl=86400,
        description=f"stripe event {event_id}",
    )


def prepare_renewals(engine: Engine | None = None) -> int:
    """Reserve the coming period's subsidy for every active subscription; returns how many
    got a subsidy line."""
    engine = engine or _engine()
    gateway = billing_gateway.current()
    with session_without_tenant(engine) as session:
        ids = list(
            session.scalars(select(Subscription.id).where(Subscription.stripe_subscription_id.is_not(None)))
        )
    count = 0
    for subscription_id in ids:
        with session_without_tenant(engine) as session:
            subscription = session.get(Subscription, subscription_id)
            if subscription is not None and subsidy.do_prepare_renewal(session, gateway, subscription).amount:
                count += 1
    return count


def reconcile(engine: Engine | None = None) -> list[dict[str, Any]]:
    with session_without_tenant(engine or _engine()) as session:
        return [d.as_dict() for d in reconciliation.reconcile(session, billing_gateway.current())]
