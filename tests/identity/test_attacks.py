"""Every attack of the federation, each refused with no session created."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from saas.core import clock
from tests.identity.browser import Browser
from tests.identity.conftest import HUB_CLIENT_ID, HUB_CLIENT_SECRET
from tests.identity.test_sign_in import sign_in


@pytest.fixture
def count_sessions(engine):
    from saas.control.identity.models import HubSession, PortalSession

    def count() -> tuple[int, int]:
        with engine.connect() as connection:
            hubs = connection.scalar(select(func.count()).select_from(HubSession))
            portals = connection.scalar(select(func.count()).select_from(PortalSession))
        return hubs, portals

    return count


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return parts._replace(query=urlencode({**_query(url), **changes})).geturl()


def _to_hub_callback(
    browser: Browser, hub, slug: str = "alpha", provider: str = "national", login="resident-kim"
):
    """Run a sign-in up to the IdP's redirect back to the hub; return that URL, unvisited."""
    page = browser.go(f"{hub.portal(slug)}/auth/login?next=/auth/me")
    return browser.go(
        browser.choose(page, provider), login=login, stop_at=f"{hub.url}/identity/callback/"
    ).url


def test_a_tampered_state_signs_no_one_in(hub, federation, count_sessions):
    browser = Browser()
    callback = _to_hub_callback(browser, hub)
    before = count_sessions()
    response = browser.go(_with(callback, state=secrets.token_urlsafe(32)))
    assert response.status_code == 400 and "state" in response.json()["message"]
    assert count_sessions() == before


def test_a_state_carried_to_another_browser_signs_no_one_in(hub, federation, count_sessions):
    callback = _to_hub_callback(Browser(), hub)
    before = count_sessions()
    response = Browser().go(callback)
    assert response.status_code == 400 and "another browser" in response.json()["message"]
    assert count_sessions() == before


def test_a_wrong_nonce_signs_no_one_in(hub, federation, engine, count_sessions):
    from saas.control.identity.models import SignInFlow

    browser = Browser()
    callback = _to_hub_callback(browser, hub)
    with engine.begin() as connection:
        connection.execute(
            SignInFlow.__table__.update()
            .where(SignInFlow.state == _query(callback)["state"])
            .values(nonce="not-the-nonce-sent")
        )
    before = count_sessions()
    response = browser.go(callback)
    assert response.status_code == 400 and "nonce" in response.json()["message"]
    assert count_sessions() == before


def test_a_response_naming_another_issuer_is_a_mix_up(hub, federation, count_sessions):
    browser = Browser()
    callback = _to_hub_callback(browser, hub)
    before = count_sessions()
    response = browser.go(_with(callback, iss=federation["alpha-city"].issuer))
    assert response.status_code == 400 and "mix-up" in response.json()["message"]
    assert count_sessions() == before


def test_a_replayed_code_signs_no_one_in(hub, federation, count_sessions):
    browser = Browser()
    callback = _to_hub_callback(browser, hub)
    assert browser.go(callback).status_code == 200  # the genuine sign-in
    before = count_sessions()
    # The same response again, and its code inside a fresh flow of the same browser.
    assert browser.go(callback).status_code == 400
    fresh = _to_hub_callback(Browser(), hub)
    other = Browser()
    fresh = _to_hub_callback(other, hub)
    response = other.go(_with(fresh, code=_query(callback)["code"]))
    assert response.status_code == 400 and "refused the code" in response.json()["message"]
    assert count_sessions()[1] == before[1]


class _SwappedTokenEndpoint(BaseHTTPRequestHandler):
    """A token endpoint on a hostile path: it answers with an ID token of its choosing."""

    answer: dict = {}

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _real_id_token(peer, client_id, secret, redirect_uri, nonce, login="resident-kim") -> str:
    """A genuine ID token from `peer` for `client_id`, carrying `nonce`."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": redirect_uri,
        "nonce": nonce,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    done = Browser().go(f"{peer.issuer}/auth?{urlencode(params)}", login=login, stop_at=redirect_uri)
    token = requests.post(
        f"{peer.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": _query(done.url)["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
        timeout=5,
    ).json()
    return token["id_token"]


@pytest.mark.parametrize("case", ["wrong audience", "another issuer"])
def test_an_id_token_for_another_client_or_from_another_issuer_is_refused(
    case, hub, federation, engine, count_sessions
):
    from saas.control.identity.models import IdentityProvider

    browser = Browser()
    page = browser.go(f"{hub.portal('alpha')}/auth/login?next=/auth/me")
    national = federation["national"]
    authorize = browser.go(browser.choose(page, "national"), stop_at=f"{national.issuer}/auth")
    nonce = _query(authorize.url)["nonce"]
    callback_uri = f"{hub.url}/identity/callback/national"
    if case == "wrong audience":
        forged = _real_id_token(national, "other-app", "other-secret", callback_uri, nonce)
    else:
        forged = _real_id_token(
            federation["alpha-city"],
            HUB_CLIENT_ID,
            HUB_CLIENT_SECRET,
            f"{hub.url}/identity/callback/alpha-city",
            nonce,
            login="staff-lee",
        )
    _SwappedTokenEndpoint.answer = {"access_token": "x", "token_type": "Bearer", "id_token": forged}
    server = HTTPServer(("127.0.0.1", 0), _SwappedTokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with engine.begin() as connection:
        document = connection.scalar(
            select(IdentityProvider.discovery).where(IdentityProvider.key == "national")
        )
        swapped = {**document, "token_endpoint": f"http://127.0.0.1:{server.server_port}/token"}
        connection.execute(
            IdentityProvider.__table__.update()
            .where(IdentityProvider.key == "national")
            .values(discovery=swapped)
        )
    try:
        callback = browser.go(authorize.url, login="resident-kim", stop_at=f"{hub.url}/identity/callback/")
        before = count_sessions()
        response = browser.go(callback.url)
    finally:
        with engine.begin() as connection:
            connection.execute(
                IdentityProvider.__table__.update()
                .where(IdentityProvider.key == "national")
                .values(discovery=document)
            )
        server.shutdown()
        server.server_close()
    assert response.status_code == 400, response.text[:300]
    reason = response.json()["message"]
    assert (
        ("audience" in reason)
        if case == "wrong audience"
        else ("signature" in reason or "comes from" in reason)
    )
    assert count_sessions() == before


def _portal_authorize(hub, slug="alpha", **changes) -> str:
    params = {
        "client_id": f"portal.{slug}",
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": f"{hub.portal(slug)}/auth/callback",
        "state": "st",
        "nonce": "n",
        "code_challenge": base64.urlsafe_b64encode(hashlib.sha256(b"v" * 50).digest()).rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return f"{hub.url}/oidc/authorize?{urlencode({k: v for k, v in params.items() if v is not None})}"


def test_the_hub_refuses_a_portal_request_without_pkce(hub, federation):
    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    response = browser.http.get(
        _portal_authorize(hub, code_challenge=None, code_challenge_method=None), allow_redirects=False
    )
    assert response.status_code in (302, 303)
    assert "error=invalid_request" in response.headers["Location"]
    assert "code=" not in response.headers["Location"]
    plain = browser.http.get(_portal_authorize(hub, code_challenge_method="plain"), allow_redirects=False)
    assert "error=invalid_request" in plain.headers["Location"]


def test_the_hub_refuses_a_wrong_code_verifier_and_the_code_is_spent(
    hub, federation, settings, count_sessions
):
    from saas.control.identity.provider.clients import client_secret_for

    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    location = browser.http.get(_portal_authorize(hub), allow_redirects=False).headers["Location"]
    code = _query(location)["code"]
    before = count_sessions()
    secret = client_secret_for(settings, "portal.alpha")

    def redeem(verifier: str) -> requests.Response:
        return requests.post(
            f"{hub.url}/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{hub.portal('alpha')}/auth/callback",
                "code_verifier": verifier,
            },
            auth=("portal.alpha", secret),
            timeout=5,
        )

    wrong = redeem("w" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert redeem("v" * 50).status_code == 400  # single use: a failed attempt spends it too
    assert count_sessions() == before


def test_the_hub_refuses_an_unregistered_redirect_uri_without_redirecting(hub, federation):
    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    for uri in (
        "http://evil.example/auth/callback",
        f"{hub.portal('beta')}/auth/callback",
        f"{hub.portal('alpha')}/auth/callback/../x",
    ):
        response = browser.http.get(_portal_authorize(hub, redirect_uri=uri), allow_redirects=False)
        assert response.status_code == 400 and "Location" not in response.headers


def test_the_hub_refuses_an_unregistered_post_logout_uri(hub, federation, engine):
    from saas.control.identity.models import PortalSession

    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    with engine.connect() as connection:
        hint = connection.scalar(select(PortalSession.id_token).order_by(PortalSession.id.desc()).limit(1))
    response = browser.http.get(
        f"{hub.url}/oidc/logout?{urlencode({'id_token_hint': hint, 'post_logout_redirect_uri': 'http://evil.example/'})}",
        allow_redirects=False,
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert browser.go(f"{hub.portal('alpha')}/auth/me").json()["signed_in"] is True


def test_a_role_from_alphas_idp_grants_nothing_at_beta(hub, federation, alpha, beta, count_sessions):
    browser = Browser()
    me = sign_in(browser, hub, "alpha", "alpha-city", "staff-lee")
    # "ministry-admin" in a municipality's claims is not the ministry's say: ignored.
    assert me.json()["roles"] == ["resident", "staff"]
    at_beta = browser.go(f"{hub.portal('beta')}/auth/login?next=/auth/me")
    assert at_beta.json()["roles"] == ["resident"]
    hub_me = browser.http.get(f"{hub.url}/api/v1/tenants", timeout=5)
    assert hub_me.status_code == 403
    # Beta does not offer alpha's IdP at all.
    other = Browser()
    page = other.go(f"{hub.portal('beta')}/auth/login?next=/auth/me")
    assert 'data-provider="alpha-city"' not in page.text
    before = count_sessions()
    refused = other.go(other.choose(page, "national").replace("/start/national", "/start/alpha-city"))
    assert refused.status_code == 404
    assert count_sessions() == before


def _sign(claims: dict, key) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _logout_claims(hub, sid: str, **changes) -> dict:
    now = int(clock.timestamp())
    claims = {
        "iss": hub.url,
        "aud": "portal.alpha",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(8),
        "sid": sid,
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    }
    claims.update(changes)
    return claims


def test_portal_back_channel_refuses_bad_signature_nonce_and_replayed_jti(hub, federation, engine, settings):
    from saas.control.identity.models import PortalSession
    from saas.control.identity.provider.keys import signing_key
    from saas.control.identity.sealing import SecretBox
    from saas.core.tenancy.binding import session_without_tenant

    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    with engine.connect() as connection:
        sid = connection.scalar(select(PortalSession.hub_sid).order_by(PortalSession.id.desc()).limit(1))
    with session_without_tenant(engine) as session:
        hub_key = signing_key(session, SecretBox(settings))
    stranger = RSAKey.generate_key(2048, parameters={"kid": hub_key.kid}, private=True)
    endpoint = f"{hub.url}/t/alpha/auth/backchannel-logout"

    def post(token: str) -> int:
        return requests.post(endpoint, data={"logout_token": token}, timeout=5).status_code

    assert post(_sign(_logout_claims(hub, sid), stranger)) == 400
    assert post(_sign(_logout_claims(hub, sid, nonce="n"), hub_key)) == 400
    assert post(_sign(_logout_claims(hub, "other-sid", aud="portal.beta"), hub_key)) == 400
    assert browser.go(f"{hub.portal('alpha')}/auth/me").json()["signed_in"] is True
    genuine = _sign(_logout_claims(hub, sid), hub_key)
    assert post(genuine) == 200
    assert post(genuine) == 400  # the same jti again
    assert browser.go(f"{hub.portal('alpha')}/auth/me").json()["signed_in"] is False


def test_hub_back_channel_refuses_a_logout_token_not_signed_by_the_idp(hub, federation):
    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    stranger = RSAKey.generate_key(2048, parameters={"kid": "x"}, private=True)
    claims = _logout_claims(hub, "any", iss=federation["national"].issuer, aud=HUB_CLIENT_ID)
    response = requests.post(
        f"{hub.url}/identity/backchannel-logout/national",
        data={"logout_token": _sign(claims, stranger)},
        timeout=5,
    )
    assert response.status_code == 400
    assert browser.go(f"{hub.portal('alpha')}/auth/me").json()["signed_in"] is True
