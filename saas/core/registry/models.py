from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saas.core.db import ControlBase, stamped
from saas.core.tenancy.slugs import schema_for


class TenantStatus(enum.StrEnum):
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    FAILED = "failed"


class Tenant(ControlBase):
    __tablename__ = "tenants"
    # One municipality, one portal: two registrations racing for one region cannot both win.
    # Not partial: a deleted tenant leaves no row, and a failed one can still be retried.
    __table_args__ = (Index("uq_tenants_region_code", "region_code", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slug: Mapped[str] = mapped_column(String(39), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # official Korean name, e.g. 서울특별시 강남구
    name_en: Mapped[str | None] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(10))  # 10-digit 행정기관코드
    status: Mapped[TenantStatus] = mapped_column(
        Enum(TenantStatus, name="tenant_status", values_callable=lambda e: [m.value for m in e])
    )
    template_name: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int] = mapped_column(Integer)
    branding: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    admin_email: Mapped[str | None] = mapped_column(String(320))
    # The tenant schema's migration revision, kept here so "anything to migrate?" is one query.
    schema_revision: Mapped[str | None] = mapped_column(String(64), index=True)
    # Provisioning: the step running or failed, its error, the RQ job that runs it.
    current_step: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = stamped()
    updated_at: Mapped[datetime] = stamped(on_update=True)

    domains: Mapped[list[TenantDomain]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantDomain.domain"
    )

    @property
    def schema(self) -> str:
        return schema_for(self.slug)


class TenantDomain(ControlBase):
    """A custom domain under which a tenant's portal is served (besides <slug>.<platform>)."""

    __tablename__ = "tenant_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)

    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class ProvisioningStep(ControlBase):
    """One step of a tenant's provisioning job: done once, timed, resumable after a crash."""

    __tablename__ = "provisioning_steps"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
