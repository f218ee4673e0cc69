"""Inviting people into a portal's staff."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.audit import services as audit
from saas.tenancy.context import TenantRef
from tenants.people.models import Member


class AlreadyMember(Exception):
    pass


def do_invite_member(
    session: Session, tenant: TenantRef, *, email: str, display_name: str, role: str, actor: str
) -> tuple[Member, str]:
    """Record an invitation and return it with its one-time code (shown once).

    Raises `AlreadyMember` when the e-mail is already on this portal."""
    email = email.strip().lower()
    if session.scalar(select(Member.id).where(Member.email == email)) is not None:
        raise AlreadyMember(email)
    code = secrets.token_urlsafe(24)
    member = Member(
        email=email,
        display_name=display_name,
        role=role,
        invitation_hash=hashlib.sha256(code.encode()).hexdigest(),
    )
    session.add(member)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="member.invite",
        tenant_slug=tenant.slug,
        target=f"member:{member.id}",
        data={"email": email, "role": role},
    )
    session.commit()
    return member, code
