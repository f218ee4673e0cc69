"""Signing in through the development IdP as a newcomer would: at a portal, choose a
development realm on the hub's page, then a demo person on the IdP's page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

from tests.identity.browser import Browser


def sign_in_as(base: str, slug: str, realm: str, login: str, browser: Browser | None = None):
    """Sign in at portal `slug` as demo person `login` of `realm`; returns (browser, /auth/me)."""
    browser = browser or Browser()
    page = browser.go(f"{base}/t/{slug}/auth/login?next=/auth/me")
    assert page.url.startswith(f"{base}/identity/sign-in"), page.text[:300]
    assert "(개발용)" in page.text  # the hub's chooser, in Korean first
    picker = browser.go(browser.choose(page, f"dev-{realm}"))
    assert "DEVELOPMENT IDENTITY PROVIDER" in picker.text, picker.text[:300]
    link = re.search(rf'data-login="{re.escape(login)}" href="([^"]+)"', picker.text)
    assert link, f"{login} is not offered: {picker.text[:500]}"
    me = browser.go(urljoin(picker.url, unescape(link.group(1))))
    assert me.status_code == 200, me.text[:500]
    return browser, me.json()
