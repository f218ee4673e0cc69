"""Back-channel logout the hub sends: a signed logout token to every portal where the ended
hub session had signed a person in (OpenID Connect Back-Channel Logout 1.0)."""

from __future__ import annotations

import logging
import secrets

import requests
from joserfc import jwt
from sqlalchemy.orm import Session

from saas.control.identity.provider.clients import PortalClient
from saas.control.identity.provider.keys import SIGNING_ALG, signing_key
from saas.control.identity.sealing import SecretBox
from saas.control.identity.tokens import BACKCHANNEL_LOGOUT_EVENT
from saas.core import clock

log = logging.getLogger(__name__)
HTTP_TIMEOUT = 3


def hub_logout_token(
    session: Session, box: SecretBox, *, hub_url: str, client_id: str, sid: str, sub: str
) -> str:
    key = signing_key(session, box)
    now = int(clock.timestamp())
    claims = {
        "iss": hub_url,
        "aud": client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sid": sid,
        "sub": sub,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    return jwt.encode({"alg": SIGNING_ALG, "kid": key.kid, "typ": "logout+jwt"}, claims, key)


def notify_portal(portal: PortalClient, logout_token: str) -> bool:
    """POST the logout token to the portal; a portal that does not answer keeps its session
    until it expires, which is logged (never raised: the person is signed out of the hub)."""
    try:
        response = requests.post(
            portal.backchannel_logout_uri, data={"logout_token": logout_token}, timeout=HTTP_TIMEOUT
        )
    except requests.RequestException as error:
        log.warning("back-channel logout to %s failed: %s", portal.slug, error)
        return False
    if response.status_code != 200:
        log.warning("back-channel logout to %s answered %s", portal.slug, response.status_code)
    return response.status_code == 200
