"""A resident opens the portal on a phone and on a desktop, in Korean and in English."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_home_page_is_accessible_on_a_phone_and_a_desktop(
    page, desktop_page, live_server, axe, screenshot, lang
):
    for tab, size in ((page, "phone"), (desktop_page, "desktop")):
        tab.goto(live_server.portal_url(f"/?lang={lang}"))
        assert tab.locator("html").get_attribute("lang") == lang
        assert tab.url == live_server.portal_url("/")  # the switch answers the page without ?lang
        assert axe(tab) == [], f"{lang} {size}"
        if lang == "ko":
            screenshot(tab, f"home-ko-{size}")
        # The dong budgets are folded under the citywide ones; opened, the list reads as well.
        # (pagetown is citywide: a budget per dong, more than fit as buttons.)
        chooser = tab.locator("details.dong-chooser")
        assert chooser.count() == 1 and chooser.get_attribute("open") is None
        chooser.locator("summary").click()
        assert chooser.get_attribute("open") is not None
        assert chooser.locator("a[href*='/vote/']").count() > 3
        assert axe(tab) == [], f"{lang} {size}, the dongs open"
        if lang == "ko" and size == "phone":
            screenshot(tab, "home-ko-phone-dongs")


def test_a_resident_switches_the_language_and_stays_on_the_page(page, live_server):
    page.goto(live_server.portal_url("/"))
    assert page.locator("html").get_attribute("lang") == "ko"
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url == live_server.portal_url("/")
    assert page.get_by_text("Skip to the content").count() == 1
    page.get_by_role("link", name="한국어").click()
    assert page.locator("html").get_attribute("lang") == "ko"


def test_nothing_scrolls_sideways_at_360_px(browser, live_server, guards):
    from tests.pages.conftest import _context

    context = _context(browser, live_server, {"width": 360, "height": 740}, guards)
    try:
        tab = context.new_page()
        tab.goto(live_server.portal_url("/"))
        width = tab.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"the page is {width} px wide at 360 px"
        # Tap targets: the nav's links and the language switch are at least 44 px high.
        for link in tab.locator(".portal-nav a, .language a").all():
            assert link.bounding_box()["height"] >= 44, link.inner_text()
    finally:
        context.close()


def test_the_page_uses_the_platforms_own_font_and_styles(page, live_server):
    page.goto(live_server.portal_url("/"))
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.fonts.check('16px Pretendard')")
    family = page.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert re.match(r'^"?Pretendard', family)


def test_a_suspended_portal_says_it_is_paused(browser, live_server, make_tenant, engine, guards, axe):
    from provisioning.lifecycle import do_suspend_tenant
    from saas.core.tenancy.binding import session_without_tenant
    from tests.pages.conftest import PHONE, _context

    tenant = make_tenant()
    with session_without_tenant(engine) as session:
        do_suspend_tenant(session, tenant.slug, actor="test", reason="browser test")
    context = _context(browser, live_server, PHONE, guards)
    try:
        tab = context.new_page()
        for lang, sentence in (("ko", "이 포털은 잠시 운영을 멈추었습니다"), ("en", "This portal is paused")):
            response = tab.goto(f"{live_server.url}/t/{tenant.slug}/?lang={lang}")
            assert response.status == 503
            assert tab.get_by_role("heading", level=1).inner_text() == sentence
            assert axe(tab) == [], lang
    finally:
        context.close()


def test_the_masthead_wears_the_municipalitys_colour(page, live_server):
    # The citywide template's primary colour (#0B5A8C), through /t/<slug>/brand.css.
    page.goto(live_server.portal_url("/"))
    assert page.evaluate("() => getComputedStyle(document.querySelector('.masthead')).backgroundColor") == (
        "rgb(11, 90, 140)"
    )
