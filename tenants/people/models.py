"""People known to one portal: municipal staff and their invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import stamped
from tenants.db import TenantBase


class Member(TenantBase):
    """A person with a role in this portal. Until sign-in exists, an invitation is a row with
    a hashed one-time code; `account_id` is set when the person accepts."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(BigInteger)  # control.accounts.id
    invitation_hash: Mapped[str | None] = mapped_column(String(64))
    invited_at: Mapped[datetime] = stamped()
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
