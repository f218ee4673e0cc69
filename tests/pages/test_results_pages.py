"""A resident reads last year's published result and follows the funded projects, on a phone
and on a desktop, in Korean and in English: every page passes axe and never scrolls sideways,
and the ballots they download are the export's."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.pages.conftest import DESKTOP, PHONE


@pytest.fixture(scope="module")
def demo_portal(make_tenant, engine, settings) -> str:
    """A portal of its own with the demo's cycles: last year's counted, published and in
    execution (MES, the citywide template), this year's in voting."""
    from saas.dev.demo_portals import seed_demo_portals

    tenant = make_tenant(template="citywide")
    seed_demo_portals(engine, replace(settings, voter_key_secret="pages"), [tenant.slug], echo=lambda _: None)
    return tenant.slug


def _width(tab) -> int:
    return tab.evaluate("() => document.documentElement.scrollWidth")


def test_a_resident_reads_the_published_result_and_recounts_it(page, live_server, demo_portal, app):
    page.goto(f"{live_server.url}/t/{demo_portal}/")
    page.get_by_role("link", name="결과", exact=True).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "결과"
    page.get_by_role("link", name="시 전체 사업").click()
    assert page.get_by_role("heading", level=1).inner_text() == "시 전체 사업"
    table = page.locator("table.result-table")
    assert table.locator("caption").inner_text().startswith("투표에 오른 모든 사업")
    rows = table.locator("tbody tr")
    assert rows.count() == 6
    funded = [r for r in rows.all() if r.locator("td").last.inner_text() == "선정"]
    assert 0 < len(funded) < 6
    reasons = page.locator("ol.reasons li")
    assert reasons.count() == 6 and "라운드" in reasons.first.inner_text()  # MES rounds
    assert page.get_by_role("img", name="사업별 득표").count() == 1  # the chart, with its table
    assert _width(page) <= PHONE["width"]
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("투표지 내려받기")).click()
    downloaded = Path(download.value.path()).read_bytes()
    cycle_id = page.url.rstrip("/").split("/")[-2]
    exported = app.test_client().get(f"/t/{demo_portal}/api/v1/cycles/{cycle_id}/pabulib?envelope=citywide")
    assert exported.status_code == 200 and downloaded == exported.get_data()
    assert download.value.suggested_filename == f"{demo_portal}_{cycle_id}_citywide.pb"


def test_a_resident_follows_the_funded_projects(page, live_server, demo_portal):
    page.goto(f"{live_server.url}/t/{demo_portal}/execution/")
    assert page.get_by_role("heading", level=1).inner_text() == "선정 사업 집행 현황"
    items = page.locator("li.execution-item")
    assert items.count() >= 4
    first = items.first
    progress = first.locator("progress")
    assert progress.get_attribute("max") == "100"
    label = first.locator("label", has_text="진행률").inner_text()
    assert label == f"진행률: {progress.get_attribute('value')}%"
    assert first.locator("ul.updates time").count() >= 1
    assert _width(page) <= PHONE["width"]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_results_and_execution_pages_pass_axe_on_a_phone_and_a_desktop(
    page, desktop_page, live_server, demo_portal, axe, screenshot, lang
):
    base = f"{live_server.url}/t/{demo_portal}"
    page.goto(f"{base}/results/?lang={lang}")
    detail = page.get_by_role("link", name=re.compile("시 전체 사업|Citywide projects")).get_attribute("href")
    for tab, size, width in ((page, "phone", PHONE["width"]), (desktop_page, "desktop", DESKTOP["width"])):
        for name, path in (
            ("results-list", "/results/"),
            ("results", detail[len(f"/t/{demo_portal}") :]),
            ("execution", "/execution/"),
        ):
            tab.goto(f"{base}{path}?lang={lang}")
            assert tab.locator("html").get_attribute("lang") == lang
            assert axe(tab) == [], f"{name} {lang} {size}"
            assert _width(tab) <= width, f"{name} {lang} {size} scrolls sideways"
            if size == "phone":
                small = tab.evaluate(
                    """() => [...document.querySelectorAll('main a, main button')]
                        .filter(e => e.getBoundingClientRect().height < 44).map(e => e.innerText)"""
                )
                assert small == [], f"{name} {lang}: tap targets under 44 px"
            if lang == "ko" and (name, size) in (
                ("results", "phone"),
                ("results", "desktop"),
                ("execution", "phone"),
            ):
                screenshot(tab, f"{name}-ko-{size}")


def test_an_unpublished_result_shows_no_count(page, live_server, demo_portal):
    """This year's cycle is in voting: its result page says so, with no number."""
    page.goto(f"{live_server.url}/t/{demo_portal}/results/")
    published = page.get_by_role("link", name="시 전체 사업").get_attribute("href")
    cycle_id = int(published.split("/")[-2])
    page.goto(f"{live_server.url}/t/{demo_portal}/results/{cycle_id + 1}/citywide")
    assert "아직 공개되지 않았습니다" in page.locator("main").inner_text()
    assert page.locator("main table").count() == 0 and page.locator("main svg").count() == 0
