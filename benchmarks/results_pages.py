"""Server time of the result page of an envelope with 200 projects and of the execution page
with 200 funded projects, as ratios against baselines measured in the same command.

    .venv/bin/python -m benchmarks.results_pages [--samples 200]

(on the server of $DATABASE_URL, default the machine's PostgreSQL; a fresh database
`chamyeo_bench_results`.) Two citywide portals are provisioned through the real steps; in each
a cycle gets 200 projects in its citywide envelope, goes to voting, takes ballots on the real
voting path (`do_vote`, on site), is counted by the real counting path (MES with add1
completion, the template's rule), published and moved to execution monitoring:

  results200    project costs 0.5-3 % of the envelope's budget, 200 knapsack ballots of random
                projects spending 50-100 % of it: some funded, most not, each with its reason
  execution200  project costs 0.45 % each (all 200 fit), 20 ballots of all 200: all funded,
                so 200 execution items, each with two milestones and two dated updates

Measured in one process through Flask's test client (routing, tenant resolution, the service,
rendering), cases interleaved round by round so that load drifts alike for all:
  /healthz                  the service's own check (a database and a Redis round trip)
  home of results200        the portal's home page (the current cycle, its phases)
  result page, 200 projects `GET /t/results200/results/<cycle>/<envelope>`
  execution page, 200 items `GET /t/execution200/execution/` (page 1 of 4: 50 items a page,
                            the service reads all 200 for the cycle's summary)
It prints each page's HTML size too (the page-weight goal: ≤ 100 KB).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from benchmarks.common import fmt, fresh_database, interleaved_samples, machine, percentiles, settings_for

ACTOR = "bench"
PROJECTS = 200
SLUGS = {"results200": "11680", "execution200": "41110"}


def _advance_to(session, tenant, cycle_id: int, phase: str) -> None:
    from tenants.cycles.models import CLOSED, DRAFT
    from tenants.cycles.services import cycle_or_404, do_advance_phase

    cycle = cycle_or_404(session, cycle_id)
    order = [DRAFT, *[p.key for p in sorted(cycle.phases, key=lambda p: p.position)], CLOSED]
    while cycle.status != phase:
        following = order[order.index(cycle.status) + 1]
        cycle = do_advance_phase(session, tenant, cycle_id, to_phase=following, actor=ACTOR)


def _ballots(rng: random.Random, costs: list[int], budget: int, voters: int, *, all_of_them: bool):
    """Knapsack ballots (indexes of projects) spending 50-100 % of the budget."""
    if all_of_them:
        return [list(range(len(costs))) for _ in range(voters)]
    ballots = []
    for _ in range(voters):
        order = rng.sample(range(len(costs)), len(costs))
        target, spent, picked = rng.uniform(0.5, 1.0) * budget, 0, []
        for i in order:
            if spent >= target:
                break
            if spent + costs[i] <= budget:
                picked.append(i)
                spent += costs[i]
        ballots.append(picked)
    return ballots


def _portal(engine, settings, slug: str, region: str, rng: random.Random) -> tuple[int, str]:
    """Provision `slug` and carry its cycle of 200 projects to execution; return the cycle id
    and the envelope's key."""
    from provisioning.lifecycle import do_register_tenant
    from provisioning.runner import run_provisioning
    from saas.core.registry.models import Tenant
    from saas.core.tenancy.binding import open_autocommit_connection, session_without_tenant, tenant_session
    from saas.core.tenancy.context import TenantRef
    from tenants.cycles.services import do_create_cycle
    from tenants.execution.services import do_add_milestone, do_post_update, items_of_cycle
    from tenants.portal.models import Category
    from tenants.proposals.services import do_add_project
    from tenants.results.services import do_count, do_publish
    from tenants.voting.services import do_vote, identity_document_key

    with session_without_tenant(engine) as session:
        do_register_tenant(
            session,
            slug=slug,
            region_code=region,
            template="citywide",
            platform_domain="chamyeo.localhost",
            actor=ACTOR,
        )
    assert run_provisioning(engine, slug).status.value == "active"
    with session_without_tenant(engine) as session:
        ref = TenantRef.of(session.scalars(select(Tenant).where(Tenant.slug == slug)).one())
    every = slug == "execution200"
    with tenant_session(engine, slug) as session:
        cycle = do_create_cycle(
            session,
            ref,
            name_ko="2026 주민참여예산",
            name_en="2026 PB",
            fiscal_year=2026,
            starts_on=date(2026, 3, 1),
            total_budget=2_000_000_000,
            actor=ACTOR,
        )
        cycle_id = cycle.id
        envelope = next(e for e in cycle.envelopes if e.scope == "citywide")
        key, budget = envelope.key, envelope.budget
        categories = list(session.scalars(select(Category.key)))
        projects = []
        for n in range(PROJECTS):
            share = 0.0045 if every else rng.uniform(0.005, 0.03)
            projects.append(
                do_add_project(
                    session,
                    ref,
                    cycle_id,
                    {
                        "envelope": key,
                        "code": f"C{n + 1:03d}",
                        "title_ko": f"{n + 1}번 사업: 마을 쉼터와 그늘막, 보행로 정비",
                        "title_en": f"Project {n + 1}: a shelter, shade and a better footpath",
                        "category_key": categories[n % len(categories)],
                        "cost": int(budget * share),
                    },
                    proposal_id=None,
                    actor=ACTOR,
                )
            )
        ids, costs = [p.id for p in projects], [p.cost for p in projects]
        _advance_to(session, ref, cycle_id, "voting")
        connection = open_autocommit_connection(engine, slug)
        try:
            for voter, ballot in enumerate(
                _ballots(rng, costs, budget, 20 if every else 200, all_of_them=every)
            ):
                do_vote(
                    connection,
                    cycle_id,
                    person_key=identity_document_key(settings.voter_key_secret, f"BENCH-{slug}-{voter}"),
                    channel="onsite",
                    voter={"basis": "resident", "birth_year": 1950 + voter % 50, "district_code": None},
                    choices=[{"project_id": ids[i], "value": 1} for i in ballot],
                    marked_by=ACTOR,
                )
        finally:
            connection.close()
        _advance_to(session, ref, cycle_id, "results")
        do_count(session, ref, cycle_id, actor=ACTOR)
        do_publish(session, ref, cycle_id, actor=ACTOR)
        _advance_to(session, ref, cycle_id, "execution_monitoring")
        if every:
            started = date(2026, 9, 1)
            for n, (item, project) in enumerate(items_of_cycle(session, cycle_id)):
                for title_ko, title_en, due, done in (
                    ("설계와 주민 설명회", "Design and residents' briefing", 20, True),
                    ("착공", "Works begin", 60, n % 2 == 0),
                ):
                    do_add_milestone(
                        session,
                        ref,
                        cycle_id,
                        item.id,
                        {
                            "title_ko": title_ko,
                            "title_en": title_en,
                            "due_on": started + timedelta(days=due),
                            "done_on": started + timedelta(days=due) if done else None,
                        },
                        actor=ACTOR,
                    )
                for days, pct in ((25, 20), (70, 40 + n % 60)):
                    do_post_update(
                        session,
                        ref,
                        cycle_id,
                        item.id,
                        {
                            "posted_on": started + timedelta(days=days),
                            "body_ko": "계획대로 진행 중입니다.",
                            "body_en": "On schedule.",
                            "progress_pct": pct,
                            "spent": project.cost * pct // 100,
                            "status": "in_progress",
                        },
                        actor=ACTOR,
                    )
        funded = len(items_of_cycle(session, cycle_id))
    print(f"{slug}: {PROJECTS} projects, {funded} funded (execution items)")
    return cycle_id, key


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()

    from dataclasses import replace

    from migrations.runner import upgrade_control
    from saas.app import create_app
    from saas.core.db import Database

    url = fresh_database("chamyeo_bench_results")
    settings = replace(settings_for(url), voter_key_secret="bench")
    database = Database()
    database.configure(settings)
    engine = database.engine
    upgrade_control(engine)
    rng = random.Random(2026)
    portals = {slug: _portal(engine, settings, slug, region, rng) for slug, region in SLUGS.items()}

    app = create_app(settings)
    client = app.test_client()
    sizes: dict[str, int] = {}

    def get(name: str, path: str) -> Callable[[], Any]:
        def run() -> Any:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            sizes[name] = len(response.get_data())
            return response

        return run

    cycle_id, envelope = portals["results200"]
    cases = {
        "baseline: /healthz": get("healthz", "/healthz"),
        "baseline: home page": get("home", "/t/results200/"),
        "result page, 200 projects": get("result", f"/t/results200/results/{cycle_id}/{envelope}"),
        "execution page, 200 items": get("execution", "/t/execution200/execution/"),
    }
    samples = interleaved_samples(cases, args.samples)

    print(machine())
    print(f"{args.samples} rounds, cases interleaved per round; through pages (Flask test client)")
    bases = {name: percentiles(values) for name, values in samples.items() if name.startswith("baseline")}
    for name, values in samples.items():
        p = percentiles(values)
        ratios = ", ".join(f"{p['p95'] / b['p95']:.2f}× {base.split(': ')[1]}" for base, b in bases.items())
        print(f"  {name:30s} {fmt(p)}  p95 ratio {ratios}")
    print("HTML bytes: " + ", ".join(f"{name} {size:,}" for name, size in sizes.items()))
    database.dispose()


if __name__ == "__main__":
    main()
