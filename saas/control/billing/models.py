"""Billing and subsidies in the control plane.

Plans and subscriptions mirror what Stripe holds. Subsidy programs, their tier rates and the
tier assignments are versioned: a change is a new row, never an edit. The ledger (entries and
their lines) is append-only: the database refuses UPDATE, DELETE and TRUNCATE on it, and the
ledger tables carry no foreign key to tenants, because a cascade from a deleted tenant would
be a DELETE on them (and the ledger must outlive the tenant anyway).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saas.core.db import ControlBase, stamped

CURRENCY = "krw"  # KRW has no minor unit: every amount is an integer number of won


class Plan(ControlBase):
    """What a municipality subscribes to (price per interval, in won)."""

    __tablename__ = "billing_plans"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    interval: Mapped[str] = mapped_column(String(8))  # month | year
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    # New tenants subscribe to the default plan while provisioning (at most one is default).
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_product_id: Mapped[str | None] = mapped_column(String(255))
    stripe_price_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = stamped()

    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("interval IN ('month', 'year')", name="interval_known"),
    )


class Subscription(ControlBase):
    """A tenant's one subscription, with the Stripe customer and subscription behind it."""

    __tablename__ = "billing_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("billing_plans.id"))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = stamped()

    plan: Mapped[Plan] = relationship()


class SubsidyProgram(ControlBase):
    """The ministry's subsidy for one fiscal year (= calendar year in Korea) and budget.

    `eligibility` holds the rules a tenant must meet (see `services.programs.is_eligible`).
    The budget itself lives in the ledger (an opening entry); this row is its description."""

    __tablename__ = "subsidy_programs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    budget: Mapped[int] = mapped_column(BigInteger)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The ministry is billed monthly for the subsidies applied, as a Stripe customer of its own.
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = stamped()

    __table_args__ = (CheckConstraint("budget >= 0", name="budget_not_negative"),)


class TierRate(ControlBase):
    """One tier's rate in one version of a program's rate table (append-only).

    A tier covers municipalities whose fiscal independence ratio lies in [min_pct, max_pct).
    A new version replaces the whole table from `effective_from` (a service-period date)."""

    __tablename__ = "subsidy_tier_rates"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("subsidy_programs.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    tier: Mapped[str] = mapped_column(String(32))
    rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 10000 = 100 %
    min_pct: Mapped[int] = mapped_column(Integer)  # whole percent, inclusive
    max_pct: Mapped[int] = mapped_column(Integer)  # whole percent, exclusive
    created_at: Mapped[datetime] = stamped()
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("program_id", "version", "tier"),
        CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate_in_range"),
    )


class SubsidyBeneficiary(ControlBase):
    """The one tenant that a subsidy program pays for a municipality (`region_code`, the
    10-digit code): written with the tenant's first reservation in the program, so a second
    portal of the same municipality (a re-created or a duplicated one) is never paid by the
    same program too. No foreign key to tenants, like the ledger it guards."""

    __tablename__ = "subsidy_beneficiaries"

    program_id: Mapped[int] = mapped_column(ForeignKey("subsidy_programs.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = stamped()


class TierAssignment(ControlBase):
    """A tenant's tier in a program from `valid_from` on, with the evidence it rests on
    (append-only: a later assignment with a later `valid_from` supersedes it)."""

    __tablename__ = "subsidy_tier_assignments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("subsidy_programs.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger, index=True)
    tier: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    fiscal_independence_pct: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = stamped()
    created_by: Mapped[str] = mapped_column(String(200))


class LedgerEntry(ControlBase):
    """One business event of a program's subsidy ledger (append-only, hash-chained per program).

    `idempotency_key` names the event, so posting it twice records it once. `inputs` keeps what
    the amount was computed from; `stripe` the Stripe ids involved. A correction is a new entry
    that `reverses` an earlier one."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("subsidy_programs.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    stripe: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    lines: Mapped[list[LedgerLine]] = relationship(order_by="LedgerLine.id")


class LedgerLine(ControlBase):
    """One leg of an entry: `amount` won into (positive) or out of (negative) `account`.
    The lines of an entry sum to zero (checked by a deferred trigger at commit)."""

    __tablename__ = "ledger_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[int | None] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)


class BillingInvoice(ControlBase):
    """Our copy of a Stripe invoice (a municipality's or the ministry's monthly one), kept in
    step by webhooks so that views never wait on Stripe."""

    __tablename__ = "billing_invoices"

    stripe_invoice_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    audience: Mapped[str] = mapped_column(String(16))  # municipality | ministry
    tenant_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    program_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    month: Mapped[date | None] = mapped_column(Date)  # ministry invoices: the month billed
    status: Mapped[str] = mapped_column(String(16))
    number: Mapped[str | None] = mapped_column(String(64))
    gross: Mapped[int] = mapped_column(BigInteger, default=0)
    subsidy: Mapped[int] = mapped_column(BigInteger, default=0)
    net: Mapped[int] = mapped_column(BigInteger, default=0)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = stamped(on_update=True)

    __table_args__ = (UniqueConstraint("program_id", "month", "audience"),)


class StripeEvent(ControlBase):
    """A webhook event, recorded once by id when it arrives and marked when processed."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = stamped()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)


class BillingAlert(ControlBase):
    """Something a ministry admin must look at (a program out of budget, a reconciliation gap)."""

    __tablename__ = "billing_alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # one alert per cause
    kind: Mapped[str] = mapped_column(String(64))
    program_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    tenant_id: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = stamped()
