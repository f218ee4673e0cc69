"""A resident signs in through the hub (the development IdP here) and signs out again."""

from __future__ import annotations

import re

from tests.pages.conftest import sign_in_through_the_development_idp


def test_a_resident_signs_in_and_out_on_a_phone(page, live_server, axe):
    page.goto(live_server.portal_url("/signin?next=/"))
    assert axe(page) == []
    sign_in_through_the_development_idp(page, live_server, "national", "resident")
    sign_out = page.get_by_role("button", name="로그아웃")
    assert sign_out.count() == 1
    assert axe(page) == []
    sign_out.click()
    page.wait_for_url(re.compile(re.escape(live_server.portal_url("/")) + r"$"))
    assert page.get_by_role("link", name="로그인").count() == 1
    assert page.get_by_role("button", name="로그아웃").count() == 0
