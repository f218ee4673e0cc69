"""Funded projects as they are carried out: status, progress, spend, milestones, updates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import stamped
from tenants.db import TenantBase

STATUSES = ("planned", "in_progress", "completed", "delayed", "cancelled")


class ExecutionItem(TenantBase):
    __tablename__ = "execution_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    progress_pct: Mapped[int] = mapped_column(SmallInteger, default=0)
    budget: Mapped[int] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = stamped(on_update=True)


class Milestone(TenantBase):
    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("execution_items.id", ondelete="CASCADE"), index=True)
    title_ko: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)


class ExecutionUpdate(TenantBase):
    __tablename__ = "execution_updates"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("execution_items.id", ondelete="CASCADE"), index=True)
    posted_on: Mapped[date] = mapped_column(Date)
    body_ko: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    progress_pct: Mapped[int] = mapped_column(SmallInteger)
    spent: Mapped[int] = mapped_column(BigInteger)
    posted_by: Mapped[str] = mapped_column(String(200))
    posted_at: Mapped[datetime] = stamped()
