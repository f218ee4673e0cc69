"""A resident votes in a real browser, on a phone, with each ballot type, with JavaScript and
without it; sees the receipt and checks it; every ballot page passes axe in Korean and
English at 390×844 and 1280×800."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import delete

from tests.pages.conftest import DESKTOP, PHONE, _context

DONG = "4111156000"  # 수원시 장안구 파장동
CYCLE = {
    "name_ko": "2027 주민참여예산",
    "name_en": "2027 PB",
    "fiscal_year": 2027,
    "starts_on": "2027-03-01",
    "total_budget": 1_000_000_000,
}
KINDS = {
    # ballot type: template, region, envelope, rule changes, costs, how to choose (per project)
    "knapsack": ("citywide", None, "citywide", None, (150_000_000, 120_000_000, 90_000_000, 300_000_000)),
    "approval": (
        "neighbourhood",
        "41110",
        f"dong-{DONG}",
        None,
        (10_000_000, 20_000_000, 5_000_000, 7_000_000),
    ),
    "cumulative": ("youth", None, "youth", None, (1_000_000, 2_000_000, 3_000_000, 4_000_000)),
    "ranked": (
        "neighbourhood",
        "41110",
        f"dong-{DONG}",
        {"type": "ranked", "max_rank": 2, "k": None, "min_k": None},
        (10_000_000, 20_000_000, 5_000_000, 7_000_000),
    ),
}


@dataclass
class BallotPortal:
    base: str  # the live server's URL of the portal
    envelope: str
    kind: str
    project_ids: list[int]

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture
def ballot_portal(app, make_tenant, live_server, settings, engine):
    """`ballot_portal(kind)`: a portal of its own with a cycle in voting and four projects of
    that ballot type, served by the live server, with the development IdPs registered."""
    from saas.control.identity.models import IdentityProvider
    from saas.core.tenancy.binding import session_without_tenant
    from saas.dev.idp_registration import register_development_idps

    api = app.test_client()
    registered: list[str] = []

    def make(kind: str) -> BallotPortal:
        template, region, envelope, rules, costs = KINDS[kind]
        tenant = make_tenant(template=template, region=region)
        staff = tenant.auth("staff")
        cycle = api.post(f"{tenant.api}/cycles", json=CYCLE, headers=staff).get_json()
        url = f"{tenant.api}/cycles/{cycle['id']}"
        if rules:
            body = {**cycle["ballot"], **{k: v for k, v in rules.items() if v is not None}}
            for key in [k for k, v in rules.items() if v is None]:
                body.pop(key, None)
            assert api.put(f"{url}/ballot-rules", json={"ballot": body}, headers=staff).status_code == 200
        category = api.get(f"{tenant.api}/categories").get_json()[0]["key"]
        ids = []
        for code, cost in zip("ABCD", costs, strict=True):
            body = {
                "envelope": envelope,
                "code": code,
                "title_ko": f"{code} 사업 쉼터",
                "category_key": category,
                "cost": cost,
            }
            made = api.post(f"{url}/projects", json=body, headers=staff)
            assert made.status_code == 201, made.get_json()
            ids.append(made.get_json()["id"])
        order = ["draft", *[p["key"] for p in cycle["phases"]]]
        status = cycle["status"]
        while status != "voting":
            status = order[order.index(status) + 1]
            assert api.post(f"{url}/phase", json={"to": status}, headers=staff).status_code == 200
        dev = replace(settings, environment="development", port=live_server.port)
        with session_without_tenant(engine) as session:
            registered.extend(
                k for k in register_development_idps(session, dev, [tenant.slug]) if k not in registered
            )
        return BallotPortal(f"{live_server.url}/t/{tenant.slug}", envelope, kind, ids)

    yield make
    with session_without_tenant(engine) as session:
        session.execute(
            delete(IdentityProvider).where(
                IdentityProvider.key.in_([k for k in registered if k != "dev-national"])
            )
        )
        session.commit()


def _sign_in(page, portal: BallotPortal, login: str = "resident") -> None:
    page.goto(portal.url("/"))
    page.get_by_role("link", name=re.compile("로그인|Sign in")).first.click()
    page.locator('a[data-provider="dev-national"]').click()
    page.locator(f'a[data-login="{login}"]').click()
    page.wait_for_url(re.compile(re.escape(portal.url("/")) + r"$"))


def _choose(page, portal: BallotPortal) -> None:
    a, b, c, _ = portal.project_ids
    if portal.kind in ("knapsack", "approval"):
        page.locator(f"#project-{a}").check()
        page.locator(f"#project-{b}").check()
    elif portal.kind == "cumulative":
        page.locator(f"#points-{a}").fill("5")
        page.locator(f"#points-{c}").fill("4")
        page.locator(f"#points-{c}").dispatch_event("change")
    else:
        page.locator(f"#rank-{b}").select_option("1")
        page.locator(f"#rank-{a}").select_option("2")


def _cast_and_check(page, portal: BallotPortal, axe, birth_year: str = "1980", on_receipt=None) -> str:
    """Review, cast, see the receipt and check its code. `axe` None: a page without
    JavaScript, where axe (which waits on timers the page does not run) cannot; the same
    pages pass it in the tests with JavaScript."""
    axe = axe or (lambda _page: [])
    page.get_by_role("button", name="투표지 확인").click()
    page.wait_for_url(re.compile(r"/review$"))
    assert page.get_by_text("아직 제출하지 않음").count() >= 1
    assert axe(page) == []
    page.get_by_label("태어난 해").fill(birth_year)
    page.get_by_role("button", name="투표 제출").click()
    page.wait_for_url(re.compile(r"/receipt/"))
    code = page.locator(".receipt-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", code)
    assert "쉼터" not in page.content()  # the receipt names no project
    assert axe(page) == []
    if on_receipt is not None:
        on_receipt(page)
    page.get_by_role("link", name="영수증 코드 확인").click()
    page.get_by_label("영수증 코드").fill(code)
    page.get_by_role("button", name="확인", exact=True).click()
    assert page.get_by_text("이 투표는 기록되었고 개표에 포함됩니다.").count() == 1
    assert "쉼터" not in page.content()
    assert axe(page) == []
    return code


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_resident_votes_on_a_phone_with_javascript(kind, page, ballot_portal, axe, screenshot):
    portal = ballot_portal(kind)
    _sign_in(page, portal)
    page.goto(portal.url(f"/vote/{portal.envelope}"))
    summary = page.locator("[data-standing-summary]")
    before = summary.inner_text()
    assert axe(page) == []
    with page.expect_response(re.compile(r"/draft$")):
        _choose(page, portal)
    page.wait_for_function(
        "before => document.querySelector('[data-standing-summary]').textContent !== before", arg=before
    )
    assert page.get_by_text("아직 제출하지 않음").count() >= 1
    if kind == "knapsack":
        # 300,000,000 no longer fits in what is left: disabled, with the reason in words
        blocked = page.locator(f"#project-{portal.project_ids[3]}")
        page.wait_for_function(f"() => document.querySelector('#project-{portal.project_ids[3]}').disabled")
        assert blocked.is_disabled()
        assert "남은 예산" in page.locator(f"#why-{portal.project_ids[3]}").inner_text()
        screenshot(page, "ballot-ko-phone")
    page.reload()  # the draft was kept by the script, without a form post
    assert page.get_by_text("이 사이트에 저장됨").count() == 1
    _cast_and_check(
        page,
        portal,
        axe,
        birth_year="2008" if kind == "cumulative" else "1980",
        on_receipt=(lambda shown: screenshot(shown, "receipt-ko-phone")) if kind == "knapsack" else None,
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_resident_votes_on_a_phone_without_javascript(
    kind, browser, live_server, guards, ballot_portal, axe
):
    """Signed in first (the sign-in is the hub's, not this page's), then the whole ballot in
    a browser context with JavaScript disabled."""
    from tests.pages.conftest import Guard

    portal = ballot_portal(kind)
    signing = _context(browser, live_server, PHONE, guards)
    _sign_in(signing.new_page(), portal, login="resident-2")
    signed_in = signing.storage_state()
    signing.close()
    context = browser.new_context(
        viewport=PHONE, locale="ko-KR", java_script_enabled=False, storage_state=signed_in
    )
    guard = Guard({f"127.0.0.1:{live_server.port}"})
    context.route("**/*", guard)
    guards.append(guard)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(portal.url(f"/vote/{portal.envelope}"))
        _choose(page, portal)
        page.get_by_role("button", name="반영하기").click()
        page.wait_for_load_state()
        assert page.get_by_text("선택 내용을 저장했습니다. 아직 제출하지 않았습니다.").count() == 1
        _cast_and_check(page, portal, None, birth_year="2008" if kind == "cumulative" else "1980")
    finally:
        context.close()


def test_the_ballot_pages_pass_axe_in_english_and_on_a_desktop(
    browser, live_server, guards, ballot_portal, axe
):
    """Landing, ballot, review, receipt and receipt check, at 1280×800 in Korean and English
    and at 390×844 in English (Korean on a phone: the tests above), each by a resident of its
    own (one ballot per person)."""
    portal = ballot_portal("knapsack")
    a, b = portal.project_ids[:2]
    combos = ((DESKTOP, "ko", "resident-3"), (DESKTOP, "en", "resident-4"), (PHONE, "en", "resident-5"))
    for viewport, lang, login in combos:
        context = _context(browser, live_server, viewport, guards, lang=lang)
        page = context.new_page()
        try:
            _sign_in(page, portal, login=login)
            page.goto(portal.url(f"/vote/?lang={lang}"))
            assert axe(page) == [], (viewport, lang, "landing")
            page.goto(portal.url(f"/vote/{portal.envelope}"))
            page.locator(f"#project-{a}").check()
            page.locator(f"#project-{b}").check()
            assert axe(page) == [], (viewport, lang, "ballot")
            page.locator("button[value=review]").click()
            page.wait_for_url(re.compile(r"/review$"))
            assert axe(page) == [], (viewport, lang, "review")
            page.locator("#field-birth_year").fill("1980")
            page.locator("form.cast-form button[type=submit]").click()
            page.wait_for_url(re.compile(r"/receipt/"))
            code = page.locator(".receipt-code").inner_text().strip()
            assert axe(page) == [], (viewport, lang, "receipt")
            page.goto(portal.url("/receipts"))
            page.locator("#field-code").fill(code)
            page.locator("form[action$='/receipts'] button[type=submit]").click()
            assert page.locator(".flash-ok").count() == 1
            assert axe(page) == [], (viewport, lang, "receipt check")
        finally:
            context.close()
