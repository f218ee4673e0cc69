"""The weight of every resident page (issue 14's goal: HTML ≤ 100 KB, JavaScript ≤ 60 KB
gzipped), measured on a portal with the demo's data: last year's cycle counted, published and
in execution, this year's in voting with proposals.

Sizes, not times, so tests can hold them. The pages are enumerated from the page blueprints:
a GET page added later without a way here to open it fails
`test_every_page_of_the_blueprints_is_weighed` until it gets one (a line in `PAGES`). The error
pages are enumerated from the foundation's error templates.

`pytest tests/web/test_page_weight.py -s` prints the table BENCHMARKS.md records.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from saas.control.identity.sessions import PORTAL_COOKIE
from saas.core.tenancy.binding import session_without_tenant
from saas.core.web.pages import PAGE_BLUEPRINTS
from tests.portal.conftest import CYCLE

HTML_LIMIT = 100 * 1024
JS_LIMIT = 60 * 1024  # gzipped, level 9, the sum of a page's <script src>
# Not pages: the stylesheet of the tenant's colours, the pabulib file (a download).
NOT_HTML = {"web_branding.brand_css", "results_pages.pabulib"}
ERROR_TEMPLATES = Path(__file__).resolve().parents[2] / "saas/core/web/templates/web/errors"


@dataclass
class Portal:
    slug: str
    invitation: str = ""


@pytest.fixture(scope="module")
def ministry(platform_tokens) -> dict[str, str]:  # the module-scoped twin of tests/conftest.py's
    return {"Authorization": f"Bearer {platform_tokens['ministry_admin']}"}


@pytest.fixture(scope="module")
def portals(app, make_tenant, engine, settings, ministry) -> dict[str, Portal]:
    """`demo`: the demo's two cycles (last year's published and in execution, this year's in
    voting), and an invitation of its admin; `planning` and `intake`: a cycle in planning input
    and one in proposal intake (the pages that are forms only then)."""
    from saas.dev.demo_portals import seed_demo_portals

    client = app.test_client()
    demo = make_tenant(template="citywide", admin_email="chief@weight.example.kr")
    seed_demo_portals(engine, replace(settings, voter_key_secret="weight"), [demo.slug], echo=lambda _: None)
    _online_voting_without_the_national_idp(engine, demo.slug)  # the test's resident has none
    issued = client.post(f"/api/v1/tenants/{demo.slug}/invitation", headers=ministry)
    assert issued.status_code in (200, 201), issued.get_json()
    made = {"demo": Portal(demo.slug, issued.get_json()["code"])}
    for name, phases in (("planning", ["planning_input"]), ("intake", ["planning_input", "proposal_intake"])):
        tenant = make_tenant(template="citywide")
        cycle = client.post(f"{tenant.api}/cycles", json=CYCLE, headers=tenant.auth("staff"))
        assert cycle.status_code == 201, cycle.get_json()
        for phase in phases:
            moved = client.post(
                f"{tenant.api}/cycles/{cycle.get_json()['id']}/phase",
                json={"to": phase},
                headers=tenant.auth("staff"),
            )
            assert moved.status_code == 200, moved.get_json()
        made[name] = Portal(tenant.slug)
    return made


def _online_voting_without_the_national_idp(engine, slug: str) -> None:
    from sqlalchemy import update

    from saas.core.tenancy.binding import tenant_session
    from tenants.cycles.models import Cycle

    with tenant_session(engine, slug) as session:
        for cycle in session.scalars(select(Cycle).where(Cycle.status == "voting")).all():
            eligibility = {**cycle.eligibility, "online_requires_national_idp": False}
            session.execute(update(Cycle).where(Cycle.id == cycle.id).values(eligibility=eligibility))
        session.commit()


LARGE = 200  # projects on one ballot, as the ballot page's goal has them


@pytest.fixture(scope="module")
def large(app, make_tenant) -> Portal:
    """A portal whose published cycle had 200 projects on one ballot, 150 of them funded and
    followed in execution with a milestone and an update each: the results and execution
    pages at a size a large municipality reaches."""
    client = app.test_client()
    tenant = make_tenant(template="neighbourhood")
    staff = tenant.auth("staff")
    made = client.post(f"{tenant.api}/cycles", json=CYCLE, headers=staff)
    assert made.status_code == 201, made.get_json()
    cycle = made.get_json()
    envelope = next(e for e in cycle["envelopes"] if e["scope"] == "dong")
    category = client.get(f"{tenant.api}/categories").get_json()[0]["key"]
    ids = []
    for n in range(LARGE):
        response = client.post(
            f"{tenant.api}/cycles/{cycle['id']}/projects",
            json={
                "envelope": envelope["key"],
                "code": f"L{n:03d}",
                "title_ko": f"{n + 1}번 사업: 마을 쉼터와 그늘막, 보행로 정비",
                "title_en": f"Project {n + 1}: a shelter, shade and a better footpath",
                "category_key": category,
                "cost": envelope["budget"] // 150,  # 150 fit
            },
            headers=staff,
        )
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])

    def walk(to: str) -> None:
        order = ["draft", *[p["key"] for p in cycle["phases"]], "closed"]
        while cycle["status"] != to:
            following = order[order.index(cycle["status"]) + 1]
            moved = client.post(
                f"{tenant.api}/cycles/{cycle['id']}/phase", json={"to": following}, headers=staff
            )
            assert moved.status_code == 200, moved.get_json()
            cycle["status"] = following

    walk("voting")
    for voter in range(LARGE // 2):  # approval ballots of three: projects voted 1 to 3 times
        response = client.post(
            f"{tenant.api}/cycles/{cycle['id']}/check-ins",
            headers=tenant.auth("officer"),
            json={
                "basis": "resident",
                "birth_year": 1980,
                "district_code": envelope["area_code"],
                "identity_document": f"ID-large-{voter}",
                "channel": "onsite",
                "choices": [{"project_id": ids[(voter * 3 + k) % LARGE]} for k in range(3)],
            },
        )
        assert response.status_code == 201, response.get_json()
    walk("results")
    assert client.post(f"{tenant.api}/cycles/{cycle['id']}/results", headers=staff).status_code == 201
    published = client.post(f"{tenant.api}/cycles/{cycle['id']}/results/publish", headers=tenant.auth())
    assert published.status_code == 200, published.get_json()
    items = client.get(f"{tenant.api}/cycles/{cycle['id']}/execution").get_json()
    for item in items:
        url = f"{tenant.api}/cycles/{cycle['id']}/execution/{item['id']}"
        body = {"title_ko": "설계와 주민 설명회", "title_en": "Design and briefing", "due_on": "2027-09-30"}
        assert client.post(f"{url}/milestones", json=body, headers=staff).status_code == 201
        body = {
            "posted_on": "2027-09-15",
            "body_ko": "계획대로 진행 중입니다.",
            "body_en": "On schedule.",
            "progress_pct": 40,
            "spent": item["budget"] // 3,
        }
        assert client.post(f"{url}/updates", json=body, headers=staff).status_code == 201
    return Portal(tenant.slug)


def _signed_in(app, engine, slug: str):
    """A test client with a live portal session of a new resident's account (what the hub's
    sign-in ends with)."""
    from saas.control.identity.sessions import open_portal_session
    from saas.core.accounts.models import Account
    from saas.core.registry.models import Tenant

    client = app.test_client()
    with session_without_tenant(engine) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        account = Account(display_name="주민")
        session.add(account)
        session.flush()
        secret = open_portal_session(
            session,
            tenant_id=tenant_id,
            account_id=account.id,
            hub_sid=f"hub-{account.id}",
            id_token="test",
            acr="urn:chamyeo:acr:verified",  # a national sign-in: online voting asks for it
        )
        session.commit()
    client.set_cookie(PORTAL_COOKIE, secret, path="/")
    return client


def _first_link(client, page: str, pattern: str) -> str:
    html = client.get(page).get_data(as_text=True)
    found = re.search(pattern, html)
    assert found, f"no link matching {pattern} on {page}"
    return found.group(0)


def _proposal(client, slug: str) -> str:
    return _first_link(client, f"/t/{slug}/proposals/", rf"/t/{slug}/proposals/\d+")


def _envelope(client, slug: str) -> str:
    return _first_link(client, f"/t/{slug}/results/", rf"/t/{slug}/results/\d+/[\w-]+")


def _project(client, slug: str) -> str:
    envelope = _envelope(client, slug)
    return _first_link(client, envelope, rf"{envelope}/projects/[^\"]+")


def _ballot(client, slug: str) -> str:
    return _first_link(client, f"/t/{slug}/vote/", rf"/t/{slug}/vote/[\w-]+")


def _post(client, path: str, form: list[tuple[str, str]]):
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get(path).get_data(as_text=True))
    assert token, f"no form on {path}"
    return client.post(path, data=MultiDict([*form, ("csrf_token", token.group(1))]))


def _review(client, slug: str) -> str:
    """The review of a selection, as a person without JavaScript makes it: the projects offered
    are added one by one until the ballot's rules accept the selection (a knapsack ballot may
    ask for part of its budget to be used)."""
    ballot = _ballot(client, slug)
    html = client.get(ballot).get_data(as_text=True)
    offered = re.findall(r'<input type="checkbox" id="[^"]+" name="([\w-]+)" value="([^"]+)"', html)
    assert offered, f"no project to choose on {ballot}"
    for n in range(1, len(offered) + 1):
        reviewed = _post(client, ballot, [*offered[:n], ("action", "review")])
        if reviewed.status_code == 303:
            return urlsplit(reviewed.headers["Location"]).path
    raise AssertionError(f"no selection of {ballot} was accepted")


def _receipt(client, slug: str) -> str:
    """The receipt of a ballot cast through the page (the review, then the cast)."""
    review = _review(client, slug)
    html = client.get(review).get_data(as_text=True)
    carried = re.findall(r'<input type="hidden" name="(cycle|choice)" value="([^"]+)"', html)
    cast = _post(client, review, [*carried, ("basis", "resident"), ("birth_year", "1980")])
    assert cast.status_code == 303, cast.get_data(as_text=True)[:2000]
    return urlsplit(cast.headers["Location"]).path


# endpoint -> (which portal, the path of that page there, asked by a signed-in resident)
PAGES: dict[str, tuple[str, Callable[..., str]]] = {
    "portal_pages.home": ("demo", lambda client, p: f"/t/{p.slug}/"),
    "proposal_pages.proposal_list": ("demo", lambda client, p: f"/t/{p.slug}/proposals/"),
    "proposal_pages.proposal_detail": ("demo", lambda client, p: _proposal(client, p.slug)),
    "proposal_pages.new_proposal": ("intake", lambda client, p: f"/t/{p.slug}/proposals/new"),
    "proposal_pages.planning_page": ("planning", lambda client, p: f"/t/{p.slug}/planning"),
    "results_pages.index": ("demo", lambda client, p: f"/t/{p.slug}/results/"),
    "results_pages.envelope": ("demo", lambda client, p: _envelope(client, p.slug)),
    "results_pages.project": ("demo", lambda client, p: _project(client, p.slug)),
    "execution_pages.index": ("demo", lambda client, p: f"/t/{p.slug}/execution/"),
    "identity_pages.signin": ("demo", lambda client, p: f"/t/{p.slug}/signin"),
    "people_pages.invitation": ("demo", lambda client, p: f"/t/{p.slug}/invitations/{p.invitation}"),
    "voting_pages.index": ("demo", lambda client, p: f"/t/{p.slug}/vote/"),
    "voting_pages.ballot": ("demo", lambda client, p: _ballot(client, p.slug)),
    "voting_pages.review": ("demo", lambda client, p: _review(client, p.slug)),
    "voting_pages.receipt": ("demo", lambda client, p: _receipt(client, p.slug)),
    "voting_pages.receipts_form": ("demo", lambda client, p: f"/t/{p.slug}/receipts"),
}


# The pages whose size grows with the data, again in the large portal.
LARGE_PAGES: dict[str, Callable[..., str]] = {
    "results_pages.index": lambda client, p: f"/t/{p.slug}/results/",
    "results_pages.envelope": lambda client, p: _envelope(client, p.slug),
    "results_pages.project": lambda client, p: _project(client, p.slug),
    "execution_pages.index": lambda client, p: f"/t/{p.slug}/execution/",
}


def _get_endpoints(app) -> set[str]:
    pages = app.extensions[PAGE_BLUEPRINTS]
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".", 1)[0] in pages and "GET" in (rule.methods or ())
    } - NOT_HTML


def _weighed(app, engine, portals: dict[str, Portal]) -> dict[str, tuple[str, str]]:
    """endpoint (or error template) -> (path, HTML)."""
    clients = {name: _signed_in(app, engine, portal.slug) for name, portal in portals.items()}
    pages = {}
    asked = [(endpoint, name, path_of) for endpoint, (name, path_of) in PAGES.items()]
    asked += [
        (f"{endpoint} ({LARGE} projects)", "large", path_of) for endpoint, path_of in LARGE_PAGES.items()
    ]
    for endpoint, name, path_of in asked:
        path = path_of(clients[name], portals[name])
        response = clients[name].get(path)
        assert response.status_code == 200 and response.mimetype == "text/html", (path, response.status_code)
        pages[endpoint] = (path, response.get_data(as_text=True))
    from saas.core.tenancy.context import enter_tenant
    from saas.core.web.errors import render_error

    for template in sorted(ERROR_TEMPLATES.glob("[0-9]*.html")):
        status = int(template.stem)
        with app.test_request_context(f"/t/{portals['demo'].slug}/"):
            enter_tenant(portals["demo"].slug)  # as a page of the portal would: its name and colours
            body, _ = render_error(status, message="The cycle is closed.")
        pages[f"error {status}"] = (template.name, body)
    return pages


@pytest.fixture(scope="module")
def weighed(app, engine, portals, large) -> dict[str, tuple[str, str]]:
    return _weighed(app, engine, {**portals, "large": large})


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", html)


def _gzipped_js(app, html: str) -> int:
    client, total = app.test_client(), 0
    for src in _scripts(html):
        with client.get(src) as response:  # a static file: closed with its answer
            assert response.status_code == 200, src
            total += len(gzip.compress(response.get_data(), compresslevel=9))
    return total


def test_every_page_of_the_blueprints_is_weighed(app):
    missing = _get_endpoints(app) - PAGES.keys()
    assert missing == set(), f"pages without a line in PAGES (how to open them with demo data): {missing}"
    assert PAGES.keys() <= _get_endpoints(app)  # no line for a page that is gone
    assert len(list(ERROR_TEMPLATES.glob("[0-9]*.html"))) >= 6


def test_every_page_is_at_most_100_kb_of_html(app, weighed):
    print("\n| page | HTML bytes | gzipped JS bytes |\n|---|---|---|")  # BENCHMARKS.md's table, with -s
    for name, (path, html) in weighed.items():
        shown = re.sub(r"/t/[^/]+", "", path) or "/"
        print(f"| {name} (`{shown}`) | {len(html.encode()):,} | {_gzipped_js(app, html):,} |")
    heavy = {
        name: len(html.encode()) for name, (_, html) in weighed.items() if len(html.encode()) > HTML_LIMIT
    }
    assert heavy == {}


def test_every_pages_javascript_is_at_most_60_kb_gzipped(app, weighed):
    assert all(_scripts(html) for _, html in weighed.values()), "a page without the portal's script layer?"
    heavy = {name: size for name, (_, html) in weighed.items() if (size := _gzipped_js(app, html)) > JS_LIMIT}
    assert heavy == {}


def test_the_weighing_sees_the_data(weighed):
    """The pages weighed are the demo portal's, with their data, not empty pages."""
    _, envelope = weighed["results_pages.envelope"]
    assert envelope.count("<tr") >= 6  # every project of the envelope, with its votes
    _, execution = weighed["execution_pages.index"]
    assert "<progress" in execution or "<meter" in execution
    _, envelope = weighed[f"results_pages.envelope ({LARGE} projects)"]
    assert envelope.count('<tr class="is-') == LARGE  # every project of the large ballot
    assert envelope.count('<tr class="is-funded"') == 150
    _, execution = weighed[f"execution_pages.index ({LARGE} projects)"]
    assert execution.count("<progress") == 50 and 'rel="next"' in execution  # a page of 50 of 150
