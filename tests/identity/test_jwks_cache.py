"""The hub's cache of upstream IdPs' keys: a rotated key is fetched when a token names it,
tokens that do not verify cannot make the hub refetch the JWKS on every request, and the
cache holds a bounded number of IdPs' keys."""

from __future__ import annotations

import json
import threading
from collections import Counter
from types import SimpleNamespace

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from saas.control.identity.errors import SignInRefused
from saas.control.identity.signin import upstream
from saas.control.identity.tokens import decode_signed

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


@pytest.fixture
def jwks_server(settings):
    """A real HTTP server publishing one JWKS per path (/idp-0, /idp-1, ...); counts fetches
    per path. `settings` lets the hub's outbound requests reach loopback, as in the tests."""
    key = RSAKey.generate_key(2048, parameters={"kid": "k"}, private=True)
    document = json.dumps(KeySet([key]).as_dict(private=False)).encode()
    fetches: Counter[str] = Counter()

    def app(environ, start_response):
        fetches[environ["PATH_INFO"]] += 1
        start_response("200 OK", [("Content-Type", "application/json")])
        return [document]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", key=key, fetches=fetches)
    server.shutdown()


def test_the_cache_keeps_the_most_recently_used_idps_keys_up_to_its_bound(jwks_server):
    cache = upstream._JwksCache(entries=3)
    uris = [f"{jwks_server.url}/idp-{i}" for i in range(4)]
    for uri in uris[:3]:
        cache.get(uri)
    cache.get(uris[0])  # used again: the least recently used is now idp-1
    cache.get(uris[3])
    assert len(cache) == 3
    assert uris[1] not in cache and all(uri in cache for uri in (uris[0], uris[2], uris[3]))
    cache.get(uris[0])
    cache.get(uris[1])  # evicted: fetched again
    assert jwks_server.fetches == Counter({"/idp-0": 1, "/idp-1": 2, "/idp-2": 1, "/idp-3": 1})
    assert decode_signed(_sign(jwks_server.key), cache.get(uris[1]))["sub"] == "kim"


def test_the_hubs_jwks_cache_is_bounded() -> None:
    assert upstream.jwks_cache.entries == upstream.JWKS_CACHE_ENTRIES == 1024
