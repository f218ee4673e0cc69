"""A portal signs people in through the hub, as an OpenID relying party of it.

Routes under /t/<slug>/auth/ (also served on the portal's own hosts). The code is redeemed
over HTTP at the hub's token endpoint with the portal's credentials and PKCE; the ID token
is checked against the hub's published keys, its issuer, audience, nonce and tenant claim.
The portal's session cookie is its own (host-only, or path /t/<slug>/ on a shared host).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, Response, current_app, jsonify, redirect, request
from flask_smorest import abort

from saas.control.identity import flows
from saas.control.identity.errors import SignInRefused
from saas.control.identity.logout import accept_logout_claims
from saas.control.identity.provider.clients import PortalClient, client_id_for, portal_client
from saas.control.identity.provider.keys import published_keys
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import (
    PORTAL_COOKIE,
    end_portal_sessions,
    open_portal_session,
    portal_session_for_cookie,
)
from saas.control.identity.tokens import check_id_token, decode_signed
from saas.core.settings import Settings
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import TENANT_PREFIX, enter_tenant_of_request  # the API's gate, shared

# Not the hub's binding cookie: on a shared host both would reach /t/<slug>/ paths.
PORTAL_BROWSER_COOKIE = "chamyeo_portal_browser"

bp = Blueprint("identity_portal", __name__, url_prefix=f"{TENANT_PREFIX}/auth")
# The same gate as the tenant API: unknown portal 404, another tenant's credential 404.
bp.url_value_preprocessor(enter_tenant_of_request)


def _settings() -> Settings:
    return current_app.config["CHAMYEO_SETTINGS"]


def _portal() -> PortalClient:
    client = portal_client(db_session(), _settings(), client_id_for(current_tenant().slug))
    if client is None:
        abort(404, message="This portal does not sign people in.")
    return client


def _origin() -> tuple[str, str]:
    """This request's portal origin and the cookie path there: the portal's own host, or the
    /t/<slug> prefix on a shared host (where other portals live beside it)."""
    slug = current_tenant().slug
    host = request.host.rsplit(":", 1)[0].lower()
    hub_host = (requests.utils.urlparse(_settings().hub_url).hostname or "").lower()
    if host in {"localhost", "127.0.0.1", hub_host}:
        return f"{request.host_url.rstrip('/')}/t/{slug}", f"/t/{slug}/"
    return request.host_url.rstrip("/"), "/"


def _cookie(response: Response, name: str, value: str, path: str) -> None:
    secure = _settings().hub_url.startswith("https://")
    response.set_cookie(name, value, path=path, httponly=True, samesite="Lax", secure=secure)


def _safe_next(value: object) -> str:
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and len(value) < 2000:
        return value
    return "/"


@bp.get("/login")
def login() -> Response:
    portal = _portal()
    origin, path = _origin()
    redirect_uri = f"{origin}/auth/callback"
    if redirect_uri not in portal.redirect_uris:
        abort(404, message="This portal is not served on this host.")
    session = db_session()
    secret = request.cookies.get(PORTAL_BROWSER_COOKIE) or flows.new_browser_secret()
    flow = flows.start_flow(
        session,
        purpose="portal",
        browser_secret=secret,
        redirect_uri=redirect_uri,
        return_to=_safe_next(request.args.get("next")),
        tenant_id=portal.tenant_id,
    )
    client = OAuth2Session(
        portal.client_id, scope="openid profile", redirect_uri=redirect_uri, code_challenge_method="S256"
    )
    url, _ = client.create_authorization_url(
        f"{_settings().hub_url}/oidc/authorize",
        state=flow.state,
        nonce=flow.nonce,
        code_verifier=flow.code_verifier,
    )
    session.commit()
    response = redirect(url, code=303)
    _cookie(response, PORTAL_BROWSER_COOKIE, secret, path)
    return response


def _redeem(portal: PortalClient, flow: Any, code: str) -> tuple[dict[str, Any], str]:
    settings = _settings()
    client = OAuth2Session(
        portal.client_id,
        portal.client_secret,
        redirect_uri=flow.redirect_uri,
        token_endpoint_auth_method="client_secret_basic",
    )
    try:
        token = client.fetch_token(
            f"{settings.hub_url}/oidc/token", code=code, code_verifier=flow.code_verifier, timeout=5
        )
    except (OAuthError, requests.RequestException, ValueError) as error:
        raise SignInRefused(f"the hub refused the code: {error}") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused("the hub sent no ID token")
    # Hub and portal are one deployment: the hub's published keys are read directly.
    claims = decode_signed(id_token, published_keys(db_session(), SecretBox(settings)))
    check_id_token(claims, issuer=settings.hub_url, audience=portal.client_id, nonce=flow.nonce)
    if claims.get("tenant") != portal.slug:
        raise SignInRefused("the ID token is for another portal")
    return claims, id_token


@bp.get("/callback")
def callback() -> Response:
    portal = _portal()
    session = db_session()
    _, path = _origin()
    try:
        flow = flows.take_flow(
            session,
            state=request.args.get("state"),
            browser_secret=request.cookies.get(PORTAL_BROWSER_COOKIE),
            purpose="portal",
        )
        if flow.tenant_id != portal.tenant_id:
            raise SignInRefused("the sign-in was started at another portal")
        session.commit()
        if request.args.get("iss") != _settings().hub_url:
            raise SignInRefused("the response does not come from the hub (iss)")
        code = request.args.get("code")
        if not code or len(code) > 200:
            raise SignInRefused(f"no code: {str(request.args.get('error', ''))[:100]}")
        claims, id_token = _redeem(portal, flow, code)
    except SignInRefused as error:
        session.rollback()
        abort(400, message=f"Sign-in refused: {error}")
    secret = open_portal_session(
        session,
        tenant_id=portal.tenant_id,
        account_id=int(claims["sub"]),
        hub_sid=claims["sid"],
        id_token=id_token,
        acr=claims.get("acr"),
    )
    session.commit()
    response = redirect(flow.return_to if path == "/" else f"{path.rstrip('/')}{flow.return_to}", code=303)
    _cookie(response, PORTAL_COOKIE, secret, path)
    return response


@bp.get("/me")
def me() -> Response:
    """Who is signed in at this portal (for the portal's pages)."""
    from saas.core.auth import current_principal

    principal = current_principal()
    if principal is None:
        return jsonify(signed_in=False)
    return jsonify(
        signed_in=True,
        actor=principal.actor,
        roles=sorted(role.value for role in principal.roles),
        acr=principal.acr,
        tenant=current_tenant().slug,
    )


@bp.get("/logout")
def logout() -> Response:
    """RP-initiated logout: end this portal's session and ask the hub to end the rest."""
    portal = _portal()
    session = db_session()
    origin, path = _origin()
    current = portal_session_for_cookie(session, portal.tenant_id, request.cookies.get(PORTAL_COOKIE))
    params = {"post_logout_redirect_uri": f"{origin}/auth/signed-out"}
    if current is not None:
        end_portal_sessions(session, portal.tenant_id, current.hub_sid)
        params["id_token_hint"] = current.id_token
        session.commit()
    response = redirect(f"{_settings().hub_url}/oidc/logout?{urlencode(params)}", code=303)
    response.delete_cookie(PORTAL_COOKIE, path=path)
    return response


@bp.get("/signed-out")
def signed_out() -> Response:
    return jsonify(signed_out=True, portal=current_tenant().slug)


@bp.post("/backchannel-logout")
def backchannel_logout() -> Response:
    """The hub ends a person's sessions here: a logout token naming the hub session."""
    portal = _portal()
    session = db_session()
    settings = _settings()
    try:
        claims = accept_logout_claims(
            session,
            decode_signed(request.form.get("logout_token", ""), published_keys(session, SecretBox(settings))),
            issuer=settings.hub_url,
            audience=portal.client_id,
        )
        if not isinstance(claims.get("sid"), str):
            raise SignInRefused("the hub's logout tokens always name the session (sid)")
    except SignInRefused as error:
        session.rollback()
        response = jsonify(error="invalid_request", error_description=str(error))
        response.status_code = 400
        return response
    end_portal_sessions(session, portal.tenant_id, claims["sid"])
    session.commit()
    return Response(status=200, headers={"Cache-Control": "no-store"})

