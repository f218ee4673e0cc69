"""Named actions of the hub as relying party: finish a sign-in at an upstream IdP."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity import flows
from saas.control.identity.errors import ProviderNotOffered, SignInRefused
from saas.control.identity.models import IdentityProvider, ProviderStatus
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import open_hub_session
from saas.control.identity.signin import upstream
from saas.control.identity.signin.accounts import account_for_identity
from saas.control.identity.signin.roles import sync_roles
from saas.core.audit import services as audit
from saas.core.settings import Settings


def offered_providers(session: Session, settings: Settings, tenant_id: int | None) -> list[IdentityProvider]:
    """What a portal offers: the national IdP to everyone, and the tenant's own approved IdPs.
    Development IdPs are offered only in development."""
    query = (
        select(IdentityProvider)
        .where(IdentityProvider.status == ProviderStatus.APPROVED)
        .where(IdentityProvider.tenant_id.is_(None) | (IdentityProvider.tenant_id == tenant_id))
    )
    if settings.environment != "development":
        query = query.where(IdentityProvider.is_development.is_(False))
    query = query.order_by(IdentityProvider.tenant_id.nulls_first(), IdentityProvider.id)
    return list(session.scalars(query))


def provider_for_portal(
    session: Session, settings: Settings, key: str, tenant_id: int | None
) -> IdentityProvider:
    provider = next((p for p in offered_providers(session, settings, tenant_id) if p.key == key), None)
    if provider is None:
        raise ProviderNotOffered("this identity provider is not offered here")
    return provider


@dataclass(frozen=True)
class SignedIn:
    hub_cookie: str
    return_to: str
    account_id: int


def do_finish_upstream_sign_in(
    session: Session, settings: Settings, *, key: str, args: dict, browser_secret: str | None
) -> SignedIn:
    """Check the IdP's answer and open a hub session. The flow is spent (committed) before any
    other check, so a refused response cannot be replayed; a refusal writes nothing else."""
    flow = flows.take_flow(
        session, state=args.get("state"), browser_secret=browser_secret, purpose="upstream"
    )
    session.commit()
    provider = session.get(IdentityProvider, flow.provider_id)
    if provider is None or provider.key != key or provider.status != ProviderStatus.APPROVED:
        raise SignInRefused("the response came back to another IdP's callback")
    if provider.is_development and settings.environment != "development":
        raise ProviderNotOffered("the development identity provider is disabled outside development")
    box = SecretBox(settings)
    identity = upstream.redeem_code(session, provider, flow, args, box)
    account_id = account_for_identity(session, provider, identity, link_account_id=flow.link_account_id)
    sync_roles(session, provider, account_id, identity.claims)
    _, secret = open_hub_session(
        session,
        provider,
        account_id,
        subject=identity.subject,
        sid=identity.sid,
        id_token=identity.id_token,
        acr=identity.acr,
    )
    audit.record(
        session,
        actor=f"account:{account_id}",
        action="identity.sign_in",
        target=f"account:{account_id}",
        data={"provider": provider.key, "acr": identity.acr},
    )
    session.commit()
    return SignedIn(secret, flow.return_to, account_id)
