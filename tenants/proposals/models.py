"""Proposals from residents (online or entered by staff), their review, and ballot projects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import stamped
from tenants.db import TenantBase

CHANNELS = ("online", "paper", "counter", "meeting")
STATUSES = ("submitted", "feasible", "infeasible", "shortlisted", "withdrawn")


class Proposal(TenantBase):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category_key: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str | None] = mapped_column(String(10))  # a dong of the portal
    location_text: Mapped[str | None] = mapped_column(String(300))
    estimated_cost: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(16))
    proposer: Mapped[str] = mapped_column(String(200))  # who proposes (a principal or a name)
    entered_by: Mapped[str | None] = mapped_column(String(200))  # staff, for offline channels
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    supports: Mapped[int] = mapped_column(Integer, default=0)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = stamped()


class ProposalSupport(TenantBase):
    __tablename__ = "proposal_supports"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    supporter: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = stamped()


class Comment(TenantBase):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = stamped()


class FeasibilityReview(TenantBase):
    __tablename__ = "feasibility_reviews"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    legal_ok: Mapped[bool] = mapped_column(Boolean)
    cost_estimate: Mapped[int] = mapped_column(BigInteger)
    feasible: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[datetime] = stamped()


class Project(TenantBase):
    """A project on the ballot of one envelope (shortlisted from a proposal, or entered)."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("cycle_id", "code"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    envelope_id: Mapped[int] = mapped_column(ForeignKey("envelopes.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(32))  # the project id in pabulib exports
    title_ko: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    category_key: Mapped[str] = mapped_column(String(64))
    cost: Mapped[int] = mapped_column(BigInteger)
