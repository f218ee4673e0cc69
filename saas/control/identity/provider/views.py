"""The hub's browser routes as the portals' OpenID provider: discovery, /oidc/authorize,
token, userinfo, JWKS and RP-initiated logout (/oidc/logout).

Plain Flask routes (not the JSON API): browsers follow their redirects. Refusals answer
JSON 4xx through flask_smorest.abort, like the API. A person without a hub session is sent
to the hub's sign-in page (`signin.views`, /identity/sign-in) by URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, jsonify, redirect, request
from flask_smorest import abort
from sqlalchemy import select

from saas.control.identity.errors import SignInRefused
from saas.control.identity.models import HubSession, IdentityProvider
from saas.control.identity.provider.clients import portal_client
from saas.control.identity.provider.keys import published_keys
from saas.control.identity.provider.server import (
    HubUser,
    access_token_owner,
    authorization_server,
    init_server,
)
from saas.control.identity.provider.services import do_sign_out
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import HUB_COOKIE, hub_session_for_cookie
from saas.control.identity.tokens import decode_signed
from saas.core.settings import Settings
from saas.core.tenancy.context import db_session

bp = Blueprint("identity_provider", __name__)


def _settings() -> Settings:
    return current_app.config["CHAMYEO_SETTINGS"]


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    hub = _settings().hub_url
    return jsonify(
        issuer=hub,
        authorization_endpoint=f"{hub}/oidc/authorize",
        token_endpoint=f"{hub}/oidc/token",
        userinfo_endpoint=f"{hub}/oidc/userinfo",
        jwks_uri=f"{hub}/oidc/jwks",
        end_session_endpoint=f"{hub}/oidc/logout",
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code"],
        code_challenge_methods_supported=["S256"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        token_endpoint_auth_methods_supported=["client_secret_basic"],
        scopes_supported=["openid", "profile", "email"],
        claims_supported=["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "sid", "tenant"],
        authorization_response_iss_parameter_supported=True,
        backchannel_logout_supported=True,
        backchannel_logout_session_supported=True,
    )


@bp.get("/oidc/jwks")
def jwks() -> Response:
    keys = published_keys(db_session(), SecretBox(_settings()))
    return jsonify(keys.as_dict(private=False))


@bp.get("/oidc/authorize")
def authorize() -> Response:
    hub = hub_session_for_cookie(db_session(), request.cookies.get(HUB_COOKIE))
    user = HubUser.of(hub) if hub is not None else None
    server = authorization_server()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        # Unknown client or unregistered redirect URI: an error here, never a redirect there.
        return server.handle_error_response(None, error)
    if user is None:
        return redirect(f"/identity/sign-in?{urlencode({'return_to': request.full_path})}", code=303)
    response = server.create_authorization_response(grant_user=user, grant=grant)
    if response.location:  # RFC 9207: say who answers, so portals can detect a mix-up
        response.location = add_params_to_uri(response.location, {"iss": _settings().hub_url})
    return response


@bp.post("/oidc/token")
def token() -> Response:
    return authorization_server().create_token_response()


@bp.route("/oidc/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    owner = access_token_owner(value.strip()) if scheme.lower() == "bearer" else None
    if owner is None:
        response = jsonify(error="invalid_token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    token_row, hub = owner
    return jsonify(
        sub=str(hub.account_id), tenant=token_row.client_id.split(".", 1)[1], acr=hub.acr, sid=hub.sid
    )


@bp.get("/oidc/logout")
def end_session() -> Response:
    """RP-initiated logout: end the hub session, tell every portal, then (when the IdP has an
    end_session_endpoint) sign out upstream too, and come back to the portal's URI."""
    session = db_session()
    settings = _settings()
    hint = request.args.get("id_token_hint", "")
    target = request.args.get("post_logout_redirect_uri")
    state = request.args.get("state")
    hint_claims: dict[str, Any] = {}
    if hint:
        try:
            hint_claims = decode_signed(hint, published_keys(session, SecretBox(settings)))
        except SignInRefused:
            abort(400, message="The id_token_hint was not issued by this hub.")
    if target is not None:
        aud = hint_claims.get("aud")
        portal = portal_client(session, settings, aud[0] if isinstance(aud, list) and aud else aud)
        if portal is None or target not in portal.post_logout_redirect_uris:
            abort(400, message="post_logout_redirect_uri is not registered for this portal.")
        if state:
            target = add_params_to_uri(target, {"state": state})
    hubs = []
    current = hub_session_for_cookie(session, request.cookies.get(HUB_COOKIE))
    if current is not None:
        hubs.append(current)
    elif isinstance(hint_claims.get("sid"), str):
        hubs += session.scalars(
            select(HubSession).where(HubSession.sid == hint_claims["sid"], HubSession.ended_at.is_(None))
        )
    upstream_logout = _upstream_logout_url(session, settings, hubs[0], target) if hubs else None
    do_sign_out(session, settings, hubs, actor="person")
    response = redirect(upstream_logout or target or "/identity/signed-out", code=303)
    response.delete_cookie(HUB_COOKIE, path="/")
    return response


def _upstream_logout_url(session: Any, settings: Settings, hub: HubSession, target: str | None) -> str | None:
    provider = session.get(IdentityProvider, hub.provider_id)
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


def init_app(app: Any) -> None:
    init_server(app)
    app.register_blueprint(bp)
