"""Named actions of the hub as relying party: start and finish a sign-in at an upstream IdP,
and end the hub sessions an IdP's back-channel logout names. Each owns its transaction; a
refusal rolls back what it began (a spent flow stays spent)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity import flows
from saas.control.identity.errors import ProviderNotOffered, SignInRefused
from saas.control.identity.logout import accept_logout_claims
from saas.control.identity.models import HubSession, IdentityProvider, ProviderStatus, SignInFlow
from saas.control.identity.provider.services import do_sign_out
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import open_hub_session
from saas.control.identity.signin import upstream
from saas.control.identity.signin.accounts import account_for_identity
from saas.control.identity.signin.roles import sync_roles
from saas.core.audit import services as audit
from saas.core.refusals import N_
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
        raise ProviderNotOffered(N_("this identity provider is not offered here"))
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
    try:
        flow = flows.take_flow(
            session, state=args.get("state"), browser_secret=browser_secret, purpose="upstream"
        )
        session.commit()
        return _sign_in(session, settings, key, flow, args)
    except SignInRefused:
        session.rollback()
        raise


def _sign_in(session: Session, settings: Settings, key: str, flow: SignInFlow, args: dict) -> SignedIn:
    provider = session.get(IdentityProvider, flow.provider_id)
    if provider is None or provider.key != key or provider.status != ProviderStatus.APPROVED:
        raise SignInRefused(N_("the response came back to another IdP's callback"))
    if provider.is_development and settings.environment != "development":
        raise ProviderNotOffered(N_("the development identity provider is disabled outside development"))
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


def do_start_upstream_sign_in(
    session: Session,
    settings: Settings,
    *,
    key: str,
    tenant_id: int | None,
    browser_secret: str,
    return_to: str,
) -> str:
    """Record a sign-in flow at the IdP `key` for a person coming from the portal of
    `tenant_id` (None: the hub itself) and return the IdP's authorization URL to send them to.
    ProviderNotOffered when that portal does not offer the IdP; SignInRefused when the IdP
    cannot be reached (nothing is recorded)."""
    provider = provider_for_portal(session, settings, key, tenant_id)
    try:
        url = upstream.start(
            session,
            provider,
            hub_url=settings.hub_url,
            browser_secret=browser_secret,
            return_to=return_to,
            box=SecretBox(settings),
        )
    except SignInRefused:
        session.rollback()
        raise
    session.commit()
    return url


def do_end_sessions_from_idp(session: Session, settings: Settings, *, key: str, logout_token: str) -> int:
    """An upstream IdP's back-channel logout: end the hub sessions its token names (by its
    session id, else every session of the subject there) and tell their portals. Returns how
    many portals were told. ProviderNotOffered for an unknown IdP; SignInRefused, with
    nothing written, for a token that fails a check or was seen before."""
    provider = session.scalar(select(IdentityProvider).where(IdentityProvider.key == key))
    if provider is None:
        raise ProviderNotOffered(N_("Unknown identity provider."))
    try:
        document = upstream.metadata(session, provider)
        claims = accept_logout_claims(
            session,
            upstream.verify_signed_by(logout_token, document["jwks_uri"]),
            issuer=provider.issuer,
            audience=provider.client_id,
        )
    except SignInRefused:
        session.rollback()
        raise
    query = select(HubSession).where(HubSession.provider_id == provider.id, HubSession.ended_at.is_(None))
    if isinstance(claims.get("sid"), str):
        query = query.where(HubSession.upstream_sid == claims["sid"])
    else:
        query = query.where(HubSession.subject == claims["sub"])
    return do_sign_out(session, settings, list(session.scalars(query)), actor=f"idp:{provider.key}")
