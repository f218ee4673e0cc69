"""A refused sign-in step as a page, for a browser: the hub's start and callback of an IdP's
sign-in, and the portal's callback from the hub. Another client (a script, a test that accepts
anything) keeps the JSON 4xx of `flask_smorest.abort`."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request

from saas.control.identity.errors import SignInRefused
from saas.core.refusals import as_sentence
from saas.core.web.i18n import translated


def wants_page() -> bool:
    # A browser names text/html; a client that accepts anything (*/*) is answered in JSON.
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def refused_page(
    error: SignInRefused, status: int, lead: str, *, again_url: str | None = None, tenant: Any = None
) -> Response:
    """The refusal in the request's language: `lead` (what failed, translated by the caller),
    the refusal's own sentence, and where to start again. With `tenant`, in the portal's look."""
    response = Response(
        render_template(
            "identity/hub_refused.html",
            tenant=tenant,
            lead=lead,
            reason=as_sentence(translated(error.message)),
            again_url=again_url,
        ),
        status=status,
        mimetype="text/html",
    )
    response.headers["Cache-Control"] = "no-store"
    return response
