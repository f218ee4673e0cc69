"""Registering the development IdP's realms at the hub, as the ministry would register any
IdP: the `national` realm as a national IdP, and one realm per demo portal as that portal's
own IdP. Development only: elsewhere nothing is registered (and the IdP is not served)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity.federation.services import do_register_provider
from saas.control.identity.models import IdentityProvider
from saas.control.identity.sealing import SecretBox
from saas.core.registry.models import Tenant
from saas.core.settings import Settings
from saas.dev.idp import (
    CLIENT_ID,
    MUNICIPAL_ROLE_MAPPING,
    NATIONAL,
    NATIONAL_ROLE_MAPPING,
    client_secret,
    issuer_of,
    provider_key,
)


class NotInDevelopment(RuntimeError):
    """The development IdP was asked for outside CHAMYEO_ENV=development."""


def register_development_idps(session: Session, settings: Settings, slugs: Iterable[str]) -> list[str]:
    """Make sure each realm (national, and one per slug) is a registered, approved IdP at the
    hub's current URL; commit. Returns the provider keys. Raises NotInDevelopment elsewhere."""
    if settings.environment != "development":
        raise NotInDevelopment("the development IdP exists only when CHAMYEO_ENV=development")
    box = SecretBox(settings)
    keys = []
    for realm in [NATIONAL, *slugs]:
        tenant_id = None
        if realm != NATIONAL:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == realm))
            if tenant_id is None:
                continue
        key = provider_key(realm)
        issuer = issuer_of(settings.hub_url, realm)
        existing = session.scalar(select(IdentityProvider).where(IdentityProvider.key == key))
        if existing is None:
            do_register_provider(
                session,
                box,
                key=key,
                display_name=f"개발용 로그인 · Development sign-in ({realm})",
                issuer=issuer,
                client_id=CLIENT_ID,
                client_secret=client_secret(settings),
                tenant_id=tenant_id,
                role_claim="roles",
                role_mapping=NATIONAL_ROLE_MAPPING if realm == NATIONAL else MUNICIPAL_ROLE_MAPPING,
                scopes="openid email profile roles",
                by_ministry=True,
                is_development=True,
                actor="demo",
            )
        elif existing.issuer != issuer or not _sealed_equals(
            box, existing.client_secret_encrypted, client_secret(settings)
        ):
            # Another PORT or SECRET_KEY since the last `chamyeo up`: follow it.
            existing.issuer = issuer
            existing.metadata_url = f"{issuer}/.well-known/openid-configuration"
            existing.client_secret_encrypted = box.seal(client_secret(settings))
            existing.discovery = None
            session.commit()
        keys.append(key)
    return keys


def _sealed_equals(box: SecretBox, sealed: str, wanted: str) -> bool:
    try:
        return box.open(sealed) == wanted
    except ValueError:  # sealed under another key
        return False


def registered_realms() -> list[str]:
    """The realms registered at the hub (for the development IdP's index page)."""
    from saas.core.tenancy.context import db_session

    keys = db_session().scalars(
        select(IdentityProvider.key)
        .where(IdentityProvider.is_development.is_(True))
        .order_by(IdentityProvider.id)
    )
    return [key.removeprefix("dev-") for key in keys]
