"""Roles from IdP claims, scoped to the tenant whose IdP sent them.

A municipality's IdP grants roles in that municipality only, and never a platform-wide role;
the national IdP (the ministry's configuration) may grant platform-wide roles (ministry
admin, auditor) and no tenant roles. Every change is an audit event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity.models import IdentityProvider
from saas.core.accounts.models import Role, RoleGrant
from saas.core.audit import services as audit


def allowed_roles(provider: IdentityProvider) -> frozenset[Role]:
    if provider.tenant_id is None:
        return frozenset(role for role in Role if role.is_platform_wide)
    return frozenset(role for role in Role if not role.is_platform_wide)


def invalid_mapping(tenant_id: int | None, mapping: dict[str, Any]) -> list[str]:
    """Problems of a role mapping for an IdP of `tenant_id` (None: the national IdP)."""
    problems = []
    for claim_value, role_name in mapping.items():
        try:
            role = Role(role_name)
        except ValueError:
            problems.append(f"{claim_value!r}: {role_name!r} is not a role")
            continue
        if tenant_id is not None and role.is_platform_wide:
            problems.append(f"{claim_value!r}: only the ministry's configuration grants {role.value}")
        if tenant_id is None and not role.is_platform_wide:
            problems.append(f"{claim_value!r}: the national IdP grants no roles inside a municipality")
    return problems


def mapped_roles(provider: IdentityProvider, claims: dict[str, Any]) -> set[Role]:
    if not provider.role_claim:
        return set()
    values = claims.get(provider.role_claim)
    if isinstance(values, str):
        values = values.split()
    if not isinstance(values, list):
        return set()
    mapping = provider.role_mapping or {}
    granted = {Role(mapping[v]) for v in values if isinstance(v, str) and v in mapping}
    # Checked again here, not only at registration: a row edited by hand cannot widen the scope.
    return granted & allowed_roles(provider)


def sync_roles(session: Session, provider: IdentityProvider, account_id: int, claims: dict[str, Any]) -> None:
    """Make the roles this provider grants the account match its claims; audit each change.
    Grants by other IdPs of the same scope stay as they are."""
    wanted = mapped_roles(provider, claims)
    grants = session.scalars(
        select(RoleGrant).where(RoleGrant.account_id == account_id, RoleGrant.provider_id == provider.id)
    ).all()
    held = {grant.role: grant for grant in grants}
    for role in sorted(wanted - held.keys()):
        session.add(
            RoleGrant(account_id=account_id, role=role, tenant_id=provider.tenant_id, provider_id=provider.id)
        )
        _audit(session, provider, account_id, "identity.role.grant", role)
    for role in sorted(held.keys() - wanted):
        session.delete(held[role])
        _audit(session, provider, account_id, "identity.role.revoke", role)
    session.flush()


def _audit(session: Session, provider: IdentityProvider, account_id: int, action: str, role: Role) -> None:
    audit.record(
        session,
        actor=f"idp:{provider.key}",
        action=action,
        tenant_slug=None,
        target=f"account:{account_id}",
        data={"role": role.value, "tenant_id": provider.tenant_id, "provider": provider.key},
    )
