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
from flask import Blueprint, Response, jsonify, redirect, request
from flask_smorest import abort
from werkzeug.wrappers import Response as WerkzeugResponse  # what redirect() makes

from saas.control.identity.errors import SignInRefused
from saas.control.identity.provider.keys import published_keys
from saas.control.identity.provider.server import (
    HubUser,
    access_token_owner,
    authorization_server,
    init_server,
)
from saas.control.identity.provider.services import do_end_session
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import HUB_COOKIE, hub_session_for_cookie
from saas.core.settings import current_settings
from saas.core.tenancy.context import db_session

bp = Blueprint("identity_provider", __name__)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    hub = current_settings().hub_url
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
    keys = published_keys(db_session(), SecretBox(current_settings()))
    return jsonify(keys.as_dict(private=False))


@bp.get("/oidc/authorize")
def authorize() -> WerkzeugResponse:
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
        response.location = add_params_to_uri(response.location, {"iss": current_settings().hub_url})
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
def end_session() -> WerkzeugResponse:
    """RP-initiated logout: end the hub session, tell every portal, then (when the IdP has an
    end_session_endpoint) sign out upstream too, and come back to the portal's URI."""
    try:
        target = do_end_session(
            db_session(),
            current_settings(),
            hub_cookie=request.cookies.get(HUB_COOKIE),
            id_token_hint=request.args.get("id_token_hint", ""),
            post_logout_redirect_uri=request.args.get("post_logout_redirect_uri"),
            state=request.args.get("state"),
        )
    except SignInRefused as error:
        abort(400, message=str(error))
    response = redirect(target or "/identity/signed-out", code=303)
    response.delete_cookie(HUB_COOKIE, path="/")
    return response


def init_app(app: Any) -> None:
    init_server(app)
    app.register_blueprint(bp)
