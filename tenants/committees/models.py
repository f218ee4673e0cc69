"""Committees of a PB cycle: the city committee and the dong committees, their applicants,
seated members, meetings and scores on ballot projects.

Five tables on purpose (every relation costs files in each of thousands of tenant schemas):
small lists (roles, quotas, agenda, attendance, decisions, the lottery record) are JSONB.
Demographics (sex, age, dong) are stored only on rows whose `consent` is true, with the time
consent was given; withdrawing consent clears them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import stamped
from tenants.db import TenantBase

CITY, DONG = "city", "dong"
SEXES = ("female", "male")  # as in the official population figures the report compares with
LOTTERY_SEAT, APPOINTED_SEAT = "lottery", "appointed"  # else "reserved:<group key>"


class Committee(TenantBase):
    """One committee of one cycle, its structure copied from the portal's template settings.

    `lottery` is None until the draw; then it holds the published record of it (seed,
    applicant snapshot and its hash, seats drawn, shortfalls) — see `lottery.py`."""

    __tablename__ = "committees"
    # One city committee per template key and cycle; one dong committee per dong.
    __table_args__ = (UniqueConstraint("cycle_id", "key", "dong_code", postgresql_nulls_not_distinct=True),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # the template's committee key
    level: Mapped[str] = mapped_column(String(8))  # city | dong
    dong_code: Mapped[str | None] = mapped_column(String(10))  # for level dong
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    seats: Mapped[int] = mapped_column(Integer)
    term_months: Mapped[int] = mapped_column(Integer)
    term_starts_on: Mapped[date | None] = mapped_column(Date)
    selection: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{key, name, seats}]
    quotas: Mapped[dict[str, Any]] = mapped_column(JSONB)  # template quotas (+ min_per_dong)
    lottery: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = stamped()


class Applicant(TenantBase):
    """A resident who applied for a seat (online, or entered by staff from a paper form)."""

    __tablename__ = "committee_applicants"
    # One application per person and committee; the index also serves "applicants of".
    __table_args__ = (UniqueConstraint("committee_id", "principal"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    principal: Mapped[str | None] = mapped_column(String(200))  # who applied online
    entered_by: Mapped[str | None] = mapped_column(String(200))  # staff, for paper forms
    reserved_key: Mapped[str | None] = mapped_column(String(64))  # a reserved-seat group
    consent: Mapped[bool] = mapped_column(Boolean)
    consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sex: Mapped[str | None] = mapped_column(String(8))
    # Age in whole years, not a band: template quota bands (e.g. 14–16) do not align with the
    # 5-year bands of the population figures, so only the age places a person in both.
    age: Mapped[int | None] = mapped_column(SmallInteger)
    dong_code: Mapped[str | None] = mapped_column(String(10))
    applied_at: Mapped[datetime] = stamped()


class CommitteeMember(TenantBase):
    """A seat held: drawn by lottery, reserved for a group, or appointed by the municipality."""

    __tablename__ = "committee_members"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"))
    applicant_id: Mapped[int | None] = mapped_column(
        ForeignKey("committee_applicants.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))  # a role key of the committee (chair, ...)
    seat: Mapped[str] = mapped_column(String(80))  # lottery | appointed | reserved:<key>
    # The credential that speaks for this member (scores, attendance); set by staff.
    principal: Mapped[str | None] = mapped_column(String(200))
    consent: Mapped[bool] = mapped_column(Boolean)
    consented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sex: Mapped[str | None] = mapped_column(String(8))
    age: Mapped[int | None] = mapped_column(SmallInteger)
    dong_code: Mapped[str | None] = mapped_column(String(10))
    term_ends_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)  # resigned or removed before term end
    seated_at: Mapped[datetime] = stamped()


class Meeting(TenantBase):
    """A committee meeting: agenda, attendance ({member id: present|absent|excused}),
    minutes and decisions. Few per committee, so no index beyond the key."""

    __tablename__ = "committee_meetings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="CASCADE"))
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str | None] = mapped_column(String(200))
    agenda: Mapped[list[str]] = mapped_column(JSONB)
    attendance: Mapped[dict[str, str]] = mapped_column(JSONB)
    minutes: Mapped[str | None] = mapped_column(Text)
    decisions: Mapped[list[str]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = stamped()


class Score(TenantBase):
    """One member's score (0–100) of one ballot project; the member may change it until
    voting opens."""

    __tablename__ = "committee_scores"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("committee_members.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    scored_at: Mapped[datetime] = stamped(on_update=True)
