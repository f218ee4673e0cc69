"""A resident browses, proposes, supports and comments in a real browser; the proposal pages
and the planning page pass axe-core in Korean and English on a phone and a desktop, fit in
360 px and keep their filters and buttons at least 44 px high."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.pages.conftest import _context, sign_in_through_the_development_idp
from tests.web.conftest import CYCLE, Cycle

SEEDED = [
    ("어린이 공원 그늘막 설치", "여름 한낮에 놀이터가 너무 뜨겁습니다.\n그늘막을 세워 주세요."),
    ("버스 정류장 온열 의자", "겨울 아침에 정류장에서 기다리는 어르신을 위해 온열 의자를 놓아 주세요."),
    ("하천 산책로 가로등 보강", "밤에 산책로가 어두워 다니기 무섭습니다. 가로등을 더 세워 주세요."),
]


def _portal(app, make_tenant, phase: str, *, seed: bool) -> tuple[str, int]:
    """A portal of its own with a cycle in `phase` (and a few proposals made in the intake)."""
    api = app.test_client()
    tenant = make_tenant(template="citywide")
    made = api.post(f"{tenant.api}/cycles", json=CYCLE, headers=tenant.auth("staff"))
    assert made.status_code == 201, made.get_json()
    cycle = Cycle(api, tenant, made.get_json())
    cycle.advance_to(phase)
    if seed:
        category = api.get(f"{tenant.api}/categories").get_json()[0]["key"]
        for title, description in SEEDED:
            body = {"title": title, "description": description, "category_key": category,
                    "estimated_cost": 30_000_000, "channel": "counter", "proposer_name": "주민"}
            sent = api.post(f"{tenant.api}/cycles/{cycle.data['id']}/proposals", json=body,
                            headers=tenant.auth("staff"))
            assert sent.status_code == 201, sent.get_json()
    return tenant.slug, cycle.data["id"]


@pytest.fixture(scope="module")
def intake(live_server, app, make_tenant):
    """The live server, pointed at a portal whose cycle takes proposals."""
    slug, _ = _portal(app, make_tenant, "proposal_intake", seed=True)
    return replace(live_server, portal=slug)


@pytest.fixture(scope="module")
def planning(live_server, app, make_tenant):
    """The live server, pointed at a portal whose cycle asks for spending priorities."""
    slug, _ = _portal(app, make_tenant, "planning_input", seed=False)
    return replace(live_server, portal=slug)


def _sign_in(tab, server) -> None:
    sign_in_through_the_development_idp(tab, server, "national", "resident")


def _sign_in_again(tab, server) -> None:
    """Signed in at the hub already (on another portal): choosing the provider on this
    portal's sign-in page comes straight back, without the development IdP's person list."""
    tab.goto(server.portal_url("/"))
    tab.get_by_role("link", name=re.compile("로그인|Sign in")).first.click()
    tab.locator('a[data-provider="dev-national"]').click()
    tab.wait_for_url(re.compile(re.escape(server.portal_url("/")) + r"$"))
    assert tab.get_by_role("button", name=re.compile("로그아웃|Sign out")).count() == 1


def test_a_resident_proposes_supports_comments_and_finds_it(page, intake, axe, screenshot):
    _sign_in(page, intake)
    page.goto(intake.portal_url("/proposals/"))
    page.get_by_role("link", name="사업 제안하기").click()
    assert page.get_by_role("heading", level=1).inner_text() == "사업 제안하기"

    page.get_by_label("제목", exact=False).first.fill("도서관 앞 자전거 보관대")
    description = "도서관 앞에 자전거를 세울 곳이 없습니다.\n보관대 스무 대를 놓아 주세요."
    page.get_by_label("제안 내용").fill(description)
    page.get_by_label("분야").select_option(index=1)
    page.get_by_label("예상 비용", exact=False).fill("12,000,000")
    page.get_by_role("button", name="제안 제출").click()
    page.wait_for_url(re.compile(r"/proposals/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "도서관 앞 자전거 보관대"
    assert page.get_by_role("status").filter(has_text="제안이 접수되었습니다").count() == 1
    assert page.get_by_text("12,000,000원").count() == 1

    page.get_by_role("button", name="이 제안에 공감하기").click()
    page.wait_for_load_state()
    assert page.get_by_text("1명이 공감합니다").count() == 1
    assert page.get_by_text("이 제안에 공감하셨습니다").count() == 1
    assert page.get_by_role("button", name="이 제안에 공감하기").count() == 0  # once

    page.get_by_role("textbox", name=re.compile("^댓글")).fill("아이들과 자주 가는 곳이라 꼭 필요합니다.")
    page.get_by_role("button", name="댓글 올리기").click()
    page.wait_for_load_state()
    assert page.locator(".comment").filter(has_text="아이들과 자주 가는 곳이라").count() == 1
    assert axe(page) == []
    screenshot(page, "proposal-ko-phone")

    # The search finds it, and says how many it found where a screen reader announces it.
    page.goto(intake.portal_url("/proposals/"))
    page.get_by_label("제목과 내용 검색").fill("자전거")
    page.get_by_role("button", name="제안 보기").click()
    page.wait_for_load_state()
    status = page.locator(".result-count")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    assert status.inner_text() == "제안 1건"
    assert page.locator(".proposal-card").count() == 1
    assert page.get_by_role("link", name="도서관 앞 자전거 보관대").count() == 1

    page.get_by_label("제목과 내용 검색").fill("주세요")
    page.get_by_role("button", name="제안 보기").click()
    page.wait_for_load_state()
    assert page.locator(".result-count").inner_text() == "제안 4건"
    page.get_by_label("정렬").select_option("supports")
    page.get_by_role("button", name="제안 보기").click()
    page.wait_for_load_state()
    first = page.locator(".proposal-card .card-title").first.inner_text()
    assert first == "도서관 앞 자전거 보관대"  # the one with a support comes first


def test_the_search_announces_its_count_in_english(page, intake):
    page.goto(intake.portal_url("/proposals/?lang=en"))
    page.get_by_label("Search the titles and descriptions").fill("가로등")
    page.get_by_role("button", name="Show proposals").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("status").inner_text() == "1 proposal found"
    page.get_by_label("Search the titles and descriptions").fill("우주선")
    page.get_by_role("button", name="Show proposals").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "0 proposals found"


def _first_proposal(tab, server) -> str:
    tab.goto(server.portal_url("/proposals/"))
    return tab.locator(".proposal-card .card-title a").first.get_attribute("href")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_proposal_pages_are_accessible_on_a_phone_and_a_desktop(
    page, desktop_page, intake, planning, axe, screenshot, lang
):
    for tab, size in ((page, "phone"), (desktop_page, "desktop")):
        tab.goto(intake.portal_url(f"/proposals/?lang={lang}"))
        assert tab.locator("html").get_attribute("lang") == lang
        assert axe(tab) == [], f"list {lang} {size}"
        if lang == "ko" and size == "phone":
            screenshot(tab, "proposals-ko-phone")
        tab.goto(intake.portal_url("/proposals/?q=" + "x" * 101))
        assert tab.locator(".error-summary").count() == 1
        assert axe(tab) == [], f"list with an error {lang} {size}"
        detail = _first_proposal(tab, intake)
        tab.goto(intake.url + detail)
        assert axe(tab) == [], f"detail signed out {lang} {size}"

        _sign_in(tab, intake)
        tab.goto(intake.url + detail)
        assert tab.locator("html").get_attribute("lang") == lang  # the cookie outlives sign-in
        assert axe(tab) == [], f"detail signed in {lang} {size}"
        tab.goto(intake.portal_url("/proposals/new"))
        assert axe(tab) == [], f"new {lang} {size}"
        tab.locator("form[action$='/proposals/new'] button[type=submit]").click()
        tab.wait_for_load_state()
        assert tab.locator(".error-summary").count() == 1
        border = "e => getComputedStyle(e).borderTopColor"
        marked = {tab.locator(f"#field-{name}").evaluate(border) for name in ("title", "description")}
        unmarked = tab.locator("#field-location_text").evaluate(border)
        assert len(marked) == 1 and unmarked not in marked  # every field at fault, alike
        assert axe(tab) == [], f"new with errors {lang} {size}"

        _sign_in_again(tab, planning)
        tab.goto(planning.portal_url("/planning"))
        assert tab.locator("fieldset.rating").count() > 0
        assert axe(tab) == [], f"planning {lang} {size}"


def test_nothing_scrolls_sideways_at_360_px_and_the_filters_are_big_enough(
    browser, intake, planning, guards
):
    context = _context(browser, intake, {"width": 360, "height": 740}, guards)
    try:
        tab = context.new_page()
        _sign_in(tab, intake)
        detail = _first_proposal(tab, intake)
        for server, path in [(intake, "/proposals/"), (intake, "/proposals/new"), (planning, "/planning")]:
            if server is planning:
                _sign_in_again(tab, planning)
            tab.goto(server.portal_url(path))
            width = tab.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 360, f"{path} is {width} px wide at 360 px"
        tab.goto(intake.url + detail)
        width = tab.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{detail} is {width} px wide at 360 px"

        tab.goto(intake.portal_url("/proposals/"))
        targets = tab.locator(
            ".filter-form input, .filter-form select, .filter-form button, main .button, .pager a"
        ).all()
        assert len(targets) >= 5
        for target in targets:
            box = target.bounding_box()
            assert box["height"] >= 44, target.evaluate("e => e.outerHTML")
    finally:
        context.close()
