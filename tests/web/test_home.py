"""The portal's home page, without a browser: both languages, the switch keeps the page, the
calendar and the one call to action of each phase, the tenant's own hosts."""

from __future__ import annotations


def test_home_renders_in_korean_by_default(client, alpha, page_of):
    page = page_of(client.get(f"/t/{alpha.slug}/"))
    assert page.lang == "ko"
    assert "본문 바로가기" in page.text
    assert "첫 화면" in page.text


def test_language_switch_keeps_the_page_and_its_query(client, alpha, page_of):
    response = client.get(f"/t/{alpha.slug}/?lang=en&x=1")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/t/{alpha.slug}/?x=1")
    page = page_of(client.get(f"/t/{alpha.slug}/"))
    assert page.lang == "en"
    assert "Skip to the content" in page.text
    assert f"/t/{alpha.slug}/?lang=ko" in page.links  # the switcher points back at this page


def test_the_template_page_on_how_pb_works_shows_in_the_current_language(client, alpha, page_of):
    korean = page_of(client.get(f"/t/{alpha.slug}/"))
    client.set_cookie("chamyeo_lang", "en")
    english = page_of(client.get(f"/t/{alpha.slug}/"))
    assert "동네" in korean.text or "주민참여예산" in korean.text
    assert "How" in english.text or "works" in english.text


def test_voting_phase_offers_one_button_per_envelope(client, new_cycle, page_of):
    cycle = new_cycle("citywide")
    cycle.advance_to("voting")
    client.set_cookie("chamyeo_lang", "en")
    page = page_of(client.get(f"/t/{cycle.tenant.slug}/"))
    votes = [link for link in page.links if f"/t/{cycle.tenant.slug}/vote/" in link]
    expected = [f"/t/{cycle.tenant.slug}/vote/{e['key']}" for e in cycle.data["envelopes"]]
    assert sorted(votes) == sorted([*expected, f"/t/{cycle.tenant.slug}/vote/"])  # the nav's too
    assert "(now)" in page.text
    assert f"/t/{cycle.tenant.slug}/proposals/new" not in page.links


def test_proposal_phase_offers_to_propose(client, new_cycle, page_of):
    cycle = new_cycle("neighbourhood")
    cycle.advance_to("proposal_intake")
    page = page_of(client.get(f"/t/{cycle.tenant.slug}/"))
    assert f"/t/{cycle.tenant.slug}/proposals/new" in page.links
    assert not [link for link in page.links if "/vote/" in link and not link.endswith("/vote/")]


def test_the_tenants_own_hosts_serve_the_home_at_the_root(client, alpha, page_of):
    for host in (f"{alpha.slug}.chamyeo.test", "pb.alpha.example.kr"):
        page = page_of(client.get("/", headers={"Host": host}))
        assert page.lang == "ko"
        # Links the page builds work on this host too (they name the tenant's prefix).
        assert client.get(f"/t/{alpha.slug}/", headers={"Host": host}).status_code == 200


def test_another_tenants_path_on_a_tenants_host_is_a_404(client, alpha, beta, browser_headers, page_of):
    host = {"Host": f"{alpha.slug}.chamyeo.test"}
    response = client.get(f"/t/{beta.slug}/", headers={**host, **browser_headers})
    assert response.status_code == 404
    assert page_of(response).lang == "ko"


def test_the_home_page_stays_small(client, new_cycle):
    import gzip
    from pathlib import Path

    cycle = new_cycle("citywide")  # many envelopes: one per dong
    cycle.advance_to("voting")
    html = client.get(f"/t/{cycle.tenant.slug}/").get_data()
    assert len(html) <= 100_000
    scripts = Path(__file__).resolve().parents[2] / "saas" / "core" / "web" / "static" / "js"
    assert sum(len(gzip.compress(p.read_bytes())) for p in scripts.glob("*.js")) <= 60_000


def test_many_dong_budgets_fold_into_one_list_under_the_citywide_buttons(client, new_cycle, page_of):
    import re

    cycle = new_cycle("citywide")  # a citywide budget and one per dong
    cycle.advance_to("voting")
    slug = cycle.tenant.slug
    html = client.get(f"/t/{slug}/").get_data(as_text=True)
    envelopes = cycle.data["envelopes"]
    dongs = [e["key"] for e in envelopes if e["scope"] == "dong"]
    wide = [e["key"] for e in envelopes if e["scope"] != "dong"]
    assert len(dongs) > 3 and wide
    primary = re.findall(rf'class="button button-primary" href="/t/{slug}/vote/([^"]+)"', html)
    assert primary == wide  # the call to action: only the budgets of the whole municipality
    folded = html[html.index('<details class="dong-chooser">') : html.index("</details>")]
    assert f"우리 동 예산에 투표하기 ({len(dongs)}개 동)" in folded
    assert re.findall(rf'href="/t/{slug}/vote/([^"]+)"', folded) == dongs
    assert not set(dongs) & set(re.findall(rf'href="/t/{slug}/vote/([^"]+)"', html[: html.index(folded)]))
