"""Named actions of the hub as the portals' provider: sign a person out of the hub (at a
portal's request, or an IdP's) and tell every portal they signed in to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity.errors import SignInRefused
from saas.control.identity.models import HubSession, IdentityProvider
from saas.control.identity.provider.backchannel import hub_logout_token, notify_portal
from saas.control.identity.provider.clients import client_id_for, portal_client
from saas.control.identity.provider.keys import published_keys
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import end_hub_sessions, hub_session_for_cookie
from saas.control.identity.tokens import decode_signed
from saas.core.audit import services as audit
from saas.core.registry.models import Tenant
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


def do_end_session(
    session: Session,
    settings: Settings,
    *,
    hub_cookie: str | None,
    id_token_hint: str,
    post_logout_redirect_uri: str | None,
    state: str | None,
) -> str | None:
    """RP-initiated logout at the hub: end the hub session of this browser (or, without its
    cookie, the one the hint names) and tell its portals (`do_sign_out`). Returns where the
    browser goes next: the upstream IdP's end-session endpoint when it has one (it comes
    back to /identity/signed-out with the portal's URI in `state`), else the portal's URI,
    else None. SignInRefused, with nothing ended, for a hint this hub did not sign or a URI
    the hint's portal did not register."""
    hint_claims: dict[str, Any] = {}
    if id_token_hint:
        try:
            hint_claims = decode_signed(id_token_hint, published_keys(session, SecretBox(settings)))
        except SignInRefused:
            raise SignInRefused("The id_token_hint was not issued by this hub.") from None
    target = post_logout_redirect_uri
    if target is not None:
        aud = hint_claims.get("aud")
        portal = portal_client(session, settings, aud[0] if isinstance(aud, list) and aud else aud)
        if portal is None or target not in portal.post_logout_redirect_uris:
            raise SignInRefused("post_logout_redirect_uri is not registered for this portal.")
        if state:
            target = add_params_to_uri(target, {"state": state})
    hubs = []
    current = hub_session_for_cookie(session, hub_cookie)
    if current is not None:
        hubs.append(current)
    elif isinstance(hint_claims.get("sid"), str):
        hubs += session.scalars(
            select(HubSession).where(HubSession.sid == hint_claims["sid"], HubSession.ended_at.is_(None))
        )
    upstream_logout = _upstream_logout_url(session, settings, hubs[0], target) if hubs else None
    do_sign_out(session, settings, hubs, actor="person")
    return upstream_logout or target


def _upstream_logout_url(
    session: Session, settings: Settings, hub: HubSession, target: str | None
) -> str | None:
    provider = session.get_one(IdentityProvider, hub.provider_id)  # the key holds it
    document = provider.discovery or {}
    endpoint = document.get("end_session_endpoint")
    if not endpoint or not hub.upstream_id_token:
        return None
    params = {"id_token_hint": hub.upstream_id_token, "client_id": provider.client_id}
    params["post_logout_redirect_uri"] = f"{settings.hub_url}/identity/signed-out"
    if target:
        # The page the person returns to is kept in `state`, checked against the portals'
        # registered URIs again on the way back (the hub's own redirect, not the IdP's).
        params["state"] = target
    return f"{endpoint}?{urlencode(params)}"
