"""Back-channel logout tokens received: by the hub from upstream IdPs, and by portals from the
hub (those the hub sends are `provider.backchannel`'s)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.control.identity.errors import SignInRefused
from saas.control.identity.models import ConsumedLogoutToken
from saas.control.identity.tokens import check_logout_token
from saas.core import clock


def accept_logout_claims(
    session: Session, claims: dict[str, Any], *, issuer: str, audience: str
) -> dict[str, Any]:
    """The claims of a logout token whose signature the caller verified, when valid and seen
    for the first time (its jti is recorded in the caller's transaction); SignInRefused for a
    wrong issuer or audience, a nonce, a replayed jti…"""
    check_logout_token(claims, issuer=issuer, audience=audience)
    recorded = session.execute(
        insert(ConsumedLogoutToken)
        .values(issuer=issuer, jti=claims["jti"], expires_at=clock.now() + timedelta(days=1))
        .on_conflict_do_nothing()
        .returning(ConsumedLogoutToken.jti)
    ).scalar_one_or_none()
    if not recorded:
        raise SignInRefused("this logout token was already used (replayed jti)")
    return claims
