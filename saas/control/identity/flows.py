"""Sign-in flows in flight: created when a browser is sent to an authorization endpoint,
taken (once) when it comes back."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.identity.errors import SignInRefused
from saas.control.identity.models import SignInFlow
from saas.core import clock
from saas.core.refusals import N_

FLOW_LIFETIME = timedelta(minutes=10)
BROWSER_COOKIE = "chamyeo_browser"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_browser_secret() -> str:
    return secrets.token_urlsafe(32)


def start_flow(
    session: Session,
    *,
    purpose: str,
    browser_secret: str,
    redirect_uri: str,
    return_to: str,
    provider_id: int | None = None,
    tenant_id: int | None = None,
    link_account_id: int | None = None,
) -> SignInFlow:
    flow = SignInFlow(
        state=secrets.token_urlsafe(32),
        purpose=purpose,
        provider_id=provider_id,
        tenant_id=tenant_id,
        browser_hash=digest(browser_secret),
        nonce=secrets.token_urlsafe(32),
        # RFC 7636: 43-128 characters; 64 random bytes in base64url give 86.
        code_verifier=secrets.token_urlsafe(64),
        redirect_uri=redirect_uri,
        return_to=return_to,
        link_account_id=link_account_id,
    )
    session.add(flow)
    session.flush()
    return flow


def take_flow(session: Session, *, state: object, browser_secret: str | None, purpose: str) -> SignInFlow:
    """The flow for `state`, marked used. Refuses an unknown, used, stale or foreign state:
    the row is locked, so two callbacks racing with one state cannot both pass."""
    if not isinstance(state, str) or not state or len(state) > 64:
        raise SignInRefused(N_("the sign-in response carries no valid state"))
    flow = session.scalar(select(SignInFlow).where(SignInFlow.state == state).with_for_update())
    if flow is None or flow.purpose != purpose:
        raise SignInRefused(N_("the state is unknown (tampered with, or from another sign-in)"))
    if flow.consumed_at is not None:
        raise SignInRefused(N_("this sign-in response was already used"))
    if clock.now() - flow.created_at > FLOW_LIFETIME:
        raise SignInRefused(N_("the sign-in took too long; start again"))
    if not browser_secret or not secrets.compare_digest(digest(browser_secret), flow.browser_hash):
        raise SignInRefused(N_("the sign-in was started in another browser"))
    flow.consumed_at = clock.now()
    return flow
