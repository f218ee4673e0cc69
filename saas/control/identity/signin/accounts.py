"""People are identified by (issuer, subject). A second identity joins an account only when
the person, already signed in with a linked identity, adds it in a link flow; e-mail
addresses are never used to match people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity.errors import SignInRefused
from saas.control.identity.models import ExternalIdentity, IdentityProvider
from saas.control.identity.signin.upstream import UpstreamIdentity
from saas.core import clock
from saas.core.accounts.models import Account
from saas.core.audit import services as audit
from saas.core.refusals import N_


def _display_name(identity: UpstreamIdentity) -> str:
    name = identity.claims.get("name")
    return name[:200] if isinstance(name, str) and name.strip() else f"{identity.subject[:100]}"


def account_for_identity(
    session: Session,
    provider: IdentityProvider,
    identity: UpstreamIdentity,
    *,
    link_account_id: int | None = None,
) -> int:
    """The account of this identity, created on its first sign-in, or joined to
    `link_account_id` in a link flow. Keeps the identity's latest `acr`."""
    known = session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == identity.issuer, ExternalIdentity.subject == identity.subject
        )
    )
    now = clock.now()
    if known is not None:
        if link_account_id is not None and known.account_id != link_account_id:
            raise SignInRefused(N_("this identity already belongs to another account"))
        known.acr = identity.acr
        known.last_sign_in_at = now
        return known.account_id
    account_id = link_account_id
    if account_id is None:
        email = identity.claims.get("email")
        account = Account(
            email=email[:320] if isinstance(email, str) else None, display_name=_display_name(identity)
        )
        session.add(account)
        session.flush()
        account_id = account.id
    session.add(
        ExternalIdentity(
            account_id=account_id,
            provider_id=provider.id,
            issuer=identity.issuer,
            subject=identity.subject,
            acr=identity.acr,
            last_sign_in_at=now,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=f"account:{account_id}",
        action="identity.link" if link_account_id is not None else "identity.first_sign_in",
        target=f"account:{account_id}",
        data={"issuer": identity.issuer, "subject": identity.subject, "provider": provider.key},
    )
    return account_id
