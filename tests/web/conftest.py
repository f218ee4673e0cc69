"""Page tests without a browser: the Flask test client, HTML read with the stdlib parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest


class Page(HTMLParser):
    """The parts of an HTML answer the tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.texts: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.inputs: list[dict[str, str]] = []
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "form":
            self.forms.append(attributes)
        elif tag == "input":
            self.inputs.append(attributes)
        elif tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])

    def handle_data(self, data):
        if data.strip():
            self.texts.append(re.sub(r"\s+", " ", data.strip()))

    @property
    def text(self) -> str:
        return " ".join(self.texts)

    def csrf_token(self) -> str:
        return next(i["value"] for i in self.inputs if i.get("name") == "csrf_token")


@pytest.fixture
def page_of():
    def parse(response) -> Page:
        assert response.mimetype == "text/html", (response.status_code, response.get_data(as_text=True)[:500])
        return Page(response.get_data(as_text=True))

    return parse


@pytest.fixture
def browser_headers() -> dict[str, str]:
    return {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


CYCLE = {
    "name_ko": "2027 주민참여예산",
    "name_en": "2027 PB",
    "fiscal_year": 2027,
    "starts_on": "2027-03-01",
    "total_budget": 1_000_000_000,
}


class Cycle:
    def __init__(self, client, tenant, data) -> None:
        self.client, self.tenant, self.data = client, tenant, data

    def add_project(self) -> None:
        category = self.client.get(f"{self.tenant.api}/categories").get_json()[0]["key"]
        for envelope in self.data["envelopes"]:
            body = {"envelope": envelope["key"], "code": f"P-{envelope['key']}", "title_ko": "사업",
                    "category_key": category, "cost": 1_000_000}
            url = f"{self.tenant.api}/cycles/{self.data['id']}/projects"
            response = self.client.post(url, json=body, headers=self.tenant.auth("staff"))
            assert response.status_code == 201, response.get_json()

    def advance_to(self, phase: str) -> None:
        order = ["draft", *[p["key"] for p in self.data["phases"]], "closed"]
        while self.data["status"] != phase:
            following = order[order.index(self.data["status"]) + 1]
            if following == "voting":
                self.add_project()
            url = f"{self.tenant.api}/cycles/{self.data['id']}/phase"
            response = self.client.post(url, json={"to": following}, headers=self.tenant.auth("staff"))
            assert response.status_code == 200, response.get_json()
            self.data = response.get_json()


@pytest.fixture
def new_cycle(app, make_tenant):
    """`new_cycle(template)`: a tenant of its own with a cycle in draft (walk it with advance_to)."""
    api = app.test_client()

    def make(template: str = "citywide") -> Cycle:
        tenant = make_tenant(template=template)
        response = api.post(f"{tenant.api}/cycles", json=CYCLE, headers=tenant.auth("staff"))
        assert response.status_code == 201, response.get_json()
        return Cycle(api, tenant, response.get_json())

    return make


@pytest.fixture
def person_token(engine):
    """`person_token(tenant, email)`: the headers of a resident's credential issued to a new
    account with that e-mail, as a sign-in gives one."""
    from saas.core.accounts.models import Account, Role
    from saas.core.accounts.tokens import create_token
    from saas.core.tenancy.binding import session_without_tenant

    def make(tenant, email: str) -> dict[str, str]:
        with session_without_tenant(engine) as session:
            account = Account(display_name=email, email=email)
            session.add(account)
            session.flush()
            _, secret = create_token(
                session,
                name=email,
                role=Role.RESIDENT,
                tenant_id=tenant.id,
                account_id=account.id,
                actor="test",
            )
        return {"Authorization": f"Bearer {secret}"}

    return make
