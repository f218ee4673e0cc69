"""The conventions every page (HTML) of the platform follows: languages (flask-babel), CSRF,
security headers, fingerprinted assets, HTML error pages, the layout's Jinja globals and
filters. `init_app(app)` (from `create_app`, after the API) installs them; a page route is a
`pages.page_blueprint` (see docs/web-contract.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Response, request
from jinja2 import ChoiceLoader, FileSystemLoader

if TYPE_CHECKING:
    from flask import Flask

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'{hub}"
)


def _hub_origin() -> str:
    from saas.core.settings import current_settings

    parts = urlsplit(current_settings().hub_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def security_headers(response: Response) -> Response:
    """An `after_request` hook: the strict headers on every HTML answer (the sign-in forms
    may post to the identity hub, so form-action names its origin), nosniff on everything."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # The API's interactive docs (Swagger UI) run an inline script of flask-smorest's.
    if response.mimetype == "text/html" and not request.path.startswith("/api/docs"):
        hub = _hub_origin()
        own = request.host_url.rstrip("/")
        response.headers["Content-Security-Policy"] = CSP.format(hub=f" {hub}" if hub and hub != own else "")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        response.vary.add("Cookie")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    from saas.core.web import assets, branding, errors, i18n, markup
    from saas.core.web.csrf import csrf_token, set_csrf_cookie
    from saas.core.web.pages import keep_flashes, signed_in

    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # The foundation's own templates (web/...), wherever a page blueprint renders from.
    own = FileSystemLoader(str(Path(__file__).parent / "templates"))
    app.jinja_loader = ChoiceLoader([own, *([app.jinja_loader] if app.jinja_loader else [])])
    i18n.init_app(app)
    assets.init_app(app)
    app.jinja_env.globals.update(csrf_token=csrf_token, signed_in=signed_in)
    app.jinja_env.filters["markdown"] = markup.render_markdown
    app.after_request(set_csrf_cookie)
    app.after_request(keep_flashes)
    app.after_request(security_headers)
    errors.install_error_pages(app)
    app.register_blueprint(branding.bp)
