"""Fixtures for committees: one neighbourhood portal (서울 서초구) shared by the tests, a fresh
cycle per test, and credentials that speak for committee members."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

CYCLE = {
    "name_ko": "2027 주민참여예산",
    "name_en": "2027 PB",
    "fiscal_year": 2027,
    "starts_on": "2027-03-01",
    "total_budget": 1_000_000_000,
}
_codes = itertools.count(1)


@dataclass
class Portal:
    tenant: object
    client: object
    actors: dict[str, str]  # role (and "committee_member_2") -> the actor string of its token
    secrets: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        return {"Authorization": f"Bearer {self.secrets.get(role) or self.tenant.tokens[role]}"}

    def call(self, method: str, path: str, who: str | None = "staff", expect: int | None = None, **body):
        response = self.client.open(
            f"{self.tenant.api}{path}",
            method=method,
            headers=self.headers(who),
            json=body if method in ("POST", "PUT", "PATCH") else None,
        )
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.get_json())
        return response

    def new_cycle(self) -> int:
        return self.call("POST", "/cycles", expect=201, **CYCLE).get_json()["id"]

    def dongs(self) -> list[str]:
        return [d["code"] for d in self.call("GET", "/districts", who=None, expect=200).get_json()]

    def committee(self, cycle_id: int, key: str = "dong_assembly", **body) -> dict:
        if key == "dong_assembly":
            body.setdefault("dong_code", self.dongs()[0])
        return self.call("POST", f"/cycles/{cycle_id}/committees", expect=201, key=key, **body).get_json()

    def apply_on_paper(self, cycle_id: int, committee_id: int, people) -> list[int]:
        """Staff enter applications: people are (sex, age, dong or None, reserved key or None)."""
        ids = []
        for n, (sex, age, dong, reserved) in enumerate(people):
            body = {"name": f"신청자 {n}", "consent": True, "sex": sex, "age": age, "reserved_key": reserved}
            if dong is not None:
                body["dong_code"] = dong
            response = self.call("POST", f"/cycles/{cycle_id}/committees/{committee_id}/applications", **body)
            assert response.status_code == 201, response.get_json()
            ids.append(response.get_json()["id"])
        return ids

    def project(self, cycle_id: int, dong: str) -> int:
        category = self.call("GET", "/categories", who=None).get_json()[0]["key"]
        body = {
            "envelope": f"dong-{dong}",
            "code": f"P{next(_codes)}",
            "title_ko": "사업",
            "category_key": category,
            "cost": 1_000_000,
        }
        return self.call("POST", f"/cycles/{cycle_id}/projects", expect=201, **body).get_json()["id"]


@pytest.fixture(scope="session")
def committee_portal(app, engine, make_tenant) -> Portal:
    from saas.core.accounts.models import Role
    from saas.core.accounts.tokens import create_token, token_for_secret
    from saas.core.tenancy.binding import session_without_tenant

    tenant = make_tenant("committees", region="11650", template="neighbourhood", keep=True)
    actors, secrets = {}, {}
    with session_without_tenant(engine) as session:
        _, secrets["committee_member_2"] = create_token(
            session, name="second member", role=Role.COMMITTEE_MEMBER, tenant_id=tenant.id, actor="test"
        )
        _, secrets["resident_2"] = create_token(
            session, name="second resident", role=Role.RESIDENT, tenant_id=tenant.id, actor="test"
        )
        for role, secret in {**tenant.tokens, **secrets}.items():
            actors[role] = f"token:{token_for_secret(session.connection(), secret).id}"
    return Portal(tenant, app.test_client(), actors, secrets)


@pytest.fixture
def portal(committee_portal) -> Portal:
    return committee_portal


@pytest.fixture
def cycle_id(portal) -> int:
    return portal.new_cycle()
