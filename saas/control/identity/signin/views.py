"""The hub's browser routes as relying party of the upstream IdPs (/identity/...): the page
where a person picks an IdP, the start of a sign-in there, its callback, the IdPs'
back-channel logout, and the return from an IdP's logout on the way back to a portal.

Plain Flask routes (not the JSON API): browsers follow their redirects. The chooser is a page
of the platform (translated, on the base layout, without a portal's branding); a refused step
answers a browser that names text/html with a page in its language, and any other client with
JSON 4xx through flask_smorest.abort, like the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request
from flask_smorest import abort
from werkzeug.wrappers import Response as WerkzeugResponse  # what redirect() makes

from saas.control.identity import flows
from saas.control.identity.errors import ProviderNotOffered, SignInRefused
from saas.control.identity.provider.clients import client_id_for, portal_client
from saas.control.identity.refused import refused_page, wants_page
from saas.control.identity.sessions import HUB_COOKIE
from saas.control.identity.signin.services import (
    do_end_sessions_from_idp,
    do_finish_upstream_sign_in,
    do_start_upstream_sign_in,
    offered_providers,
)
from saas.core.settings import Settings, current_settings
from saas.core.tenancy.context import db_session
from saas.core.tenancy.web import slug_for_host
from saas.core.web.i18n import _

bp = Blueprint("identity_signin", __name__)


def _secure() -> bool:
    return current_settings().hub_url.startswith("https://")


def _set_cookie(
    response: WerkzeugResponse, name: str, value: str, *, path: str = "/", max_age: int | None = None
) -> None:
    response.set_cookie(
        name, value, path=path, max_age=max_age, httponly=True, samesite="Lax", secure=_secure()
    )


def _browser_secret(response_cookies: list[tuple[str, str]]) -> str:
    """This browser's binding secret for sign-in flows; a new one is set when it has none."""
    secret = request.cookies.get(flows.BROWSER_COOKIE)
    if not secret or len(secret) > 100:
        secret = flows.new_browser_secret()
        response_cookies.append((flows.BROWSER_COOKIE, secret))
    return secret


def _redirect(url: str, cookies: Sequence[tuple[str, str]] = ()) -> WerkzeugResponse:
    response = redirect(url, code=303)
    for name, value in cookies:
        _set_cookie(response, name, value)
    return response


def _client_id_of(return_to: str) -> str | None:
    """The portal an authorization request (kept in `return_to`) comes from."""
    values = parse_qs(urlsplit(return_to).query).get("client_id")
    return values[0] if values else None


def _safe_return_to(value: object) -> str:
    # Only back to our own authorization endpoint: never an open redirect.
    if not isinstance(value, str) or not value.startswith("/oidc/authorize?") or len(value) > 4000:
        abort(400, message="return_to must be an authorization request of this hub.")
    return value


def _tenant_of_return_to(return_to: str) -> int | None:
    client = portal_client(db_session(), current_settings(), _client_id_of(return_to))
    if client is None:
        abort(400, message="The sign-in request names no known portal.")
    return client.tenant_id


@bp.get("/identity/sign-in")
def choose_provider() -> Response | WerkzeugResponse:
    """The page where a person picks an IdP: the national one and, at a portal that has its
    own, the municipality's."""
    return_to = _safe_return_to(request.args.get("return_to"))
    providers = offered_providers(db_session(), current_settings(), _tenant_of_return_to(return_to))
    hint = parse_qs(urlsplit(return_to).query).get("idp_hint", [None])[0]
    chosen = next((p for p in providers if p.key == hint), None)
    if chosen is not None:  # chosen on the portal's own sign-in page already
        return redirect(f"/identity/start/{chosen.key}?{urlencode({'return_to': return_to})}", code=303)

    def start_url(key: str) -> str:
        return f"/identity/start/{key}?{urlencode({'return_to': return_to})}"

    return Response(
        render_template("identity/hub_signin.html", tenant=None, providers=providers, start_url=start_url),
        mimetype="text/html",
    )


@bp.get("/identity/start/<key>")
def start_upstream(key: str) -> WerkzeugResponse:
    return_to = _safe_return_to(request.args.get("return_to"))
    cookies: list[tuple[str, str]] = []
    try:
        url = do_start_upstream_sign_in(
            db_session(),
            current_settings(),
            key=key,
            tenant_id=_tenant_of_return_to(return_to),
            browser_secret=_browser_secret(cookies),
            return_to=return_to,
        )
    except ProviderNotOffered as error:
        if wants_page():
            again = f"/identity/sign-in?{urlencode({'return_to': return_to})}"
            return refused_page(error, 404, _("This way of signing in is not offered here."), again_url=again)
        abort(404, message=str(error))
    except SignInRefused as error:
        if wants_page():
            again = f"/identity/sign-in?{urlencode({'return_to': return_to})}"
            return refused_page(error, 502, _("The identity provider cannot be reached."), again_url=again)
        abort(502, message=f"The identity provider is not reachable: {error}")
    return _redirect(url, cookies)


@bp.get("/identity/callback/<key>")
def upstream_callback(key: str) -> WerkzeugResponse:
    try:
        signed_in = do_finish_upstream_sign_in(
            db_session(),
            current_settings(),
            key=key,
            args=request.args.to_dict(),
            browser_secret=request.cookies.get(flows.BROWSER_COOKIE),
        )
    except SignInRefused as error:
        if wants_page():
            return refused_page(error, 400, _("The answer of the identity provider could not be accepted."))
        abort(400, message=f"Sign-in refused: {error}")
    response = redirect(signed_in.return_to, code=303)
    _set_cookie(response, HUB_COOKIE, signed_in.hub_cookie)
    return response


@bp.post("/identity/backchannel-logout/<key>")
def upstream_backchannel_logout(key: str) -> Response:
    """An upstream IdP ends a person's session there: end the hub sessions it started."""
    try:
        do_end_sessions_from_idp(
            db_session(), current_settings(), key=key, logout_token=request.form.get("logout_token", "")
        )
    except ProviderNotOffered as error:
        abort(404, message=str(error))
    except SignInRefused as error:
        return _logout_refused(str(error))
    return Response(status=200, headers={"Cache-Control": "no-store"})


def _logout_refused(reason: str) -> Response:
    response = jsonify(error="invalid_request", error_description=reason)
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/identity/signed-out")
def signed_out() -> WerkzeugResponse:
    target = request.args.get("state")
    if target:
        portal = _portal_for_post_logout(target)
        if portal is not None:
            return redirect(target, code=303)
    return jsonify(signed_out=True)


def _portal_for_post_logout(target: str) -> Any:
    split = urlsplit(target)
    path = split.path
    session = db_session()
    settings = current_settings()
    # A post-logout URI ends in /auth/signed-out under a portal origin; find that portal.
    for slug in _candidate_slugs(split.hostname or "", path, settings):
        portal = portal_client(session, settings, client_id_for(slug))
        if portal is not None and target.split("?", 1)[0] in portal.post_logout_redirect_uris:
            return portal
    return None


def _candidate_slugs(host: str, path: str, settings: Settings) -> list[str]:
    """The portals a post-logout URI may belong to: the one its host names, and the one its
    /t/<slug>/ path names (on a shared host)."""
    by_host = slug_for_host(host, settings.platform_domain)
    slugs = [by_host] if by_host else []
    if path.startswith("/t/"):
        slugs.append(path.split("/")[2])
    return slugs


def init_app(app: Any) -> None:
    app.register_blueprint(bp)
