"""Counted results: everything needed to recount, and hashes to prove it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saas.core.db import stamped
from tenants.db import TenantBase

if TYPE_CHECKING:
    from tenants.cycles.models import Envelope


class Result(TenantBase):
    __tablename__ = "results"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id", ondelete="CASCADE"), index=True)
    record: Mapped[dict[str, Any]] = mapped_column(JSONB)  # rule, parameters, tie-break, outcome
    input_hash: Mapped[str] = mapped_column(String(64))  # of the election counted (pabulib text)
    result_hash: Mapped[str] = mapped_column(String(64))  # of the whole record
    counted_by: Mapped[str] = mapped_column(String(200))
    counted_at: Mapped[datetime] = stamped()
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Read with the result, so a record names its envelope (key and names), not only its id.
    envelope: Mapped[Envelope] = relationship("Envelope", lazy="joined", viewonly=True)
