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

import pytest
from sqlalchemy import select

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
            acr=None,
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
    for endpoint, (name, path_of) in PAGES.items():
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
def weighed(app, engine, portals) -> dict[str, tuple[str, str]]:
    return _weighed(app, engine, portals)


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
