"""Inviting people into a portal's staff, and their accepting it.

An invitation is a member row with the SHA-256 of a one-time code (the code itself is shown
once, to whoever issued it, and never stored). The invited person signs in at the portal
through the hub and accepts with the code: the invitation is bound to the invited e-mail,
accepted once, and expires `INVITATION_LIFETIME` after it was issued (platform clock).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.accounts.models import Role, RoleGrant
from saas.core.audit import services as audit
from saas.core.refusals import N_, Conflict, Forbidden, Gone, NotFound
from saas.core.tenancy.context import TenantRef
from tenants.people.models import Member

INVITATION_LIFETIME = timedelta(days=14)
_MAX_CODE = 100


class AlreadyMember(Exception):
    pass


def invitation_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def new_invitation_code() -> tuple[str, str]:
    """A fresh one-time code and the digest to store."""
    code = secrets.token_urlsafe(24)
    return code, invitation_digest(code)


def invitation_expires_at(member: Member) -> datetime:
    return member.invited_at + INVITATION_LIFETIME


def do_invite_member(
    session: Session, tenant: TenantRef, *, email: str, display_name: str, role: str, actor: str
) -> tuple[Member, str]:
    """Record an invitation and return it with its one-time code (shown once).

    Raises `AlreadyMember` when the e-mail is already on this portal."""
    email = email.strip().lower()
    if session.scalar(select(Member.id).where(Member.email == email)) is not None:
        raise AlreadyMember(email)
    code, digest = new_invitation_code()
    member = Member(email=email, display_name=display_name, role=role, invitation_hash=digest)
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


def _member_of_code(session: Session, code: str, *, lock: bool = False) -> Member:
    """The member whose invitation `code` is. Every stored digest is compared with the code's
    in constant time (no lookup whose timing depends on how much of a guess was right).
    Raises NotFound."""
    unknown = NotFound(N_("There is no invitation with this code at this portal."))
    if not code or len(code) > _MAX_CODE:
        raise unknown
    digest = invitation_digest(code)
    found = None
    for member_id, stored in session.execute(
        select(Member.id, Member.invitation_hash).where(Member.invitation_hash.is_not(None))
    ):
        if stored is not None and hmac.compare_digest(stored, digest):
            found = member_id
    if found is None:
        raise unknown
    member = session.get(Member, found, with_for_update=lock, populate_existing=lock)
    assert member is not None
    return member


def _status(member: Member) -> str:
    if member.accepted_at is not None:
        return "accepted"
    return "expired" if clock.now() >= invitation_expires_at(member) else "pending"


def describe_invitation(session: Session, code: str) -> dict[str, Any]:
    """What the invitation of `code` offers (for its holder). Raises NotFound."""
    member = _member_of_code(session, code)
    return {
        "email": member.email,
        "role": member.role,
        "display_name": member.display_name,
        "invited_at": member.invited_at,
        "expires_at": invitation_expires_at(member),
        "accepted_at": member.accepted_at,
        "status": _status(member),
    }


def do_accept_invitation(
    session: Session, tenant: TenantRef, code: str, *, account_id: int, account_email: str | None, actor: str
) -> Member:
    """The signed-in person `account_id` (whose account has `account_email`) accepts the
    invitation of `code`: the member row names the account, and the account holds the
    invitation's role in this tenant (a grant no IdP revokes). One transaction, audited.

    Raises NotFound (no such code), Forbidden (the invitation is for another e-mail),
    Conflict (accepted already) or Gone (expired)."""
    member = _member_of_code(session, code, lock=True)
    email = (account_email or "").strip().lower()
    if email != member.email:
        message = (
            N_(
                "This invitation is for %(invited)s, and your sign-in carries the e-mail %(email)s: "
                "sign in as the invited person to accept it.",
                invited=member.email,
                email=email,
            )
            if email
            else N_(
                "This invitation is for %(invited)s, and your sign-in carries no e-mail address: "
                "sign in as the invited person to accept it.",
                invited=member.email,
            )
        )
        raise Forbidden(message, errors={"email": [N_("not the invited e-mail")]})
    if member.accepted_at is not None:
        raise Conflict(N_("This invitation was accepted already, on %(when)s.", when=member.accepted_at))
    expires = invitation_expires_at(member)
    if clock.now() >= expires:
        raise Gone(
            N_("This invitation expired on %(when)s; ask whoever invited you for a new one.", when=expires)
        )
    member.account_id = account_id
    member.accepted_at = clock.now()
    session.execute(
        insert(RoleGrant)
        .values(account_id=account_id, role=Role(member.role), tenant_id=tenant.id, provider_id=None)
        .on_conflict_do_nothing()
    )
    audit.record(
        session,
        actor=actor,
        action="member.accept",
        tenant_slug=tenant.slug,
        target=f"member:{member.id}",
        data={"role": member.role, "account_id": account_id},
    )
    session.commit()
    return member


def email_of_account(session: Session, account_id: int) -> str | None:
    """The e-mail the account's sign-ins carry (None when none did)."""
    from saas.core.accounts.models import Account

    return session.scalar(select(Account.email).where(Account.id == account_id))
