"""Fixtures for the PB portal: a tenant with a cycle walked to the phase a test needs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

CYCLE = {
    "name_ko": "2027 주민참여예산",
    "name_en": "2027 PB",
    "fiscal_year": 2027,
    "starts_on": "2027-03-01",
    "total_budget": 1_000_000_000,
}


@dataclass
class PortalCycle:
    tenant: object
    client: object
    id: int
    data: dict

    @property
    def url(self) -> str:
        return f"{self.tenant.api}/cycles/{self.id}"

    def advance(self, to: str, role: str = "staff"):
        response = self.client.post(f"{self.url}/phase", json={"to": to}, headers=self.tenant.auth(role))
        assert response.status_code == 200, response.get_json()
        self.data = response.get_json()
        return self.data

    def advance_to(self, phase: str) -> None:
        keys = [p["key"] for p in self.data["phases"]] + ["closed"]
        order = ["draft", *keys]
        while self.data["status"] != phase:
            self.advance(order[order.index(self.data["status"]) + 1])

    def envelope(self, key: str) -> dict:
        return next(e for e in self.data["envelopes"] if e["key"] == key)

    def add_project(self, code: str, cost: int, envelope: str = "citywide", **extra):
        body = {
            "envelope": envelope,
            "code": code,
            "title_ko": f"사업 {code}",
            "category_key": extra.pop("category_key", self.category),
            "cost": cost,
            **extra,
        }
        response = self.client.post(f"{self.url}/projects", json=body, headers=self.tenant.auth("staff"))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    @property
    def category(self) -> str:
        return self.client.get(f"{self.tenant.api}/categories").get_json()[0]["key"]


def _accept_online_votes_by_token(engine, slug: str, cycle_id: int) -> None:
    """These tests vote online with API tokens of role resident, which a cycle requiring the
    national IdP refuses (tests/identity/test_voter_eligibility.py proves it): lift that rule."""
    from sqlalchemy import update

    from saas.core.tenancy.binding import tenant_session
    from tenants.cycles.models import Cycle

    with tenant_session(engine, slug) as session:
        cycle = session.get(Cycle, cycle_id)
        eligibility = {**cycle.eligibility, "online_requires_national_idp": False}
        session.execute(update(Cycle).where(Cycle.id == cycle_id).values(eligibility=eligibility))
        session.commit()


@pytest.fixture
def new_cycle(client, make_tenant, engine):
    def make(template: str = "citywide", region: str | None = None, **changes) -> PortalCycle:
        tenant = make_tenant(template=template, region=region)
        response = client.post(
            f"{tenant.api}/cycles", json={**CYCLE, **changes}, headers=tenant.auth("staff")
        )
        assert response.status_code == 201, response.get_json()
        data = response.get_json()
        _accept_online_votes_by_token(engine, tenant.slug, data["id"])
        return PortalCycle(tenant, client, data["id"], data)

    return make


@pytest.fixture
def person_auth(engine):
    """Headers of API tokens issued to a person: `person_auth(tenant, "kim", "staff")` makes
    account "kim" (once per test: its id is `person_auth.accounts["kim"]`) and a token of that
    role for it."""
    from saas.core.accounts.models import Account, Role
    from saas.core.accounts.tokens import create_token
    from saas.core.tenancy.binding import session_without_tenant

    accounts: dict[str, int] = {}

    def make(tenant, name: str, role: str = "staff") -> dict[str, str]:
        with session_without_tenant(engine) as session:
            if name not in accounts:
                account = Account(display_name=name)
                session.add(account)
                session.flush()
                accounts[name] = account.id
            _, secret = create_token(
                session,
                name=f"{name} {role}",
                role=Role(role),
                tenant_id=tenant.id,
                account_id=accounts[name],
                actor="test",
            )
        return {"Authorization": f"Bearer {secret}"}

    make.accounts = accounts  # type: ignore[attr-defined]
    return make
