"""The tenant of the current request, resolved once at the edge, and its database session.

A request under `/t/<slug>/...` enters its tenant before any view runs; views and services
get the tenant from here, never from a request body. Unknown (or not yet provisioned)
tenants answer 404, suspended ones 503.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from saas.control.registry.models import Tenant, TenantDomain, TenantStatus
from saas.core.extensions import db
from saas.core.tenancy import binding
from saas.core.tenancy.slugs import is_valid_slug


@dataclass(frozen=True)
class TenantRef:
    """What a request needs to know of its tenant (a detached copy of the registry row)."""

    id: int
    slug: str
    name: str
    name_en: str | None
    status: TenantStatus
    template_name: str
    template_version: int
    branding: dict[str, Any]
    region_code: str  # the municipality's 10-digit code (saas.regions), e.g. for its statistics

    @classmethod
    def of(cls, tenant: Tenant) -> TenantRef:
        return cls(
            tenant.id,
            tenant.slug,
            tenant.name,
            tenant.name_en,
            tenant.status,
            tenant.template_name,
            tenant.template_version,
            dict(tenant.branding or {}),
            tenant.region_code,
        )


class _TtlCache:
    # Keys come from requests (any slug or Host header), misses included: bounded, so that
    # random names cannot grow it without limit.
    MAX_ITEMS = 10_000

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, ttl: float, load: Any) -> Any:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = load()
        if len(self._items) >= self.MAX_ITEMS:
            self._items.clear()
        self._items[key] = (now, value)
        return value

    def clear(self) -> None:
        self._items.clear()


_tenants = _TtlCache()
_domains = _TtlCache()


def forget_cached_tenants() -> None:
    """After a status change in this process, so it shows at once."""
    _tenants.clear()
    _domains.clear()


def _ttl() -> float:
    return current_app.config["CHAMYEO_SETTINGS"].tenant_lookup_ttl_seconds


def lookup_tenant(slug: str) -> TenantRef | None:
    if not is_valid_slug(slug):
        return None

    def load() -> TenantRef | None:
        with db.control_session() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
            return TenantRef.of(tenant) if tenant is not None else None

    return _tenants.get(slug, _ttl(), load)


def slug_for_domain(domain: str) -> str | None:
    def load() -> str | None:
        with db.control_session() as session:
            return session.scalar(select(Tenant.slug).join(TenantDomain).where(TenantDomain.domain == domain))

    return _domains.get(domain, _ttl(), load)


def portal_not_open(slug: str) -> str:
    """The 404 for a portal that does not exist, is not serving yet, or belongs to another
    tenant than the caller's credential: one wording for all, so it tells none apart."""
    return f"No portal named '{slug}' is open to this request."


def enter_tenant(slug: str) -> TenantRef:
    """Bind this request to tenant `slug` or abort: 404 unknown, 503 suspended."""
    tenant = lookup_tenant(slug)
    if tenant is None or tenant.status in (TenantStatus.PROVISIONING, TenantStatus.FAILED):
        abort(404, message=portal_not_open(slug))
    if tenant.status == TenantStatus.SUSPENDED:
        abort(503, message=f"The portal of {tenant.name} is suspended.")
    g.tenant = tenant
    return tenant


def current_tenant() -> TenantRef:
    tenant = g.get("tenant")
    if tenant is None:
        raise RuntimeError("no tenant is bound to this request")
    return tenant


def db_session() -> Session:
    """This request's session: bound to the request's tenant, or to no tenant at all."""
    session = g.get("db_session")
    if session is None:
        # The token lookup's connection goes back to the pool first: a request that works in
        # its session holds one connection, not two.
        _close_autocommit()
        tenant = g.get("tenant")
        slug = tenant.slug if tenant is not None else None
        session = binding.open_session(db.engine, slug)
        g.db_session = session
    return session


def db_autocommit() -> Connection:
    """This request's connection for statements that stand alone, each committing on its own
    (see `binding.open_autocommit_connection`): the token lookup, a check-in. Bound to the
    request's tenant like `db_session()`; writes that span statements belong in the session.
    Opening the session gives it back to the pool; asked for after that, it is another one."""
    tenant = g.get("tenant")
    slug = tenant.slug if tenant is not None else None
    opened = g.setdefault("db_autocommit", {})
    connection = opened.get(slug)
    if connection is None:  # one per binding, should it be used before the tenant is entered
        connection = opened[slug] = binding.open_autocommit_connection(db.engine, slug)
    return connection


def _close_autocommit() -> None:
    for connection in g.pop("db_autocommit", {}).values():
        connection.close()


def close_request_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    _close_autocommit()
