from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import ControlBase, stamped


class TenantHead(ControlBase):
    """The DDL that takes an empty schema to a tenant revision, captured once from a real
    migration run and replayed for every new tenant (no migration history per tenant)."""

    __tablename__ = "tenant_heads"

    revision: Mapped[str] = mapped_column(String(64), primary_key=True)
    statements: Mapped[list[Any]] = mapped_column(JSONB)  # [[sql, params-or-null], ...]
    captured_at: Mapped[datetime] = stamped()
