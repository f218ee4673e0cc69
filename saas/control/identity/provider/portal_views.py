"""A portal signs people in through the hub, as an OpenID relying party of it.

Routes under /t/<slug>/auth/ (also served on the portal's own hosts), thin over
`portal_services`: the code is redeemed over HTTP at the hub's token endpoint with the
portal's credentials and PKCE; the ID token is checked against the hub's published keys, its
issuer, audience, nonce and tenant claim. The portal's session cookie is its own (host-only,
or path /t/<slug>/ on a shared host).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, request
from flask_babel import gettext
from flask_smorest import abort
from werkzeug.wrappers import Response as WerkzeugResponse  # what redirect() makes

from saas.control.identity import flows
from saas.control.identity.errors import SignInRefused
from saas.control.identity.provider.clients import PortalClient, client_id_for, portal_client
from saas.control.identity.provider.portal_services import (
    do_accept_hub_logout,
    do_end_portal_session,
    do_finish_portal_sign_in,
    do_start_portal_sign_in,
)
from saas.control.identity.refused import refused_page, wants_page
from saas.control.identity.sessions import PORTAL_COOKIE
from saas.core.settings import current_settings
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import TENANT_PREFIX, enter_tenant_of_request  # the API's gate, shared

# Not the hub's binding cookie: on a shared host both would reach /t/<slug>/ paths.
PORTAL_BROWSER_COOKIE = "chamyeo_portal_browser"

bp = Blueprint("identity_portal", __name__, url_prefix=f"{TENANT_PREFIX}/auth")
# The same gate as the tenant API: unknown portal 404, another tenant's credential 404.
bp.url_value_preprocessor(enter_tenant_of_request)


def _portal() -> PortalClient:
    client = portal_client(db_session(), current_settings(), client_id_for(current_tenant().slug))
    if client is None:
        abort(404, message="This portal does not sign people in.")
    return client


def _origin() -> tuple[str, str]:
    """This request's portal origin and the cookie path there: the portal's own host, or the
    /t/<slug> prefix on a shared host (where other portals live beside it)."""
    slug = current_tenant().slug
    host = request.host.rsplit(":", 1)[0].lower()
    hub_host = (urlsplit(current_settings().hub_url).hostname or "").lower()
    if host in {"localhost", "127.0.0.1", hub_host}:
        return f"{request.host_url.rstrip('/')}/t/{slug}", f"/t/{slug}/"
    return request.host_url.rstrip("/"), "/"


def _cookie(response: WerkzeugResponse, name: str, value: str, path: str) -> None:
    secure = current_settings().hub_url.startswith("https://")
    response.set_cookie(name, value, path=path, httponly=True, samesite="Lax", secure=secure)


def _safe_next(value: object) -> str:
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and len(value) < 2000:
        return value
    return "/"


def _provider_key(value: object) -> str | None:
    # A key of the federation (checked against what is offered at the hub): letters, digits, -_.
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
        return value
    return None


@bp.get("/login")
def login() -> WerkzeugResponse:
    portal = _portal()
    origin, path = _origin()
    redirect_uri = f"{origin}/auth/callback"
    if redirect_uri not in portal.redirect_uris:
        abort(404, message="This portal is not served on this host.")
    secret = request.cookies.get(PORTAL_BROWSER_COOKIE) or flows.new_browser_secret()
    url = do_start_portal_sign_in(
        db_session(),
        current_settings(),
        portal,
        browser_secret=secret,
        redirect_uri=redirect_uri,
        return_to=_safe_next(request.args.get("next")),
        provider_hint=_provider_key(request.args.get("provider")),
    )
    response = redirect(url, code=303)
    _cookie(response, PORTAL_BROWSER_COOKIE, secret, path)
    return response


@bp.get("/callback")
def callback() -> WerkzeugResponse:
    portal = _portal()
    _, path = _origin()
    try:
        signed_in = do_finish_portal_sign_in(
            db_session(),
            current_settings(),
            portal,
            args=request.args.to_dict(),
            browser_secret=request.cookies.get(PORTAL_BROWSER_COOKIE),
        )
    except SignInRefused as error:
        if wants_page():
            tenant = current_tenant()
            lead = gettext("The answer of the sign-in could not be accepted.")
            return refused_page(error, 400, lead, again_url=f"/t/{tenant.slug}/signin", tenant=tenant)
        abort(400, message=f"Sign-in refused: {error}")
    return_to = signed_in.return_to
    response = redirect(return_to if path == "/" else f"{path.rstrip('/')}{return_to}", code=303)
    _cookie(response, PORTAL_COOKIE, signed_in.portal_cookie, path)
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
def logout() -> WerkzeugResponse:
    """RP-initiated logout: end this portal's session and ask the hub to end the rest."""
    portal = _portal()
    origin, path = _origin()
    params = {"post_logout_redirect_uri": f"{origin}/auth/signed-out"}
    id_token = do_end_portal_session(db_session(), portal, request.cookies.get(PORTAL_COOKIE))
    if id_token is not None:
        params["id_token_hint"] = id_token
    response = redirect(f"{current_settings().hub_url}/oidc/logout?{urlencode(params)}", code=303)
    response.delete_cookie(PORTAL_COOKIE, path=path)
    return response


@bp.get("/signed-out")
def signed_out() -> Response | WerkzeugResponse:
    """Where the hub sends a browser after signing out: a person's browser goes back to the
    portal's home page; a client that asks for JSON is told it is done."""
    # A browser names text/html; a client that accepts anything (*/*) is answered in JSON.
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        _, path = _origin()
        return redirect(path, code=303)
    return jsonify(signed_out=True, portal=current_tenant().slug)


@bp.post("/backchannel-logout")
def backchannel_logout() -> Response:
    """The hub ends a person's sessions here: a logout token naming the hub session."""
    portal = _portal()
    try:
        do_accept_hub_logout(db_session(), current_settings(), portal, request.form.get("logout_token", ""))
    except SignInRefused as error:
        response = jsonify(error="invalid_request", error_description=str(error))
        response.status_code = 400
        return response
    return Response(status=200, headers={"Cache-Control": "no-store"})
