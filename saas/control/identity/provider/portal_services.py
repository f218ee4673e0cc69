"""Named actions of a portal signing people in through the hub: start a sign-in, finish it
(redeem the code over HTTP at the hub's token endpoint, with the portal's credentials and
PKCE), end the portal's session, and accept the hub's back-channel logout. Each owns its
transaction; a refusal (SignInRefused) rolls back what it began and leaves no session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy.orm import Session

from saas.control.identity import flows
from saas.control.identity.errors import SignInRefused
from saas.control.identity.logout import accept_logout_claims
from saas.control.identity.models import SignInFlow
from saas.control.identity.provider.clients import PortalClient
from saas.control.identity.provider.keys import published_keys
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import end_portal_sessions, open_portal_session, portal_session_for_cookie
from saas.control.identity.tokens import check_id_token, decode_signed
from saas.core.refusals import N_
from saas.core.settings import Settings


def do_start_portal_sign_in(
    session: Session,
    settings: Settings,
    portal: PortalClient,
    *,
    browser_secret: str,
    redirect_uri: str,
    return_to: str,
    provider_hint: str | None = None,
) -> str:
    """Record a sign-in flow at this portal and return the hub's authorization URL (state,
    nonce and a PKCE challenge) to send the person to. `provider_hint` (`idp_hint`) names the
    identity provider the person already chose on the portal's sign-in page, so the hub goes
    straight there instead of asking again."""
    flow = flows.start_flow(
        session,
        purpose="portal",
        browser_secret=browser_secret,
        redirect_uri=redirect_uri,
        return_to=return_to,
        tenant_id=portal.tenant_id,
    )
    client = OAuth2Session(
        portal.client_id, scope="openid profile", redirect_uri=redirect_uri, code_challenge_method="S256"
    )
    url, _ = client.create_authorization_url(
        f"{settings.hub_url}/oidc/authorize",
        state=flow.state,
        nonce=flow.nonce,
        code_verifier=flow.code_verifier,
        **({"idp_hint": provider_hint} if provider_hint else {}),
    )
    session.commit()
    return url


@dataclass(frozen=True)
class PortalSignedIn:
    portal_cookie: str
    return_to: str


def do_finish_portal_sign_in(
    session: Session,
    settings: Settings,
    portal: PortalClient,
    *,
    args: dict[str, Any],
    browser_secret: str | None,
) -> PortalSignedIn:
    """Check the hub's answer and open a portal session. The flow is spent (committed) once it
    is known to be this portal's, before the answer is checked, so a refused answer cannot be
    replayed; SignInRefused otherwise writes nothing."""
    try:
        flow = flows.take_flow(
            session, state=args.get("state"), browser_secret=browser_secret, purpose="portal"
        )
        if flow.tenant_id != portal.tenant_id:
            raise SignInRefused(N_("the sign-in was started at another portal"))
        session.commit()
        if args.get("iss") != settings.hub_url:
            raise SignInRefused(N_("the response does not come from the hub (iss)"))
        code = args.get("code")
        if not code or len(code) > 200:
            raise SignInRefused(N_("no code: %(error)s", error=str(args.get("error", ""))[:100]))
        claims, id_token = _redeem(session, settings, portal, flow, code)
    except SignInRefused:
        session.rollback()
        raise
    secret = open_portal_session(
        session,
        tenant_id=portal.tenant_id,
        account_id=int(claims["sub"]),
        hub_sid=claims["sid"],
        id_token=id_token,
        acr=claims.get("acr"),
    )
    session.commit()
    return PortalSignedIn(secret, flow.return_to)


def _redeem(
    session: Session, settings: Settings, portal: PortalClient, flow: SignInFlow, code: str
) -> tuple[dict[str, Any], str]:
    client = OAuth2Session(
        portal.client_id,
        portal.client_secret,
        redirect_uri=flow.redirect_uri,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method's name, not a secret
    )
    try:
        token = client.fetch_token(
            f"{settings.hub_url}/oidc/token", code=code, code_verifier=flow.code_verifier, timeout=5
        )
    except (OAuthError, requests.RequestException, ValueError) as error:
        raise SignInRefused(N_("the hub refused the code: %(error)s", error=str(error))) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused(N_("the hub sent no ID token"))
    # Hub and portal are one deployment: the hub's published keys are read directly.
    claims = decode_signed(id_token, published_keys(session, SecretBox(settings)))
    check_id_token(claims, issuer=settings.hub_url, audience=portal.client_id, nonce=flow.nonce)
    if claims.get("tenant") != portal.slug:
        raise SignInRefused(N_("the ID token is for another portal"))
    return claims, id_token


def do_end_portal_session(session: Session, portal: PortalClient, cookie_secret: str | None) -> str | None:
    """End the portal session of this cookie (and any other at this portal from the same hub
    session); returns its ID token, the hint the hub's logout wants, or None when the cookie
    names no live session."""
    current = portal_session_for_cookie(session, portal.tenant_id, cookie_secret)
    if current is None:
        return None
    end_portal_sessions(session, portal.tenant_id, current.hub_sid)
    session.commit()
    return current.id_token


def do_accept_hub_logout(
    session: Session, settings: Settings, portal: PortalClient, logout_token: str
) -> int:
    """The hub's back-channel logout: end this portal's sessions from the hub session the
    token names; returns how many. SignInRefused, with nothing written, for a token that
    fails a check, names no session, or was seen before."""
    try:
        claims = accept_logout_claims(
            session,
            decode_signed(logout_token, published_keys(session, SecretBox(settings))),
            issuer=settings.hub_url,
            audience=portal.client_id,
        )
        if not isinstance(claims.get("sid"), str):
            raise SignInRefused(N_("the hub's logout tokens always name the session (sid)"))
    except SignInRefused:
        session.rollback()
        raise
    ended = end_portal_sessions(session, portal.tenant_id, claims["sid"])
    session.commit()
    return ended
