"""Portals as clients of the hub. Every active tenant is one, computed from the registry
(no row to keep in step): its redirect URIs are exact, one per host it is served on."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.core.registry.models import Tenant, TenantDomain, TenantStatus
from saas.core.settings import Settings
from saas.core.tenancy.slugs import is_valid_slug

CLIENT_PREFIX = "portal."
SCOPES = ("openid", "profile", "email")


def client_id_for(slug: str) -> str:
    return f"{CLIENT_PREFIX}{slug}"


def client_secret_for(settings: Settings, client_id: str) -> str:
    """Portals and hub run in one deployment: the secret is derived, never stored."""
    key = (settings.identity_encryption_key or settings.secret_key).encode()
    return hmac.new(key, b"portal client\x00" + client_id.encode(), hashlib.sha256).hexdigest()


def portal_origins(settings: Settings, slug: str, domains: list[str]) -> list[str]:
    """Where the portal is served: <slug>.<platform domain>, its custom domains (with the
    hub's scheme and port), and the /t/<slug> path on the hub's host."""
    hub = urlsplit(settings.hub_url)
    port = f":{hub.port}" if hub.port else ""
    hosts = [f"{slug}.{settings.platform_domain}", *domains]
    return [f"{hub.scheme}://{host}{port}" for host in hosts] + [f"{settings.hub_url}/t/{slug}"]


class CodeFlowClient(ClientMixin):
    """A confidential client of an authorization server of ours: authorization code only,
    secret by HTTP Basic, exact redirect URIs. Subclasses provide the attributes."""

    client_id: str
    client_secret: str

    @property
    def redirect_uris(self) -> list[str]:
        """The exact redirect URIs this client may name."""
        raise NotImplementedError

    def get_client_id(self) -> str:
        return self.client_id

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match, no prefixes

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class PortalClient(CodeFlowClient):
    tenant_id: int
    slug: str
    client_id: str
    client_secret: str
    origins: tuple[str, ...]
    backchannel_logout_uri: str

    @property
    def redirect_uris(self) -> list[str]:
        return [f"{origin}/auth/callback" for origin in self.origins]

    @property
    def post_logout_redirect_uris(self) -> list[str]:
        return [f"{origin}/auth/signed-out" for origin in self.origins]

    def get_default_redirect_uri(self) -> None:
        return None  # the redirect_uri parameter is always required

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)


def portal_client(session: Session, settings: Settings, client_id: object) -> PortalClient | None:
    if not isinstance(client_id, str) or not client_id.startswith(CLIENT_PREFIX):
        return None
    slug = client_id[len(CLIENT_PREFIX) :]
    if not is_valid_slug(slug):
        return None
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.status == TenantStatus.ACTIVE))
    if tenant is None:
        return None
    domains = list(session.scalars(select(TenantDomain.domain).where(TenantDomain.tenant_id == tenant.id)))
    return PortalClient(
        tenant_id=tenant.id,
        slug=slug,
        client_id=client_id,
        client_secret=client_secret_for(settings, client_id),
        origins=tuple(portal_origins(settings, slug, domains)),
        backchannel_logout_uri=f"{settings.hub_url}/t/{slug}/auth/backchannel-logout",
    )
