"""The hub's sessions (one per browser, shared by every portal) and the portals' sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from saas.control.identity.flows import digest
from saas.control.identity.models import HubSession, HubSessionPortal, IdentityProvider, PortalSession
from saas.core import clock

HUB_COOKIE = "chamyeo_hub"
PORTAL_COOKIE = "chamyeo_portal"
SESSION_LIFETIME = timedelta(hours=12)


def open_hub_session(
    session: Session,
    provider: IdentityProvider,
    account_id: int,
    *,
    subject: str,
    sid: str | None,
    id_token: str | None,
    acr: str | None,
) -> tuple[HubSession, str]:
    """A new hub session for the person `provider` vouched for (their `subject` there, and the
    IdP's own session id and ID token, kept for logout); returns it with the cookie secret
    (known only to the browser)."""
    secret = secrets.token_urlsafe(32)
    hub = HubSession(
        sid=secrets.token_urlsafe(24),
        secret_hash=digest(secret),
        account_id=account_id,
        provider_id=provider.id,
        subject=subject,
        upstream_sid=sid,
        upstream_id_token=id_token,
        acr=acr,
        auth_time=int(clock.timestamp()),
    )
    session.add(hub)
    session.flush()
    return hub, secret


def _live(model: type[HubSession] | type[PortalSession]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (model.ended_at.is_(None), model.created_at > clock.now() - SESSION_LIFETIME)


def hub_session_for_cookie(session: Session, secret: str | None) -> HubSession | None:
    if not secret or len(secret) > 100:
        return None
    return session.scalar(
        select(HubSession).where(HubSession.secret_hash == digest(secret), *_live(HubSession))
    )


def end_hub_sessions(session: Session, hub_sessions: list[HubSession]) -> list[tuple[HubSession, list[int]]]:
    """End these hub sessions; return each with the tenant ids of the portals it signed in to,
    which are owed a back-channel logout (sent after commit)."""
    now = clock.now()
    ended = []
    for hub in hub_sessions:
        if hub.ended_at is not None:
            continue
        hub.ended_at = now
        tenants = session.scalars(
            select(HubSessionPortal.tenant_id).where(HubSessionPortal.hub_session_id == hub.id)
        ).all()
        ended.append((hub, list(tenants)))
    session.flush()
    return ended


def remember_portal(session: Session, hub_session_id: int, tenant_id: int) -> None:
    exists = session.get(HubSessionPortal, (hub_session_id, tenant_id))
    if exists is None:
        session.add(HubSessionPortal(hub_session_id=hub_session_id, tenant_id=tenant_id))
        session.flush()


def open_portal_session(
    session: Session, *, tenant_id: int, account_id: int, hub_sid: str, id_token: str, acr: str | None
) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(
        PortalSession(
            secret_hash=digest(secret),
            tenant_id=tenant_id,
            account_id=account_id,
            hub_sid=hub_sid,
            id_token=id_token,
            acr=acr,
        )
    )
    session.flush()
    return secret


def portal_session_for_cookie(session: Session, tenant_id: int, secret: str | None) -> PortalSession | None:
    if not secret or len(secret) > 100:
        return None
    return session.scalar(
        select(PortalSession).where(
            PortalSession.secret_hash == digest(secret),
            PortalSession.tenant_id == tenant_id,
            *_live(PortalSession),
        )
    )


def end_portal_sessions(session: Session, tenant_id: int, hub_sid: str) -> int:
    """End every session at this portal that came from hub session `hub_sid`."""
    result = session.execute(
        update(PortalSession)
        .where(
            PortalSession.tenant_id == tenant_id,
            PortalSession.hub_sid == hub_sid,
            PortalSession.ended_at.is_(None),
        )
        .values(ended_at=clock.now())
    )
    return cast("CursorResult[Any]", result).rowcount  # an UPDATE's result is a cursor's


@dataclass(frozen=True)
class Voucher:
    """The upstream IdP that vouched for a sign-in: its issuer, the person's subject there,
    and whether it is a national IdP (the ministry's) rather than a municipality's."""

    issuer: str
    subject: str
    national: bool


def voucher_of(session: Session, hub_sid: str) -> Voucher | None:
    """Who vouched for the hub session `hub_sid` (a portal session names it by its sid)."""
    row = session.execute(
        select(IdentityProvider.issuer, IdentityProvider.tenant_id, HubSession.subject)
        .join(IdentityProvider, IdentityProvider.id == HubSession.provider_id)
        .where(HubSession.sid == hub_sid)
    ).first()
    return Voucher(row.issuer, row.subject, row.tenant_id is None) if row is not None else None
