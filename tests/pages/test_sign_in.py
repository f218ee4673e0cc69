"""A resident signs in through the hub (the development IdP here) and signs out again."""

from __future__ import annotations

import re

from tests.pages.conftest import sign_in_through_the_development_idp


def test_a_resident_signs_in_and_out_on_a_phone(page, live_server, axe, screenshot):
    page.goto(live_server.portal_url("/signin?next=/"))
    assert axe(page) == []
    screenshot(page, "signin-ko-phone")
    # The provider is chosen here, on the portal's page: the hub does not ask again (the
    # helper below goes from this page straight to the development IdP's people).
    sign_in_through_the_development_idp(page, live_server, "national", "resident")
    sign_out = page.get_by_role("button", name="로그아웃")
    assert sign_out.count() == 1
    assert axe(page) == []
    sign_out.click()
    page.wait_for_url(re.compile(re.escape(live_server.portal_url("/")) + r"$"))
    assert page.get_by_role("link", name="로그인").count() == 1
    assert page.get_by_role("button", name="로그아웃").count() == 0


def test_the_hubs_own_chooser_reads_in_both_languages_on_a_phone(page, live_server, axe, screenshot):
    # A sign-in that names no provider (an old link, another client) lands on the hub's chooser.
    page.goto(live_server.portal_url("/auth/login?next=/"))
    assert "/identity/sign-in" in page.url
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("heading", name="로그인").count() == 1
    assert page.locator("a[data-provider]").count() >= 1
    assert axe(page) == []
    screenshot(page, "hub-signin-ko-phone")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Sign in").count() == 1
    assert axe(page) == []
