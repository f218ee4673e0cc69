"""Full sign-in through the hub against the real oidc-provider peers."""

from __future__ import annotations

from tests.identity.browser import Browser


def sign_in(browser: Browser, hub, slug: str, provider: str, login: str):
    portal = hub.portal(slug)
    page = browser.go(f"{portal}/auth/login?next=/auth/me")
    assert page.url.startswith(f"{hub.url}/identity/sign-in"), page.text[:300]
    return browser.go(browser.choose(page, provider), login=login)


def test_a_resident_signs_in_at_a_portal_through_the_national_idp(hub, federation, alpha):
    browser = Browser()
    me = sign_in(browser, hub, "alpha", "national", "resident-kim")
    assert me.status_code == 200, me.text[:500]
    assert me.json()["signed_in"] is True
    assert me.json()["roles"] == ["resident"]
    assert me.json()["acr"] == "urn:chamyeo:acr:verified"
