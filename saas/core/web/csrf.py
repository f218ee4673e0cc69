"""CSRF protection of the pages' forms: a token bound to the browser.

The browser holds a random `chamyeo_csrf` cookie (HttpOnly, SameSite=Lax), set the first time
a page renders a form; a form carries HMAC(secret key, that cookie) in its `csrf_token` field.
Another site can make the browser send the cookie but can neither read it nor compute the
HMAC without the app's secret. Every POST to a page blueprint is checked before its view runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

CSRF_COOKIE = "chamyeo_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"  # for the small script layer's fetches


class CsrfRefused(BadRequest):
    """A form without the token of this browser: 400, with the user's input kept so the 400
    page can offer to send it again."""

    description = "This form has expired or was not sent from this site."


def _browser_secret() -> str:
    secret = g.get("csrf_browser_secret")
    if secret is None:
        secret = request.cookies.get(CSRF_COOKIE) or ""
        if len(secret) < 32:
            secret = secrets.token_urlsafe(32)
            g.csrf_new_cookie = True
        g.csrf_browser_secret = secret
    return str(secret)


def _token_for(browser_secret: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + browser_secret.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token for this browser's forms (a Jinja global); sets the cookie if it has none."""
    return _token_for(_browser_secret())


def check_csrf() -> None:
    """A page blueprint's `before_request`: refuse a POST whose token is not this browser's."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if len(cookie) < 32 or not sent or not hmac.compare_digest(sent, _token_for(cookie)):
        raise CsrfRefused()


def set_csrf_cookie(response: Response) -> Response:
    """An `after_request` hook: give the browser its secret when a form used a new one."""
    if g.get("csrf_new_cookie"):
        response.set_cookie(
            CSRF_COOKIE,
            g.csrf_browser_secret,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            max_age=365 * 24 * 3600,
        )
    return response
