"""What `chamyeo up` seeds in each demo portal: a past cycle counted through the real path,
published and in execution, and a cycle in voting that the demo's verified residents can vote
in. Seeded once."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from saas.core import clock
from saas.core.tenancy.binding import tenant_session
from saas.dev.demo_portals import seed_demo_portals
from saas.dev.idp import NATIONAL_PEOPLE, VERIFIED
from tenants.cycles.models import Cycle
from tenants.execution.models import ExecutionItem, ExecutionUpdate
from tenants.proposals.models import Project, Proposal
from tenants.results.models import Result
from tenants.voting.models import Ballot
from tenants.voting.rules import online_acr_values


def _counts(engine, slug: str) -> dict[str, int]:
    with tenant_session(engine, slug) as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Cycle, Project, Proposal, Ballot, Result, ExecutionItem, ExecutionUpdate)
        }


def test_each_demo_portal_gets_a_published_past_cycle_and_a_cycle_in_voting_once(
    engine, settings, make_tenant, client
):
    citywide, neighbourhood = make_tenant(template="citywide"), make_tenant(template="neighbourhood")
    slugs = [citywide.slug, neighbourhood.slug]
    said: list[str] = []
    demo_settings = replace(settings, voter_key_secret="demo-voter-keys")
    seed_demo_portals(engine, demo_settings, slugs, echo=said.append)
    assert len(said) == 4
    year = clock.today().year

    for tenant in (citywide, neighbourhood):
        api = tenant.api
        cycles = {c["fiscal_year"]: c for c in client.get(f"{api}/cycles").get_json()}
        assert set(cycles) == {year - 1, year}
        past, current = cycles[year - 1], cycles[year]
        assert past["status"] == "execution_monitoring" and current["status"] == "voting"

        results = client.get(f"{api}/cycles/{past['id']}/results").get_json()
        voted = [r for r in results if r["record"]["voters"] > 0]
        assert results and all(r["published_at"] for r in results)
        assert voted and all(r["record"]["selected"] for r in voted)
        verified = client.post(f"{api}/cycles/{past['id']}/results/verify").get_json()
        assert verified and all(v["match"] and v["input_unchanged"] for v in verified)
        items = client.get(f"{api}/cycles/{past['id']}/execution").get_json()
        funded = {code for r in voted for code in r["record"]["selected"]}
        assert {i["project"]["code"] for i in items} == funded
        assert all(i["updates"] and i["milestones"] for i in items)

        first_dong = next(e["area_code"] for e in current["envelopes"] if e["scope"] == "dong")
        ballot = client.get(f"{api}/cycles/{current['id']}/ballot?district_code={first_dong}").get_json()
        on_ballot = [p for e in ballot["envelopes"] for p in e["projects"]]
        assert len(on_ballot) == 4, ballot
        proposals = client.get(f"{api}/cycles/{current['id']}/proposals").get_json()
        assert len(proposals) == 4 and sum(p["status"] == "shortlisted" for p in proposals) == 3

        # Online votes need the verified assurance: the development IdP has residents for it.
        with tenant_session(engine, tenant.slug) as session:
            needed = online_acr_values(session.get(Cycle, current["id"]).eligibility)
        residents = [p for p in NATIONAL_PEOPLE if not p.roles and (not needed or p.acr in needed)]
        assert needed == (VERIFIED,) and len(residents) >= 5

    before = {slug: _counts(engine, slug) for slug in slugs}
    again: list[str] = []
    seed_demo_portals(engine, demo_settings, slugs, echo=again.append)
    assert again == [] and {slug: _counts(engine, slug) for slug in slugs} == before
