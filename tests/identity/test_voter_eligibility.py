"""Voter eligibility by assurance: a cycle whose rules say `online_requires_national_idp`
takes online votes only from people signed in through the national IdP at the verified
assurance (or those the template names in `online_acr`), and such a person is one voter
across portal sessions (the key derives from the national identity)."""

from __future__ import annotations

from tests.identity.browser import Browser
from tests.identity.test_sign_in import sign_in

DONG = "4111156000"  # 수원시 장안구 파장동: an envelope of the neighbourhood template
BALLOT = {"basis": "resident", "birth_year": 1980, "district_code": DONG}


def _cycle_in_voting(client, tenant) -> tuple[str, int]:
    staff = tenant.auth("staff")
    cycle = client.post(
        f"{tenant.api}/cycles",
        json={
            "name_ko": "2027 주민참여예산",
            "name_en": "2027 PB",
            "fiscal_year": 2027,
            "starts_on": "2027-03-01",
            "total_budget": 1_000_000_000,
        },
        headers=staff,
    ).get_json()
    assert cycle["eligibility"]["online_requires_national_idp"] is True  # the template says so
    url = f"{tenant.api}/cycles/{cycle['id']}"
    category = client.get(f"{tenant.api}/categories").get_json()[0]["key"]
    project = client.post(
        f"{url}/projects",
        json={
            "envelope": f"dong-{DONG}",
            "code": "A",
            "title_ko": "사업 A",
            "category_key": category,
            "cost": 10_000_000,
        },
        headers=staff,
    )
    assert project.status_code == 201, project.get_json()
    for phase in [p["key"] for p in cycle["phases"]]:
        moved = client.post(f"{url}/phase", json={"to": phase}, headers=staff).get_json()
        if moved["status"] == "voting":
            break
    assert moved["status"] == "voting", moved
    return f"/api/v1/cycles/{cycle['id']}", project.get_json()["id"]


def test_online_votes_need_the_national_idp_when_the_cycle_says_so(app, hub, federation, make_tenant):
    tenant = make_tenant(template="neighbourhood", region="41110")
    client = app.test_client()
    path, project_id = _cycle_in_voting(client, tenant)
    vote = {**BALLOT, "choices": [{"project_id": project_id}]}

    by_token = client.post(
        f"{tenant.api}{path[len('/api/v1') :]}/votes", json=vote, headers=tenant.auth("resident")
    )
    assert by_token.status_code == 403 and "national identity provider" in by_token.get_json()["message"]

    first = Browser()
    me = sign_in(first, hub, tenant.slug, "national", "resident-kim")
    assert me.json()["acr"] == "urn:chamyeo:acr:verified"
    portal = hub.portal(tenant.slug)
    card = first.http.get(f"{portal}{path}/voter-card", timeout=10).json()["voter_card"]
    accepted = first.http.post(f"{portal}{path}/votes", json=vote, timeout=10)
    assert accepted.status_code == 201, accepted.text[:300]

    # Another browser, another hub and portal session: the same national identity, the same voter.
    second = Browser()
    sign_in(second, hub, tenant.slug, "national", "resident-kim")
    assert second.http.get(f"{portal}{path}/voter-card", timeout=10).json()["voter_card"] == card
    again = second.http.post(f"{portal}{path}/votes", json=vote, timeout=10)
    assert again.status_code == 409 and "already voted" in again.json()["message"]

    # Another national person is another voter.
    other = Browser()
    sign_in(other, hub, tenant.slug, "national", "resident-lee")
    assert other.http.post(f"{portal}{path}/votes", json=vote, timeout=10).status_code == 201


def test_a_national_sign_in_at_the_basic_assurance_cannot_vote_online(app, hub, federation, make_tenant):
    """The template asks for a verified identity: the national IdP vouching only for a basic
    sign-in is not enough, and the refusal says which assurance is needed."""
    tenant = make_tenant(template="neighbourhood", region="41110")
    path, project_id = _cycle_in_voting(app.test_client(), tenant)
    vote = {**BALLOT, "choices": [{"project_id": project_id}]}
    browser = Browser()
    me = sign_in(browser, hub, tenant.slug, "national", "resident-park")
    assert me.json()["acr"] == "urn:chamyeo:acr:basic"
    refused = browser.http.post(f"{hub.portal(tenant.slug)}{path}/votes", json=vote, timeout=10)
    assert refused.status_code == 403, refused.text[:300]
    body = refused.json()
    assert body["code"] == 403 and "identity was verified" in body["message"]
    assert "urn:chamyeo:acr:verified" in body["message"] and "urn:chamyeo:acr:basic" in body["message"]
    # The assurance is checked before the ballot is read: an invalid one gets the same 403.
    invalid = browser.http.post(f"{hub.portal(tenant.slug)}{path}/votes", json={"choices": "x"}, timeout=10)
    assert invalid.status_code == 403, invalid.text[:300]
    assert invalid.json()["errors"] == {"acr": ["needs urn:chamyeo:acr:verified"]}
    # Refused before anything was written: the person can still vote on site.
    card = browser.http.get(f"{hub.portal(tenant.slug)}{path}/voter-card", timeout=10).json()
    assert card["voted"] is None


def test_a_cycle_can_name_the_assurance_it_needs(app, hub, federation, make_tenant, engine):
    """`online_acr` in the eligibility rules names the levels accepted: here only a level the
    national IdP never gives, so even its verified sign-in is refused."""
    from sqlalchemy import update

    from saas.core.tenancy.binding import tenant_session
    from tenants.cycles.models import Cycle

    tenant = make_tenant(template="neighbourhood", region="41110")
    path, project_id = _cycle_in_voting(app.test_client(), tenant)
    cycle_id = int(path.rsplit("/", 1)[1])
    with tenant_session(engine, tenant.slug) as session:
        rules = session.get(Cycle, cycle_id).eligibility
        session.execute(
            update(Cycle)
            .where(Cycle.id == cycle_id)
            .values(eligibility={**rules, "online_acr": ["urn:example:acr:in-person"]})
        )
        session.commit()
    browser = Browser()
    sign_in(browser, hub, tenant.slug, "national", "resident-kim")
    vote = {**BALLOT, "choices": [{"project_id": project_id}]}
    refused = browser.http.post(f"{hub.portal(tenant.slug)}{path}/votes", json=vote, timeout=10)
    assert refused.status_code == 403 and "urn:example:acr:in-person" in refused.json()["message"]
