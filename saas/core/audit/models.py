from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import ControlBase


class AuditEvent(ControlBase):
    """One action. Rows are never updated or deleted (a trigger refuses it); each row stores
    the previous row's hash, so removing or editing a row breaks the chain after it."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))  # "token:12", "account:3", "system"
    action: Mapped[str] = mapped_column(String(100))  # "tenant.create", "cycle.open_voting"
    tenant_slug: Mapped[str | None] = mapped_column(String(39), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
