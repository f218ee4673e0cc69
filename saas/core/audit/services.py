"""Appending to and verifying the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from saas.core import clock, hashchain
from saas.core.audit.models import AuditEvent
from saas.core.hashchain import GENESIS_HASH, ChainCheck

# One advisory lock serialises appends, so two transactions never chain onto the same row.
_CHAIN_LOCK_KEY = 0x6368_6169_6E  # "chain"


def event_hash(
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    tenant_slug: str | None,
    target: str | None,
    data: dict[str, Any],
) -> str:
    return hashchain.link_hash(
        prev_hash, [hashchain.moment(occurred_at), actor, action, tenant_slug, target, data]
    )


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    tenant_slug: str | None = None,
    target: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction (it commits or rolls back with the action)."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = prev or GENESIS_HASH
    occurred_at = clock.now()
    payload = hashchain.as_stored(data or {})
    event = AuditEvent(
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        tenant_slug=tenant_slug,
        target=target,
        data=payload,
        prev_hash=prev_hash,
        hash=event_hash(prev_hash, occurred_at, actor, action, tenant_slug, target, payload),
    )
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session, batch: int = 5000) -> ChainCheck:
    """Recompute every hash in id order; name the first event whose link or content is off."""
    return hashchain.verify(
        _in_batches(session, batch),
        lambda e: event_hash(e.prev_hash, e.occurred_at, e.actor, e.action, e.tenant_slug, e.target, e.data),
    )


def _in_batches(session: Session, batch: int) -> Iterator[AuditEvent]:
    """Every event in id order, `batch` rows in memory at a time."""
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield from rows
        session.expunge_all()
