from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import ControlBase, stamped


class Role(enum.StrEnum):
    # platform-wide roles: granted only by the ministry's own configuration
    MINISTRY_ADMIN = "ministry_admin"
    AUDITOR = "auditor"
    # roles inside one tenant
    TENANT_ADMIN = "tenant_admin"
    STAFF = "staff"
    OFFICER = "officer"
    COMMITTEE_MEMBER = "committee_member"
    RESIDENT = "resident"

    @property
    def is_platform_wide(self) -> bool:
        return self in (Role.MINISTRY_ADMIN, Role.AUDITOR)


role_enum = Enum(Role, name="role", values_callable=lambda e: [m.value for m in e])


class Account(ControlBase):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = stamped()


class RoleGrant(ControlBase):
    """A role held by an account, platform-wide (tenant_id NULL) or inside one tenant, as the
    IdP `provider_id` vouched for it at the person's last sign-in there. Each IdP keeps its
    own grants: signing in through another IdP of the same scope changes none of them."""

    __tablename__ = "role_grants"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "role", "tenant_id", "provider_id", postgresql_nulls_not_distinct=True
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(role_enum)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # The IdP whose claims grant it; its grants go with it. NULL: granted before grants
    # recorded their IdP, with no audit event naming one (no IdP revokes it).
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = stamped()


class ApiToken(ControlBase):
    """A bearer token for machines (and, until sign-in exists, for people).

    Only the SHA-256 of the secret is stored: the secret is shown once, at creation.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(role_enum)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings to tell tokens apart
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = stamped()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
