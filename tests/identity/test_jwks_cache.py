"""The hub's cache of upstream IdPs' keys: a rotated key is fetched when a token names it,
and tokens that do not verify cannot make the hub refetch the JWKS on every request."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from saas.control.identity.errors import SignInRefused
from saas.control.identity.signin import upstream

JWKS_URI = "https://idp.example.kr/jwks"


class _Response:
    def __init__(self, document: dict) -> None:
        self._document = document

    def raise_for_status(self) -> None:
        pass

    def json(self) -> dict:
        return self._document


@pytest.fixture
def idp(monkeypatch):
    """An IdP whose published keys the test changes; counts the hub's JWKS fetches."""
    state = {"keys": [RSAKey.generate_key(2048, parameters={"kid": "old"}, private=True)], "fetches": 0}

    def get(uri, timeout):
        assert uri == JWKS_URI
        state["fetches"] += 1
        return _Response(KeySet(state["keys"]).as_dict(private=False))

    monkeypatch.setattr(upstream.outbound, "session", lambda: SimpleNamespace(get=get))
    monkeypatch.setattr(upstream, "jwks_cache", upstream._JwksCache())
    return state


def _sign(key: RSAKey) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, {"sub": "kim"}, key)


def test_a_key_the_idp_added_since_the_last_fetch_verifies(idp, monkeypatch):
    assert upstream.verify_signed_by(_sign(idp["keys"][0]), JWKS_URI)["sub"] == "kim"
    new = RSAKey.generate_key(2048, parameters={"kid": "new"}, private=True)
    idp["keys"].append(new)
    # Past the minimum interval between refetches, not the TTL: the new key is fetched.
    monkeypatch.setattr(upstream, "JWKS_MIN_REFRESH_SECONDS", 0)
    assert upstream.verify_signed_by(_sign(new), JWKS_URI)["sub"] == "kim"
    assert idp["fetches"] == 2


def test_tokens_that_do_not_verify_refetch_the_jwks_at_most_once_per_interval(idp):
    upstream.verify_signed_by(_sign(idp["keys"][0]), JWKS_URI)
    stranger = RSAKey.generate_key(2048, parameters={"kid": "old"}, private=True)
    for _ in range(5):
        with pytest.raises(SignInRefused):
            upstream.verify_signed_by(_sign(stranger), JWKS_URI)
    assert idp["fetches"] == 1
