"""A full login round trip through the identity hub against a local oidc-provider peer.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python -m benchmarks.login_round_trip [--runs 40] [--warmup 3]

One run: a scratch database and a tenant provisioned through the real steps; the app served
by gunicorn (as `chamyeo up` does: threads, since the portal redeems its code at the hub over
HTTP) at http://localhost:PORT; the npm package oidc-provider (tests/identity/peer, `npm ci`
first) on 127.0.0.1 as the national IdP. Each round trip is a new browser (no cookies): the
portal's /auth/login → hub /oidc/authorize → sign-in page → national IdP (login and consent
forms) → hub callback (code + PKCE redeemed at the IdP, ID token checked, account, roles,
hub session) → hub /oidc/authorize → portal callback (code redeemed at the hub) → /auth/me.
Baseline in the same run: the peer's own login alone — a client of the peer doing the same
authorization request, login and consent forms and token exchange, without the hub.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import subprocess
import time
from dataclasses import replace
from html import unescape
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from benchmarks.common import ROOT, fmt, fresh_database, machine, percentiles, redis_url, settings_for
from tests.identity.browser import Browser
from tests.identity.servers import Peer, start_peer, start_web, stop_web

PEER = ROOT / "tests" / "identity" / "peer"
HUB_SECRET = "bench-hub-secret"
BASELINE_CALLBACK = "http://127.0.0.1:9/baseline-callback"  # never requested: the flow stops there
ACCOUNTS = {"resident-kim": {"claims": {"name": "김민지"}, "acr": "urn:chamyeo:acr:verified"}}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_peer(hub_url: str) -> Peer:
    clients = [
        {
            "client_id": "chamyeo-hub",
            "client_secret": HUB_SECRET,
            "redirect_uris": [f"{hub_url}/identity/callback/national"],
            "default_acr_values": ["urn:chamyeo:acr:verified"],
        },
        {"client_id": "baseline", "client_secret": "baseline-secret", "redirect_uris": [BASELINE_CALLBACK]},
    ]
    return start_peer(PEER, "national", clients, ACCOUNTS)


def _setup(settings, issuer: str) -> None:
    from migrations.runner import upgrade_control
    from provisioning.lifecycle import do_register_tenant
    from provisioning.runner import run_provisioning
    from saas.control.identity.federation.services import do_register_provider
    from saas.control.identity.sealing import SecretBox
    from saas.control.identity.signin import outbound
    from saas.core.db import Database
    from saas.core.tenancy.binding import session_without_tenant

    outbound.configure(settings)
    database = Database()
    database.configure(settings)
    upgrade_control(database.engine)
    with session_without_tenant(database.engine) as session:
        do_register_tenant(
            session,
            slug="bench",
            region_code="41110",
            template="neighbourhood",
            platform_domain=settings.platform_domain,
            actor="bench",
        )
    run_provisioning(database.engine, "bench")
    with session_without_tenant(database.engine) as session:
        do_register_provider(
            session,
            SecretBox(settings),
            key="national",
            display_name="national",
            issuer=issuer,
            client_id="chamyeo-hub",
            client_secret=HUB_SECRET,
            tenant_id=None,
            by_ministry=True,
            actor="bench",
        )
    database.dispose()


def hub_login(portal: str) -> float:
    """One full round trip with a fresh browser; returns seconds."""
    browser = Browser()
    started = time.perf_counter()
    page = browser.go(f"{portal}/auth/login?next=/auth/me")
    link = re.search(r'data-provider="national" href="([^"]+)"', page.text)
    assert link, page.text[:300]
    me = browser.go(urljoin(page.url, unescape(link.group(1))), login="resident-kim")
    elapsed = time.perf_counter() - started
    assert me.status_code == 200 and me.json()["signed_in"] is True, me.text[:300]
    return elapsed


def peer_login(issuer: str) -> float:
    """The peer's own login, no hub: authorize, login and consent forms, token exchange."""
    browser = Browser()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "client_id": "baseline",
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": BASELINE_CALLBACK,
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    started = time.perf_counter()
    end = browser.go(f"{issuer}/auth?{urlencode(query)}", login="resident-kim", stop_at=BASELINE_CALLBACK)
    code = parse_qs(urlsplit(end.url).query)["code"][0]
    token = requests.post(
        f"{issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": BASELINE_CALLBACK,
            "code_verifier": verifier,
        },
        auth=("baseline", "baseline-secret"),
        timeout=10,
    )
    elapsed = time.perf_counter() - started
    assert token.status_code == 200 and "id_token" in token.json(), token.text[:300]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=2)
    options = parser.parse_args()

    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER, check=True)
    port = _free_port()
    hub_url = f"http://localhost:{port}"  # the peer is on 127.0.0.1: their cookies stay apart
    peer = _start_peer(hub_url)
    issuer = peer.issuer
    database_url = fresh_database("chamyeo_bench_login")
    # The peer is on loopback: the hub may reach it here, as in the test suite.
    settings = replace(settings_for(database_url), outbound_loopback_for_tests=True)
    _setup(settings, issuer)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "SECRET_KEY": settings.secret_key,
        "CHAMYEO_ENV": "test",
        "IDENTITY_HUB_URL": hub_url,
        "PLATFORM_DOMAIN": "chamyeo.test",
    }
    web = start_web(env, port, workers=options.web_workers, app="benchmarks.loopback_wsgi:app")
    try:
        portal = f"http://bench.chamyeo.test:{port}"
        for _ in range(options.warmup):
            hub_login(portal)
            peer_login(issuer)
        hub_ms, peer_ms = [], []
        # Interleaved, so a load spike from elsewhere on the machine touches both series alike.
        for _ in range(options.runs):
            hub_ms.append(hub_login(portal) * 1000)
            peer_ms.append(peer_login(issuer) * 1000)
        print(f"machine: {machine()}; load average: {os.getloadavg()}")
        print(f"login round trip through the hub: {fmt(percentiles(hub_ms))}")
        print(f"baseline, the peer's own login:   {fmt(percentiles(peer_ms))}")
        ratio = percentiles(hub_ms)["p50"] / percentiles(peer_ms)["p50"]
        print(f"hub / peer (median): {ratio:.1f}x; goal: round trip well under 1000 ms")
    finally:
        stop_web(web)
        peer.stop()


if __name__ == "__main__":
    main()
