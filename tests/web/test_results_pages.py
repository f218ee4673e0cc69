"""The results and execution pages without a browser: what they show is the counting record's
and the services' (every project's cost, votes, funded or not), nothing before publication,
another tenant's cycle is a 404, and the pabulib download is the export's very bytes."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from saas.core.registry.models import Tenant
from saas.core.tenancy.binding import tenant_session
from saas.core.tenancy.context import TenantRef
from tenants.execution.services import execution_overview
from tenants.results import published

CYCLE = {"fiscal_year": 2027, "starts_on": "2027-03-01", "total_budget": 1_000_000_000}
# Shares of the dong's budget: with these votes C and A fit, B no longer does, D still does.
SHARES = {"A": 0.53, "B": 0.40, "C": 0.35, "D": 0.09}
BALLOTS = (("A", "B"), ("A", "C"), ("A", "D"), ("B", "C"), ("C",))  # votes A 3, C 3, B 2, D 1


class Page(HTMLParser):
    """The text of a page, its <html lang>, and the rows of its tables (cells' text)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.text: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.progress: dict[str, str] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "table":
            self._table = attributes.get("class") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("progress", "meter"):
            self.progress[attributes["id"]] = attributes["value"]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


@dataclass
class Published:
    slug: str
    cycle_id: int
    envelope: str
    pending_cycle_id: int
    other_slug: str
    costs: dict[str, int]


def _api_cycle(client, tenant, name: str) -> dict:
    response = client.post(
        f"{tenant.api}/cycles", json={**CYCLE, "name_ko": name, "name_en": name}, headers=tenant.auth("staff")
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _walk(client, tenant, cycle: dict, to: str) -> dict:
    order = ["draft", *[p["key"] for p in cycle["phases"]], "closed"]
    while cycle["status"] != to:
        following = order[order.index(cycle["status"]) + 1]
        response = client.post(
            f"{tenant.api}/cycles/{cycle['id']}/phase", json={"to": following}, headers=tenant.auth("staff")
        )
        assert response.status_code == 200, response.get_json()
        cycle = response.get_json()
    return cycle


def _counted_cycle(client, tenant, name: str) -> tuple[dict, str, dict[str, int]]:
    cycle = _api_cycle(client, tenant, name)
    envelope = next(e for e in cycle["envelopes"] if e["scope"] == "dong")
    category = client.get(f"{tenant.api}/categories").get_json()[0]["key"]
    ids = {}
    costs = {code: int(envelope["budget"] * share) for code, share in SHARES.items()}
    for code, cost in costs.items():
        response = client.post(
            f"{tenant.api}/cycles/{cycle['id']}/projects",
            json={
                "envelope": envelope["key"],
                "code": code,
                "title_ko": f"사업 {code}",
                "title_en": f"Project {code}",
                "category_key": category,
                "cost": cost,
            },
            headers=tenant.auth("staff"),
        )
        assert response.status_code == 201, response.get_json()
        ids[code] = response.get_json()["id"]
    cycle = _walk(client, tenant, cycle, "voting")
    for i, ballot in enumerate(BALLOTS):
        response = client.post(
            f"{tenant.api}/cycles/{cycle['id']}/check-ins",
            headers=tenant.auth("officer"),
            json={
                "basis": "resident",
                "birth_year": 1980,
                "district_code": envelope["area_code"],
                "identity_document": f"ID-{name}-{i}",
                "channel": "onsite",
                "choices": [{"project_id": ids[code]} for code in ballot],
            },
        )
        assert response.status_code == 201, response.get_json()
    cycle = _walk(client, tenant, cycle, "results")
    counted = client.post(f"{tenant.api}/cycles/{cycle['id']}/results", headers=tenant.auth("staff"))
    assert counted.status_code == 201, counted.get_json()
    return cycle, envelope["key"], costs


@pytest.fixture(scope="module")
def results(app, make_tenant) -> Published:
    """A portal with one cycle published (and in execution, one update posted) and one
    counted but not published; and another portal."""
    client = app.test_client()
    tenant = make_tenant(template="neighbourhood")
    cycle, envelope, costs = _counted_cycle(client, tenant, "공개된 주기")
    response = client.post(f"{tenant.api}/cycles/{cycle['id']}/results/publish", headers=tenant.auth())
    assert response.status_code == 200, response.get_json()
    item = client.get(f"{tenant.api}/cycles/{cycle['id']}/execution").get_json()[0]
    update = client.post(
        f"{tenant.api}/cycles/{cycle['id']}/execution/{item['id']}/updates",
        headers=tenant.auth("staff"),
        json={
            "posted_on": "2027-09-15",
            "body_ko": "공사를 시작했습니다",
            "body_en": "Works started",
            "progress_pct": 40,
            "spent": 3_000_000,
        },
    )
    assert update.status_code == 201, update.get_json()
    pending, _, _ = _counted_cycle(client, tenant, "개표만 한 주기")
    other = make_tenant(template="neighbourhood")
    return Published(tenant.slug, cycle["id"], envelope, pending["id"], other.slug, costs)


def _get(app, path: str, lang: str = "ko"):
    client = app.test_client()
    client.set_cookie("chamyeo_lang", lang)
    return client.get(path)


def _service(engine, slug, call):
    with tenant_session(engine, slug) as session:
        tenant = TenantRef.of(session.scalar(select(Tenant).where(Tenant.slug == slug)))
        return call(session, tenant)


def test_the_result_page_shows_the_counting_records_values(app, engine, results):
    shown = _service(
        engine, results.slug, lambda s, t: published.envelope_result(s, t, results.cycle_id, results.envelope)
    )
    response = _get(app, f"/t/{results.slug}/results/{results.cycle_id}/{results.envelope}", "en")
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    page = Page(response.get_data(as_text=True))
    assert page.lang == "en"
    rows = page.tables["result-table"][1:]  # below the header row
    expected = [
        [f"Project {p.code}", f"₩{p.cost:,}", str(p.votes), "Funded" if p.funded else "Not funded"]
        for p in shown.projects
    ]
    assert rows == expected
    # The record's own order and selection, and every project's reason, in words.
    record = next(
        r["record"]
        for r in app.test_client()
        .get(f"/t/{results.slug}/api/v1/cycles/{results.cycle_id}/results")
        .get_json()
        if r["envelope_key"] == results.envelope
    )
    assert [r[0] for r in rows if r[3] == "Funded"] == [f"Project {code}" for code in record["order"]]
    assert [r[0] for r in rows if r[3] == "Not funded"] == ["Project B"]
    for code, reason in record["reasons"].items():
        left = f"₩{reason['budget_left']:,}"
        if reason["status"] == "rejected":
            sentence = (
                f"Not funded: number {reason['rank']} by votes, but it costs ₩{results.costs[code]:,} "
                f"and only {left} was left when its turn came."
            )
        else:
            sentence = f"Funded: number {reason['rank']} by votes, and its cost fit in the {left} still left."
        assert f"Project {code} : {sentence}" in page.words
    assert "Greedy by votes" in page.words
    assert shown.result_hash in page.words and shown.input_hash in page.words
    # Turnout by channel: all five on site.
    channels = {row[0]: row[1] for table in page.tables.values() for row in table if len(row) == 3}
    assert (channels["Online"], channels["On site"], channels["Paper"]) == ("0", "5", "0")


def test_the_result_page_is_korean_first_with_korean_money(app, results):
    page = Page(
        _get(app, f"/t/{results.slug}/results/{results.cycle_id}/{results.envelope}").get_data(as_text=True)
    )
    assert page.lang == "ko"
    rows = page.tables["result-table"][1:]
    assert rows[0] == ["사업 C", f"{results.costs['C']:,}원", "3", "선정"]
    assert "미선정" in page.words and "다시 세어" in page.words


def test_the_results_list_shows_published_cycles_only(app, results):
    page = Page(_get(app, f"/t/{results.slug}/results/", "en").get_data(as_text=True))
    assert "공개된 주기" in page.words  # the cycle has only a Korean name here: shown as it is
    assert "개표만 한 주기" not in page.words
    assert "3 of 4 projects funded" in page.words


def test_before_publication_a_result_page_shows_no_number(app, results):
    path = f"/t/{results.slug}/results/{results.pending_cycle_id}/{results.envelope}"
    response = _get(app, path, "en")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert "not published yet" in page.words
    assert not page.tables
    for shown in (*(f"{cost:,}" for cost in results.costs.values()), "Project A", "Funded", "Votes"):
        assert shown not in page.words
    assert _get(app, f"{path}/pabulib").status_code == 404


def test_another_tenants_cycle_is_not_found(app, results):
    for path in (
        f"/t/{results.other_slug}/results/{results.cycle_id}/{results.envelope}",
        f"/t/{results.other_slug}/results/{results.cycle_id}/{results.envelope}/pabulib",
        f"/t/{results.slug}/results/{results.cycle_id}/no-such-envelope",
        f"/t/{results.slug}/results/999999/{results.envelope}",
    ):
        response = _get(app, path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/html"
    other = Page(_get(app, f"/t/{results.other_slug}/results/", "en").get_data(as_text=True))
    assert "공개된 주기" not in other.words and "No result has been published yet" in other.words


def test_the_pabulib_download_is_the_exports_very_bytes(app, make_tenant, results):
    page = _get(app, f"/t/{results.slug}/results/{results.cycle_id}/{results.envelope}/pabulib")
    assert page.status_code == 200
    api = app.test_client().get(
        f"/t/{results.slug}/api/v1/cycles/{results.cycle_id}/pabulib?envelope={results.envelope}"
    )
    assert api.status_code == 200 and page.get_data() == api.get_data()
    assert page.headers["Content-Disposition"] == api.headers["Content-Disposition"]


def test_the_execution_page_shows_progress_spend_and_dated_updates(app, engine, results):
    cycles = _service(engine, results.slug, lambda s, t: execution_overview(s))
    items = [i for c in cycles for i in c.items]
    response = _get(app, f"/t/{results.slug}/execution/", "en")
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    page = Page(response.get_data(as_text=True))
    for item in items:
        assert page.progress[f"progress-{item.id}"] == str(item.progress_pct)
        assert page.progress[f"spend-{item.id}"] == str(min(item.spent, item.budget))
    assert sorted(i.code for i in items) == ["A", "C", "D"]
    assert "Works started" in page.words and "September 15, 2027" in page.words
    assert "Progress: 40%" in page.words and "Spent: ₩3,000,000 of" in page.words
    korean = Page(_get(app, f"/t/{results.slug}/execution/").get_data(as_text=True))
    assert "공사를 시작했습니다" in korean.words and "진행률: 40%" in korean.words


def test_a_published_budget_without_projects_says_there_was_nothing_to_count(app, results, engine):
    from tenants.cycles.models import Envelope

    with tenant_session(engine, results.slug) as session:
        empty = session.scalar(
            select(Envelope.key).where(
                Envelope.cycle_id == results.cycle_id, Envelope.key != results.envelope
            )
        )
    page = Page(
        _get(app, f"/t/{results.slug}/results/{results.cycle_id}/{empty}", "en").get_data(as_text=True)
    )
    assert "No project was on the ballot of this budget" in page.words and not page.tables
    listed = _get(app, f"/t/{results.slug}/results/", "en").get_data(as_text=True)
    assert f'href="/t/{results.slug}/results/{results.cycle_id}/{results.envelope}"' in listed
    assert f'href="/t/{results.slug}/results/{results.cycle_id}/{empty}"' not in listed  # not offered
