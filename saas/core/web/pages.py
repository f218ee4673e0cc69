"""The conventions of a page (HTML) route under a tenant: its blueprint, its rendering, who
is signed in, sign-in on demand, refusals shown on the form, Post/Redirect/Get with a flash.

A page parses its input, calls one service and renders; it never queries and never commits.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from saas.core.refusals import Refusal
from saas.core.tenancy.context import current_tenant
from saas.core.tenancy.web import TENANT_PREFIX, enter_tenant_of_request
from saas.core.web.csrf import check_csrf

F = TypeVar("F", bound=Callable[..., Any])

PAGE_BLUEPRINTS = "chamyeo.page_blueprints"  # names of the page blueprints registered so far
FLASH_COOKIE = "chamyeo_flash"
SIGN_IN_REQUIRED = "_chamyeo_sign_in_required"


class PageBlueprint(Blueprint):
    """A Flask blueprint whose every route is an HTML page of the request's tenant."""

    is_page = True

    def register(self, app: Any, options: dict[str, Any]) -> None:
        app.extensions.setdefault(PAGE_BLUEPRINTS, set()).add(options.get("name", self.name))
        super().register(app, options)


def page_blueprint(name: str, import_name: str, *, url_prefix: str = "") -> PageBlueprint:
    """A blueprint of HTML pages under `/t/<slug><url_prefix>` (and the tenant's own hosts).

    Its requests enter the tenant like the API's (unknown or another tenant's credential:
    the 404 page; suspended: the 503 page), every error answers an HTML page, and every POST
    is checked for the browser's CSRF token before the view runs. Templates are looked up in
    `templates/` beside `import_name`'s module."""
    import importlib.util

    spec = importlib.util.find_spec(import_name)
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    template_folder = str(origin.parent / "templates") if origin is not None else None
    blueprint = PageBlueprint(
        name, import_name, url_prefix=f"{TENANT_PREFIX}{url_prefix}", template_folder=template_folder
    )
    blueprint.url_value_preprocessor(enter_tenant_of_request)
    blueprint.url_defaults(_keep_slug)
    blueprint.before_request(check_csrf)
    return blueprint


def _keep_slug(endpoint: str, values: dict[str, Any]) -> None:
    tenant = g.get("tenant")
    if tenant is not None:
        values.setdefault("slug", tenant.slug)


def is_page_request() -> bool:
    """Whether this request is served by a page blueprint (it answers HTML, errors too)."""
    return request.blueprint is not None and request.blueprint in current_app.extensions.get(
        PAGE_BLUEPRINTS, set()
    )


# --- who is signed in ---


def signed_in() -> str | None:
    """The signed-in person's key (`account:<id>`) at this request's portal, or None."""
    from saas.core.auth import current_principal

    principal = current_principal()
    tenant = g.get("tenant")
    if principal is None or principal.person is None:
        return None
    if tenant is not None and principal.tenant_id not in (None, tenant.id):
        return None
    return principal.person


def portal_path(path: str) -> str:
    """`path` (as the app sees it, `/t/<slug>/...`) as the portal knows it: without the prefix,
    which the sign-in adds back on a shared host."""
    prefix = f"/t/{current_tenant().slug}"
    if path == prefix:
        return "/"
    return path[len(prefix) :] if path.startswith(prefix + "/") else path


def sign_in_url(return_to: str | None = None) -> str:
    """The portal's sign-in page, coming back to `return_to` (default: this page)."""
    target = return_to or portal_path(request.full_path.rstrip("?"))
    return f"/t/{current_tenant().slug}/signin?{urlencode({'next': target})}"


def sign_in_required(view: F) -> F:
    """The page needs a signed-in person: others are sent (303) to the portal's sign-in,
    which brings them back to this page afterwards."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if signed_in() is None:
            return redirect(sign_in_url(), code=303)
        return view(*args, **kwargs)

    setattr(wrapper, SIGN_IN_REQUIRED, True)  # for the walks (tests/web/test_page_walks.py)
    return cast(F, wrapper)


# --- rendering ---


def render_page(template: str, **context: Any) -> str:
    """Render `template` with what every portal page shows (the tenant, who is signed in,
    the flashes of the last redirect)."""
    tenant = g.get("tenant")
    context.setdefault("tenant", tenant)
    context.setdefault("person", signed_in() if tenant is not None else None)
    context.setdefault("flashes", take_flashes())
    return render_template(template, **context)


def refused(refusal: Refusal, template: str, **context: Any) -> tuple[str, int]:
    """Answer a refused POST: the same form again, the refusal's message at the top and its
    field errors beside the fields, what the person typed kept (`form`)."""
    from saas.core.web.i18n import has_translation, refusal_sentence, translated

    errors = {
        field: [translated(reason) for reason in (reasons if isinstance(reasons, list) else [reasons])]
        for field, reasons in (refusal.errors or {}).items()
    }
    context.setdefault("form", request.form)
    message = refusal_sentence(refusal)
    if not has_translation(refusal.message):
        # A sentence no catalogue translates yet (tests/web/test_refusal_messages.py fails on
        # those a page can meet): a translated sentence of its kind first, the words after it.
        message = f"{refusal_lead(refusal.status)} ({message})"
    body = render_page(template, refusal=message, errors=errors, **context)
    return body, refusal.status


def refusal_lead(status: int) -> str:
    """A translated sentence saying what kind of refusal a status is."""
    from saas.core.web.i18n import _

    leads = {
        400: _("The request could not be understood."),
        403: _("You may not do this."),
        404: _("What you asked for does not exist here."),
        409: _("This cannot be done in the current state."),
        410: _("This is no longer valid."),
        422: _("Some of what you entered breaks a rule."),
        429: _("You have tried too often; wait a little and try again."),
        503: _("A service this needs is not available right now; try again later."),
    }
    return leads.get(status, _("This could not be done."))


# --- Post/Redirect/Get and flashes (in a signed cookie: the app has no cookie session) ---


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="chamyeo.flash")


def flash_ok(message: str) -> None:
    """Show `message` (already translated) on the next page this browser renders."""
    g.setdefault("chamyeo_flashes_out", []).append(["ok", message])


def take_flashes() -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or g.get("chamyeo_flashes_taken"):
        return []
    g.chamyeo_flashes_taken = True
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return []
    return [(str(kind), str(text)) for kind, text in value][:5] if isinstance(value, list) else []


def redirect_after_post(endpoint: str, **values: Any) -> Response:
    """303 to `endpoint` (Post/Redirect/Get); flashes travel with it."""
    return redirect(url_for(endpoint, **values), code=303)


def keep_flashes(response: Response) -> Response:
    """An `after_request` hook: write queued flashes; clear the ones a page just showed."""
    out = g.get("chamyeo_flashes_out")
    secure = request.is_secure
    if out:
        value = _serializer().dumps(out)
        response.set_cookie(FLASH_COOKIE, value, path="/", httponly=True, samesite="Lax", secure=secure)
    elif g.get("chamyeo_flashes_taken"):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def json_for_script(value: Any) -> str:
    """Data for the script layer, in a `<script type="application/json">` block (not run)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
