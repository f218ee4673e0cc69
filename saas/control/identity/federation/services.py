"""Administration of the federation: the ministry registers the national IdP and approves
municipalities' IdPs; a municipality's admin registers its own (pending until approved) and
tests it. Client secrets are stored encrypted; every change is an audit event."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity.models import IdentityProvider, ProviderStatus
from saas.control.identity.sealing import SecretBox
from saas.control.identity.signin.roles import invalid_mapping
from saas.control.identity.signin.upstream import fetch_discovery
from saas.core import clock
from saas.core.audit import services as audit
from saas.core.refusals import Conflict, Invalid, NotFound
from saas.core.registry.models import Tenant

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


class ProviderRefused(Invalid):
    """The registration is invalid (bad key, mapping, or a duplicate issuer): a 422."""


class ProviderConflict(Conflict, ProviderRefused):
    """The key or the issuer is registered already: a 409."""


class ProviderNotFound(NotFound):
    """No IdP with that key."""


def do_register_provider(
    session: Session,
    box: SecretBox,
    *,
    key: str,
    display_name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    tenant_id: int | None,
    role_claim: str | None = None,
    role_mapping: dict[str, Any] | None = None,
    scopes: str = "openid email profile",
    by_ministry: bool,
    is_development: bool = False,
    actor: str,
) -> IdentityProvider:
    """Register an IdP. The ministry's registrations are approved at once; a tenant admin's
    wait for the ministry. Only the ministry registers the national IdP (tenant_id None)."""
    if not KEY_PATTERN.match(key):
        raise ProviderRefused("the key must match ^[a-z][a-z0-9-]{1,39}$")
    if tenant_id is None and not by_ministry:
        raise ProviderRefused("only the ministry registers the national IdP")
    problems = invalid_mapping(tenant_id, role_mapping or {})
    if problems:
        raise ProviderRefused("; ".join(problems))
    issuer = issuer.rstrip("/") if issuer.endswith("/") and issuer.count("/") > 3 else issuer
    if session.scalar(select(IdentityProvider.id).where(IdentityProvider.key == key)) is not None:
        raise ProviderConflict(f"an IdP with key {key!r} exists")
    if session.scalar(select(IdentityProvider.id).where(IdentityProvider.issuer == issuer)) is not None:
        raise ProviderConflict("this issuer is registered already")
    provider = IdentityProvider(
        key=key,
        display_name=display_name,
        tenant_id=tenant_id,
        issuer=issuer,
        metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_id=client_id,
        client_secret_encrypted=box.seal(client_secret),
        scopes=scopes,
        role_claim=role_claim,
        role_mapping=role_mapping or {},
        status=ProviderStatus.APPROVED if by_ministry else ProviderStatus.PENDING,
        approved_at=clock.now() if by_ministry else None,
        is_development=is_development,
    )
    session.add(provider)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="identity.provider.register",
        target=f"idp:{key}",
        data={"issuer": issuer, "tenant_id": tenant_id, "status": provider.status.value},
    )
    session.commit()
    return provider


def do_approve_provider(session: Session, key: str, *, actor: str) -> IdentityProvider:
    provider = session.scalar(select(IdentityProvider).where(IdentityProvider.key == key))
    if provider is None:
        raise ProviderNotFound(f"no IdP {key!r}")
    provider.status = ProviderStatus.APPROVED
    provider.approved_at = clock.now()
    audit.record(session, actor=actor, action="identity.provider.approve", target=f"idp:{key}")
    session.commit()
    return provider


def probe_provider(provider: IdentityProvider) -> dict[str, Any]:
    """Read the IdP's discovery document and say what the hub would use (raises
    SignInRefused when it is unusable)."""
    document = fetch_discovery(provider.metadata_url, expected_issuer=provider.issuer)
    return {
        "issuer": document["issuer"],
        "authorization_endpoint": document["authorization_endpoint"],
        "token_endpoint": document["token_endpoint"],
        "jwks_uri": document["jwks_uri"],
        "end_session_endpoint": document.get("end_session_endpoint"),
        "iss_parameter": bool(document.get("authorization_response_iss_parameter_supported")),
        "backchannel_logout": bool(document.get("backchannel_logout_supported")),
    }


def providers(session: Session, *, tenant_id: int | None = None) -> list[IdentityProvider]:
    """The federation's IdPs in registration order: every one, or with `tenant_id` that
    tenant's own only."""
    query = select(IdentityProvider).order_by(IdentityProvider.id)
    if tenant_id is not None:
        query = query.where(IdentityProvider.tenant_id == tenant_id)
    return list(session.scalars(query))


def provider_by_key(session: Session, key: str) -> IdentityProvider | None:
    return session.scalar(select(IdentityProvider).where(IdentityProvider.key == key))


def tenant_slug_of(session: Session, provider: IdentityProvider) -> str | None:
    """The slug of the tenant whose own IdP this is; None for a national IdP."""
    if provider.tenant_id is None:
        return None
    return session.scalar(select(Tenant.slug).where(Tenant.id == provider.tenant_id))
