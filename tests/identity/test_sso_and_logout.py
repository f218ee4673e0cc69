"""SSO across two portals and logout in every direction, against the real peers."""

from __future__ import annotations

import re

from tests.identity.browser import Browser
from tests.identity.test_sign_in import sign_in


def _logout_via_idp(browser: Browser, url: str):
    """Follow a logout that passes the IdP's confirmation form."""
    return browser.go(url, login="")


def test_signing_in_at_alpha_then_visiting_beta_needs_no_second_prompt(hub, federation, alpha, beta):
    browser = Browser()
    assert sign_in(browser, hub, "alpha", "national", "resident-kim").json()["signed_in"]
    seen = len(browser.visited)
    me_at_beta = browser.go(f"{hub.portal('beta')}/auth/login?next=/auth/me")
    assert me_at_beta.json()["signed_in"] is True
    assert me_at_beta.json()["tenant"] == "beta"
    hops = browser.visited[seen:]
    assert not any("/identity/sign-in" in url or "/interaction/" in url for url in hops), hops


def test_rp_initiated_logout_at_one_portal_ends_the_hub_and_every_portal(hub, federation, alpha, beta):
    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    browser.go(f"{hub.portal('beta')}/auth/login?next=/auth/me")
    done = _logout_via_idp(browser, f"{hub.portal('alpha')}/auth/logout")
    assert done.json() == {"signed_out": True, "portal": "alpha"}, done.text[:300]
    # Beta heard of it over the back channel; the hub session is gone too.
    assert browser.go(f"{hub.portal('beta')}/auth/me").json()["signed_in"] is False
    assert browser.go(f"{hub.portal('alpha')}/auth/me").json()["signed_in"] is False
    again = browser.go(f"{hub.portal('beta')}/auth/login?next=/auth/me")
    assert again.url.startswith(f"{hub.url}/identity/sign-in")
    # And the national IdP's session ended as well: signing in asks for the login again.
    upstream = browser.go(browser.choose(again, "national"))
    assert "/interaction/" in upstream.url and 'name="login"' in upstream.text


def test_logout_at_the_upstream_idp_reaches_every_portal_over_the_back_channel(hub, federation, alpha, beta):
    browser = Browser()
    sign_in(browser, hub, "alpha", "national", "resident-kim")
    browser.go(f"{hub.portal('beta')}/auth/login?next=/auth/me")
    national = federation["national"].issuer
    # The person signs out at the national IdP itself (its own logout page, no hint).
    page = browser.go(f"{national}/session/end")
    assert re.search(r'name="xsrf"', page.text), page.text[:300]
    browser.go(f"{national}/session/end", login="")
    assert browser.go(f"{hub.portal('alpha')}/auth/me").json()["signed_in"] is False
    assert browser.go(f"{hub.portal('beta')}/auth/me").json()["signed_in"] is False
    again = browser.go(f"{hub.portal('alpha')}/auth/login?next=/auth/me")
    assert again.url.startswith(f"{hub.url}/identity/sign-in")
