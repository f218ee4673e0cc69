"""Checking signed tokens (ID tokens and back-channel logout tokens) from an issuer."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from saas.control.identity.errors import SignInRefused
from saas.core import clock
from saas.core.refusals import N_

# Asymmetric only: an `alg: none` or HMAC token signed with a public key must not pass.
ALGORITHMS = ["RS256", "PS256", "ES256"]
CLOCK_SKEW = 60
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def decode_signed(token: object, keys: KeySet) -> dict[str, Any]:
    """The claims of a token whose signature verifies with one of `keys`; refuses otherwise."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 20_000:
        raise SignInRefused(N_("the token is not a signed JWT"))
    try:
        return dict(jwt.decode(token, keys, algorithms=ALGORITHMS).claims)
    except (JoseError, ValueError) as error:
        raise SignInRefused(
            N_("the token's signature does not verify (%(kind)s)", kind=type(error).__name__)
        ) from None


def check_issuer_and_audience(claims: dict[str, Any], *, issuer: str, audience: str) -> None:
    if claims.get("iss") != issuer:
        raise SignInRefused(
            N_(
                "the token comes from %(iss)s, not %(issuer)s",
                iss=repr(claims.get("iss")),
                issuer=repr(issuer),
            )
        )
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences:
        raise SignInRefused(N_("the token was issued to another client (audience)"))
    if len(audiences) > 1 and claims.get("azp") != audience:
        raise SignInRefused(N_("the token names other audiences and not us as its party (azp)"))


def check_id_token(claims: dict[str, Any], *, issuer: str, audience: str, nonce: str) -> None:
    """OpenID Connect Core 3.1.3.7: issuer, audience, expiry, nonce, subject."""
    check_issuer_and_audience(claims, issuer=issuer, audience=audience)
    now = clock.timestamp()
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < now - CLOCK_SKEW:
        raise SignInRefused(N_("the ID token has expired"))
    if not isinstance(claims.get("iat"), int | float) or claims["iat"] > now + CLOCK_SKEW:
        raise SignInRefused(N_("the ID token is issued in the future"))
    if claims.get("nonce") != nonce:
        raise SignInRefused(N_("the ID token's nonce is not the one this sign-in sent"))
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInRefused(N_("the ID token names no subject"))


def check_logout_token(claims: dict[str, Any], *, issuer: str, audience: str) -> None:
    """OpenID Connect Back-Channel Logout 2.6 (the `jti` replay check is the caller's)."""
    check_issuer_and_audience(claims, issuer=issuer, audience=audience)
    now = clock.timestamp()
    if not isinstance(claims.get("iat"), int | float) or abs(claims["iat"] - now) > 300:
        raise SignInRefused(N_("the logout token is stale or from the future"))
    if "exp" in claims and (not isinstance(claims["exp"], int | float) or claims["exp"] < now - CLOCK_SKEW):
        raise SignInRefused(N_("the logout token has expired"))
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
        raise SignInRefused(N_("the token is not a logout token (events)"))
    if "nonce" in claims:
        # A nonce marks an ID token; accepting one here would let an ID token log people out.
        raise SignInRefused(N_("a logout token must not carry a nonce"))
    if not isinstance(claims.get("jti"), str) or not claims["jti"] or len(claims["jti"]) > 200:
        raise SignInRefused(N_("the logout token has no jti"))
    if not isinstance(claims.get("sid"), str) and not isinstance(claims.get("sub"), str):
        raise SignInRefused(N_("the logout token names neither a session nor a subject"))
