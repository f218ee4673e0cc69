"""Appending to and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.audit.models import AuditEvent

GENESIS_HASH = "0" * 64
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
    canonical = json.dumps(
        [prev_hash, occurred_at.astimezone(UTC).isoformat(), actor, action, tenant_slug, target, data],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    payload = json.loads(json.dumps(data or {}, default=str))  # what JSONB will give back
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


@dataclass(frozen=True)
class ChainReport:
    events: int
    first_broken_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute every hash in id order; name the first event whose link or content is off."""
    expected_prev = GENESIS_HASH
    count = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return ChainReport(count, None, None)
        for event in rows:
            count += 1
            if event.prev_hash != expected_prev:
                return ChainReport(count, event.id, "previous-hash link does not match")
            recomputed = event_hash(
                event.prev_hash,
                event.occurred_at,
                event.actor,
                event.action,
                event.tenant_slug,
                event.target,
                event.data,
            )
            if recomputed != event.hash:
                return ChainReport(count, event.id, "content does not match its hash")
            expected_prev = event.hash
            last_id = event.id
        session.expunge_all()
