"""The hub as an OpenID relying party to upstream IdPs (Authlib's OAuth 2 client).

Authorization code with PKCE (S256), state and nonce, one exact redirect URI per IdP,
and the RFC 9207 `iss` parameter of the authorization response checked against the IdP
the flow was started with, so a response from another IdP (a mix-up) is refused.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from saas.control.identity import flows
from saas.control.identity.errors import SignInRefused
from saas.control.identity.models import IdentityProvider, SignInFlow
from saas.control.identity.sealing import SecretBox
from saas.control.identity.signin import outbound
from saas.control.identity.tokens import check_id_token, decode_signed
from saas.core.refusals import N_

HTTP_TIMEOUT = 5
JWKS_TTL_SECONDS = 300
# A token naming an unknown key refetches the JWKS at most this often: anyone can post one.
JWKS_MIN_REFRESH_SECONDS = 10
# One entry per upstream IdP (its jwks_uri): the national IdP and municipalities' own, at
# most one a tenant, so ~10,001 at 10,000 tenants. An entry (two RSA-2048 public keys) holds
# ~1.9 KB of resident memory, measured: all of them would be ~19 MB a process; the 1,024 most
# recently used are kept (~2 MB), and an evicted IdP's keys are fetched again at its next token.
JWKS_CACHE_ENTRIES = 1024
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


def fetch_discovery(metadata_url: str, *, expected_issuer: str | None = None) -> dict[str, Any]:
    """The IdP's discovery document; raises SignInRefused when it is unusable."""
    try:
        response = outbound.session().get(metadata_url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused(
            N_("the discovery document could not be read: %(error)s", error=str(error))
        ) from None
    if not isinstance(document, dict) or any(not isinstance(document.get(k), str) for k in REQUIRED_METADATA):
        raise SignInRefused(N_("the discovery document lacks issuer or endpoints"))
    if expected_issuer is not None and document["issuer"] != expected_issuer:
        raise SignInRefused(
            N_("the discovery document names issuer %(issuer)s", issuer=repr(document["issuer"]))
        )
    if "S256" not in document.get("code_challenge_methods_supported", ["S256"]):
        raise SignInRefused(N_("the IdP does not support PKCE with S256"))
    return document


def metadata(session: Session, provider: IdentityProvider) -> dict[str, Any]:
    """The provider's discovery document, fetched once and kept on its row."""
    if provider.discovery is None:
        provider.discovery = fetch_discovery(provider.metadata_url, expected_issuer=provider.issuer)
        session.flush()
    return provider.discovery


class _JwksCache:
    """Public keys per jwks_uri, refetched after a TTL or when a token does not verify (the IdP
    rotated its keys), though not more often than JWKS_MIN_REFRESH_SECONDS; at most
    `entries` IdPs' keys, the least recently used dropped first."""

    def __init__(self, entries: int = JWKS_CACHE_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[float, KeySet]] = OrderedDict()
        self.entries = entries

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, uri: object) -> bool:
        return uri in self._items

    def get(self, uri: str, *, refresh: bool = False) -> KeySet:
        with self._lock:
            hit = self._items.get(uri)
            fresh_for = JWKS_MIN_REFRESH_SECONDS if refresh else JWKS_TTL_SECONDS
            if hit is not None and time.monotonic() - hit[0] < fresh_for:
                self._items.move_to_end(uri)
                return hit[1]
        try:
            response = outbound.session().get(uri, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (requests.RequestException, ValueError) as error:
            raise SignInRefused(N_("the IdP's keys could not be read: %(error)s", error=str(error))) from None
        with self._lock:
            self._items[uri] = (time.monotonic(), keys)
            self._items.move_to_end(uri)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return keys


jwks_cache = _JwksCache()


def verify_signed_by(token: str, jwks_uri: str) -> dict[str, Any]:
    try:
        return decode_signed(token, jwks_cache.get(jwks_uri))
    except SignInRefused:
        # Perhaps a key the IdP added since we fetched: one refetch, then refuse.
        return decode_signed(token, jwks_cache.get(jwks_uri, refresh=True))


def callback_url(hub_url: str, provider: IdentityProvider) -> str:
    """The one redirect URI registered at this IdP: exact, per provider."""
    return f"{hub_url}/identity/callback/{provider.key}"


def _client(provider: IdentityProvider, box: SecretBox, redirect_uri: str) -> OAuth2Session:
    """Authlib's client; its requests (the token request) go through the outbound checks."""
    client = OAuth2Session(
        client_id=provider.client_id,
        client_secret=box.open(provider.client_secret_encrypted),
        scope=provider.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method's name, not a secret
    )
    outbound.mount(client)
    return client


def authorization_url(session: Session, provider: IdentityProvider, flow: SignInFlow, box: SecretBox) -> str:
    document = metadata(session, provider)
    client = _client(provider, box, flow.redirect_uri)
    url, _ = client.create_authorization_url(
        document["authorization_endpoint"],
        state=flow.state,
        nonce=flow.nonce,
        code_verifier=flow.code_verifier,
    )
    return url


@dataclass(frozen=True)
class UpstreamIdentity:
    issuer: str
    subject: str
    acr: str | None
    sid: str | None
    claims: dict[str, Any]
    id_token: str


def check_response_issuer(document: dict[str, Any], args: dict[str, Any]) -> None:
    """RFC 9207: an IdP that advertises the `iss` parameter must send its own issuer."""
    iss = args.get("iss")
    if iss is None and document.get("authorization_response_iss_parameter_supported"):
        raise SignInRefused(N_("the authorization response lacks the iss parameter"))
    if iss is not None and iss != document["issuer"]:
        raise SignInRefused(N_("the authorization response comes from %(iss)s (mix-up)", iss=repr(iss)))


def redeem_code(
    session: Session, provider: IdentityProvider, flow: SignInFlow, args: dict[str, Any], box: SecretBox
) -> UpstreamIdentity:
    """Exchange the code (with the flow's PKCE verifier) and check the ID token."""
    document = metadata(session, provider)
    if "error" in args:
        raise SignInRefused(N_("the IdP answered %(error)s", error=repr(str(args["error"])[:100])))
    check_response_issuer(document, args)
    code = args.get("code")
    if not isinstance(code, str) or not code or len(code) > 2000:
        raise SignInRefused(N_("the authorization response carries no code"))
    client = _client(provider, box, flow.redirect_uri)
    try:
        token = client.fetch_token(
            document["token_endpoint"], code=code, code_verifier=flow.code_verifier, timeout=HTTP_TIMEOUT
        )
    except (OAuthError, requests.RequestException, ValueError) as error:
        raise SignInRefused(N_("the IdP refused the code: %(error)s", error=str(error))) from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused(N_("the token response has no ID token"))
    claims = verify_signed_by(id_token, document["jwks_uri"])
    check_id_token(claims, issuer=provider.issuer, audience=provider.client_id, nonce=flow.nonce)
    acr = claims.get("acr")
    sid = claims.get("sid")
    return UpstreamIdentity(
        issuer=claims["iss"],
        subject=claims["sub"],
        acr=acr if isinstance(acr, str) else None,
        sid=sid if isinstance(sid, str) else None,
        claims=claims,
        id_token=id_token,
    )


def start(
    session: Session,
    provider: IdentityProvider,
    *,
    hub_url: str,
    browser_secret: str,
    return_to: str,
    box: SecretBox,
    link_account_id: int | None = None,
) -> str:
    """Record a flow and return the IdP's authorization URL to send the browser to."""
    flow = flows.start_flow(
        session,
        purpose="upstream",
        browser_secret=browser_secret,
        redirect_uri=callback_url(hub_url, provider),
        return_to=return_to,
        provider_id=provider.id,
        link_account_id=link_account_id,
    )
    return authorization_url(session, provider, flow, box)
