"""HTML error pages for browsers; the API keeps its JSON errors.

A request answered by a page blueprint always gets an HTML error page (404, 403, 409, 503 for
a suspended portal, 400 for a bad or expired form, 500), in the request's language. A request
no route matched gets one too when it comes from a browser (Accept: text/html) and is not under
an API path. Everything else goes to the API's handlers (JSON `{"code", "message", ...}`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, g, redirect, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from saas.core.refusals import Refusal
from saas.core.web.csrf import CsrfRefused
from saas.core.web.pages import is_page_request, sign_in_url

log = logging.getLogger(__name__)

API_PATH = re.compile(
    r"^/(api|oidc|identity|billing|healthz|\.well-known|dev-idp)(/|$)|^/t/[^/]+/(api|auth)(/|$)"
)
PAGES = (400, 403, 404, 409, 503, 500)


def wants_html() -> bool:
    if is_page_request():
        return True
    if request.endpoint is not None or API_PATH.match(request.path):
        return False
    accept = request.accept_mimetypes
    return accept.accept_html and accept["text/html"] >= accept["application/json"]


def render_error(status: int, **context: Any) -> tuple[str, int]:
    template = status if status in PAGES else (500 if status >= 500 else 400)
    if status == 401:
        template = 403
    tenant = g.get("tenant")
    body = render_template(f"web/errors/{template}.html", tenant=tenant, status=status, **context)
    return body, status


def _tenant_suspended(error: HTTPException) -> bool:
    return error.code == 503 and request.path.startswith("/t/")


def install_error_pages(app: Flask) -> None:
    """Put the HTML pages in front of the API's handlers (registered by `api.init_app`)."""
    handlers = app.error_handler_spec[None][None]
    json_http: Callable[..., Any] | None = handlers.get(HTTPException)
    json_refusal: Callable[..., Any] | None = handlers.get(Refusal)
    json_unexpected: Callable[..., Any] | None = handlers.get(Exception)

    def on_http(error: HTTPException) -> Any:
        if not wants_html():
            return json_http(error) if json_http else error
        if error.code == 401 and g.get("tenant") is not None:
            return redirect(sign_in_url(), code=303)
        if isinstance(error, CsrfRefused):
            return render_error(400, csrf=True, resend=_resendable_fields())
        return render_error(error.code or 500, suspended=_tenant_suspended(error))

    def on_refusal(error: Refusal) -> Any:
        if not wants_html():
            return json_refusal(error) if json_refusal else error
        # A refusal a page did not catch itself: the page of its status (whose heading says
        # its kind), its sentence in the page's language.
        from saas.core.web.i18n import refusal_sentence

        return render_error(error.status, message=refusal_sentence(error))

    def on_unexpected(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return on_http(error)
        if not wants_html():
            return json_unexpected(error) if json_unexpected else InternalServerError()
        log.exception("unhandled error on a page")
        return render_error(500)

    app.register_error_handler(HTTPException, on_http)
    app.register_error_handler(Refusal, on_refusal)
    app.register_error_handler(Exception, on_unexpected)


def _resendable_fields() -> list[tuple[str, str]]:
    """What the refused form carried (no token, no files), to send again from the 400 page."""
    if request.method != "POST":
        return []
    return [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"][:200]
