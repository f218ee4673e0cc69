"""Named actions of the hub as the portals' provider: sign a person out of the hub and tell
every portal they signed in to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity.models import HubSession
from saas.control.identity.provider.backchannel import hub_logout_token, notify_portal
from saas.control.identity.provider.clients import client_id_for, portal_client
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import end_hub_sessions
from saas.control.registry.models import Tenant
from saas.core.audit import services as audit
from saas.core.settings import Settings


def do_sign_out(session: Session, settings: Settings, hubs: list[HubSession], *, actor: str) -> int:
    """End hub sessions, commit, then send a back-channel logout to every portal they signed
    in to. Returns how many portals were told."""
    ended = end_hub_sessions(session, hubs)
    for hub, _ in ended:
        audit.record(session, actor=actor, action="identity.sign_out", target=f"account:{hub.account_id}")
    session.commit()
    told = 0
    box = SecretBox(settings)
    for hub, tenant_ids in ended:
        for tenant_id in tenant_ids:
            slug = session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))
            portal = portal_client(session, settings, client_id_for(slug)) if slug else None
            if portal is None:
                continue
            token = hub_logout_token(
                session,
                box,
                hub_url=settings.hub_url,
                client_id=portal.client_id,
                sid=hub.sid,
                sub=str(hub.account_id),
            )
            told += notify_portal(portal, token)
    return told
