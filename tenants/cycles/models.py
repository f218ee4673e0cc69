"""A PB cycle ("2027 주민참여예산"): its phases, dates and budget envelopes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saas.core.db import stamped
from tenants.db import TenantBase

DRAFT, CLOSED = "draft", "closed"
VOTING = "voting"


class Cycle(TenantBase):
    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    # "draft", a phase key (the phase now open), or "closed"
    status: Mapped[str] = mapped_column(String(32), default=DRAFT)
    # Copied from the portal settings when the cycle is made; frozen once voting opens.
    ballot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONB)
    channels: Mapped[dict[str, Any]] = mapped_column(JSONB)
    voting_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = stamped()

    phases: Mapped[list[CyclePhase]] = relationship(
        order_by="CyclePhase.position", cascade="all, delete-orphan"
    )
    envelopes: Mapped[list[Envelope]] = relationship(order_by="Envelope.id", cascade="all, delete-orphan")

    @property
    def is_frozen(self) -> bool:
        """Ballot rules, envelopes and the project list cannot change once voting opened."""
        return self.voting_opened_at is not None


class CyclePhase(TenantBase):
    __tablename__ = "cycle_phases"
    __table_args__ = (UniqueConstraint("cycle_id", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    name_ko: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Envelope(TenantBase):
    """A budget counted on its own: citywide, one district, or one dong."""

    __tablename__ = "envelopes"
    __table_args__ = (UniqueConstraint("cycle_id", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))  # citywide | district | dong
    # For scope dong: the dong's 10-digit code; for district: a district code of the portal.
    area_code: Mapped[str | None] = mapped_column(String(10))
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    budget: Mapped[int] = mapped_column(BigInteger)  # won
