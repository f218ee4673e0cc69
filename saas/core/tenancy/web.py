"""Routing requests to tenants: by host (`<slug>.<platform domain>`, custom domains) or by
the `/t/<slug>/` path prefix, which always works."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask_smorest import Blueprint, abort
from werkzeug.routing import BaseConverter

from saas.core.tenancy.context import enter_tenant, portal_not_open, slug_for_domain
from saas.core.tenancy.slugs import RESERVED_SLUGS, SLUG_PATTERN

if TYPE_CHECKING:
    from flask import Flask

TENANT_PREFIX = "/t/<tenant_slug:slug>"


class TenantSlugConverter(BaseConverter):
    """A tenant's slug in a URL. A reserved word (`/api/v1/tenants/import`) is no slug: the
    rule does not match, so it neither answers for nor is advertised on the other route."""

    # In the pattern, not in to_python: werkzeug counts a rule's methods as allowed for a URL
    # once its pattern matches, before converting.
    regex = rf"(?!(?:{'|'.join(sorted(RESERVED_SLUGS))})\b){SLUG_PATTERN}"


def tenant_blueprint(name: str, import_name: str, *, url_prefix: str = "", **options: Any) -> Blueprint:
    """A flask-smorest blueprint under `/t/<slug>/api/v1<url_prefix>` whose requests enter
    their tenant (and refuse credentials of another tenant) before any view runs."""
    blueprint = Blueprint(name, import_name, url_prefix=f"{TENANT_PREFIX}/api/v1{url_prefix}", **options)
    blueprint.url_value_preprocessor(enter_tenant_of_request)
    blueprint.url_defaults(_keep_slug)
    return blueprint


def enter_tenant_of_request(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Enter the tenant named by the URL (404 when unknown) and refuse another tenant's
    credential with the same 404; a `url_value_preprocessor` for every tenant route."""
    from saas.core.auth import current_principal

    slug = (values or {}).pop("slug")
    tenant = enter_tenant(slug)
    principal = current_principal()
    if principal is not None and principal.tenant_id not in (None, tenant.id):
        # Another tenant's credential: the same answer as for a portal that does not exist.
        abort(404, message=portal_not_open(slug))


def _keep_slug(endpoint: str, values: dict[str, Any]) -> None:
    from flask import g

    tenant = g.get("tenant")
    if tenant is not None:
        values.setdefault("slug", tenant.slug)


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def slug_for_host(
    host: str, platform_domain: str, *, custom_domain: Callable[[str], str | None] = slug_for_domain
) -> str | None:
    """The tenant a host names: `<slug>.<platform domain>`, else the tenant whose custom
    domain it is (`custom_domain`, a lookup that needs an app context); None for no host,
    a local one, or the platform's own. A port is ignored, the case too.

    The label before the platform domain is returned unchecked: an invalid one still gets a
    tenant path, so it ends in 404, never in the control plane."""
    name = host.rsplit(":", 1)[0].lower().rstrip(".") if host else ""
    domain = platform_domain.lower()
    if not name or name in LOCAL_HOSTS or name == domain:
        return None
    if name.endswith("." + domain):
        return name[: -len(domain) - 1]
    return custom_domain(name)


class HostRouting:
    """WSGI middleware: a request to a tenant's host is routed as `/t/<slug>/<path>`."""

    def __init__(self, app: Flask, platform_domain: str) -> None:
        self.flask_app = app
        self.wsgi_app = app.wsgi_app
        self.platform_domain = platform_domain

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        host = environ.get("HTTP_HOST", "")
        slug = slug_for_host(host, self.platform_domain, custom_domain=self._custom_domain)
        if slug is not None:
            path = environ.get("PATH_INFO", "") or "/"
            # Links the app builds name /t/<slug>/...: on the tenant's own host they stay that
            # tenant's (another slug there becomes /t/<slug>/t/<other>/..., which is a 404).
            if path != f"/t/{slug}" and not path.startswith(f"/t/{slug}/"):
                path = f"/t/{slug}{path}"
            environ["PATH_INFO"] = path
        return self.wsgi_app(environ, start_response)

    def _custom_domain(self, name: str) -> str | None:
        # Outside any request yet: the lookup gets an app context of its own.
        with self.flask_app.app_context():
            return slug_for_domain(name)


def init_app(app: Flask, platform_domain: str) -> None:
    app.url_map.converters["tenant_slug"] = TenantSlugConverter
    app.wsgi_app = HostRouting(app, platform_domain)  # type: ignore[method-assign]  # Flask's way to wrap it
