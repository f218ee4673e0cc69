"""Published results as residents read them: every project's reason from the counting record,
turnout by channel against the official eligible population, the pabulib file, and the
execution overview. Nothing is shown before publication."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from saas.core.registry.models import Tenant
from saas.core.tenancy.binding import tenant_session
from saas.core.tenancy.context import TenantRef
from saas.regions import population_by_age_sex
from tenants.results import published
from tenants.results.turnout import eligible_population

DONG = "4111156000"  # 파장동, 수원시 장안구
ADULT = {"basis": "resident", "birth_year": 1980, "district_code": DONG}


def _cast(cycle, app, ballots, channel="onsite"):
    client = app.test_client()
    for i, project_ids in enumerate(ballots):
        response = client.post(
            f"{cycle.url}/check-ins",
            headers=cycle.tenant.auth("officer"),
            json={
                **ADULT,
                "identity_document": f"ID-{channel}-{i:06d}",
                "channel": channel,
                "choices": [{"project_id": p} for p in project_ids],
            },
        )
        assert response.status_code == 201, response.get_json()


def _service(engine, slug, call):
    with tenant_session(engine, slug) as session:
        tenant = TenantRef.of(session.scalar(select(Tenant).where(Tenant.slug == slug)))
        return call(session, tenant)


@pytest.fixture
def greedy_cycle(new_cycle, app):
    """Approval (k=3), greedy; dong budget 22,727,272 won; votes A 3, C 3, B 2, D 1."""
    cycle = new_cycle(template="neighbourhood", region="41110")
    envelope = f"dong-{DONG}"
    ids = {
        code: cycle.add_project(code, cost, envelope)["id"]
        for code, cost in (("A", 12_000_000), ("B", 9_000_000), ("C", 8_000_000), ("D", 2_000_000))
    }
    cycle.advance_to("voting")
    a, b, c, d = ids["A"], ids["B"], ids["C"], ids["D"]
    _cast(cycle, app, [[a, b], [a, c], [a, d], [b, c], [c]])
    cycle.advance("results")
    cycle.client.post(f"{cycle.url}/results", headers=cycle.tenant.auth("staff"))
    cycle.envelope_key = envelope
    return cycle


def _publish(cycle):
    response = cycle.client.post(f"{cycle.url}/results/publish", headers=cycle.tenant.auth("tenant_admin"))
    assert response.status_code == 200


def test_before_publication_an_envelope_is_pending_and_carries_no_count(greedy_cycle, engine):
    shown = _service(
        engine,
        greedy_cycle.tenant.slug,
        lambda s, t: published.envelope_result(s, t, greedy_cycle.id, greedy_cycle.envelope_key),
    )
    assert isinstance(shown, published.PendingResult) and not shown.published
    assert not hasattr(shown, "projects") and not hasattr(shown, "turnout")
    assert _service(engine, greedy_cycle.tenant.slug, published.published_cycles) == []
    from saas.core.refusals import NotFound

    with pytest.raises(NotFound):
        _service(
            engine,
            greedy_cycle.tenant.slug,
            lambda s, t: published.published_pabulib(s, t, greedy_cycle.id, greedy_cycle.envelope_key),
        )


def test_greedy_reasons_say_what_was_left_when_each_project_came_up(greedy_cycle, engine):
    _publish(greedy_cycle)
    shown = _service(
        engine,
        greedy_cycle.tenant.slug,
        lambda s, t: published.envelope_result(s, t, greedy_cycle.id, greedy_cycle.envelope_key),
    )
    assert isinstance(shown, published.EnvelopeResult)
    rows = {p.code: p for p in shown.projects}
    # Funded first in the counting order (C and A tie on 3 votes; the cheaper C first), then D.
    assert [p.code for p in shown.projects] == ["C", "A", "D", "B"]
    assert {c: (r.votes, r.funded) for c, r in rows.items()} == {
        "A": (3, True),
        "B": (2, False),
        "C": (3, True),
        "D": (1, True),
    }
    budget = 22_727_272
    assert shown.envelope.budget == budget and shown.total_cost == 22_000_000 and shown.left == 727_272
    assert rows["C"].reason == published.Reason(
        published.GREEDY_FUNDED, {"rank": 1, "cost": 8_000_000, "budget_left": budget}
    )
    assert rows["A"].reason.facts["budget_left"] == budget - 8_000_000
    # B's turn came third: 2,727,272 left, it costs 9,000,000.
    assert rows["B"].reason == published.Reason(
        published.GREEDY_SKIPPED, {"rank": 3, "cost": 9_000_000, "budget_left": 2_727_272}
    )
    assert rows["D"].reason.kind == published.GREEDY_FUNDED and rows["D"].reason.facts["rank"] == 4
    # A and C tie on 3 votes (the cheaper C went first); B and D have votes of their own.
    assert {c: r.ties for c, r in rows.items()} == {"A": 1, "B": 0, "C": 1, "D": 0}
    assert shown.rule.rule == "greedy" and shown.rule.measure == "votes" and not shown.rule.weighted
    assert shown.recount.command.startswith(f"chamyeo count {shown.recount.filename} --rule greedy")
    assert "greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat" in shown.recount.pabutools_code
    assert shown.recount.exact


def test_the_values_shown_are_the_counting_records(greedy_cycle, engine):
    _publish(greedy_cycle)
    record = next(
        r["record"]
        for r in greedy_cycle.client.get(f"{greedy_cycle.url}/results").get_json()
        if r["envelope_key"] == greedy_cycle.envelope_key
    )
    shown = _service(
        engine,
        greedy_cycle.tenant.slug,
        lambda s, t: published.envelope_result(s, t, greedy_cycle.id, greedy_cycle.envelope_key),
    )
    assert [p.code for p in shown.funded] == record["order"]
    assert sorted(p.code for p in shown.funded) == record["selected"]
    assert shown.voters == record["voters"] == 5 and shown.total_cost == record["total_cost"]
    assert shown.result_hash == record["result_hash"] and shown.input_hash == record["input_hash"]
    for project in shown.projects:
        assert project.funded == (record["reasons"][project.code]["status"] == "selected")
        if "budget_left" in record["reasons"][project.code]:
            assert project.reason.facts["budget_left"] == record["reasons"][project.code]["budget_left"]


def test_turnout_is_by_channel_against_the_dongs_residents_of_voting_age(greedy_cycle, engine, app):
    _publish(greedy_cycle)
    shown = _service(
        engine,
        greedy_cycle.tenant.slug,
        lambda s, t: published.envelope_result(s, t, greedy_cycle.id, greedy_cycle.envelope_key),
    )
    turnout = shown.turnout
    assert [(c.channel, c.voters) for c in turnout.by_channel] == [("online", 0), ("onsite", 5), ("paper", 0)]
    assert turnout.voters == 5
    profile = population_by_age_sex(DONG)
    sixteen_and_over = sum(b.total for b in profile.bands if b.min_age >= 20) + sum(
        b.total * 4 / 5 for b in profile.bands if b.min_age == 15
    )
    assert turnout.eligible is not None and turnout.eligible.min_age == 16
    assert turnout.eligible.count == round(sixteen_and_over) and turnout.eligible.estimated
    assert turnout.eligible.count < profile.total
    assert turnout.rate == pytest.approx(5 / turnout.eligible.count)
    cycles = _service(engine, greedy_cycle.tenant.slug, published.published_cycles)
    assert [c.cycle.id for c in cycles] == [greedy_cycle.id]
    # The cycle's turnout is against the whole municipality (수원시).
    assert cycles[0].turnout.voters == 5 and cycles[0].turnout.eligible.area_code == "4111000000"
    summary = next(e for e in cycles[0].envelopes if e.envelope.key == greedy_cycle.envelope_key)
    assert (summary.voters, summary.funded, summary.projects) == (5, 3, 4)


def test_eligible_population_counts_whole_bands_exactly_and_cut_bands_by_their_years():
    profile = population_by_age_sex("1168000000")
    whole = eligible_population("1168000000", 20, 64)
    assert whole.count == sum(b.total for b in profile.bands if 20 <= b.min_age <= 60)
    assert not whole.estimated
    everyone = eligible_population("1168000000", 0, None)
    assert everyone.count == profile.total and not everyone.estimated
    cut = eligible_population("1168000000", 18, None)
    band = next(b for b in profile.bands if b.min_age == 15)
    assert cut.estimated and cut.count == round(
        everyone.count - sum(b.total for b in profile.bands if b.min_age < 15) - band.total * 3 / 5
    )
    assert eligible_population(None, 16, None) is None
    assert eligible_population("9999999999", 16, None) is None  # no such area: no figure


def _recounted_with_pabutools(shown, text, tmp_path, monkeypatch) -> list[str]:
    """Run the page's pabutools script on the downloaded file, as a resident would."""
    import contextlib
    import io

    (tmp_path / shown.recount.filename).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(shown.recount.pabutools_code, "recount.py", "exec"), {})  # noqa: S102 - our own script
    return eval(out.getvalue())  # noqa: S307 - a printed list of strings


def test_the_recount_script_gives_the_published_outcome(greedy_cycle, engine, tmp_path, monkeypatch):
    _publish(greedy_cycle)
    key = greedy_cycle.envelope_key
    shown = _service(
        engine, greedy_cycle.tenant.slug, lambda s, t: published.envelope_result(s, t, greedy_cycle.id, key)
    )
    _, text = _service(
        engine, greedy_cycle.tenant.slug, lambda s, t: published.published_pabulib(s, t, greedy_cycle.id, key)
    )
    # pabutools breaks the A/C tie by id, not by cost: the funded set is the same here.
    assert _recounted_with_pabutools(shown, text, tmp_path, monkeypatch) == sorted(
        p.code for p in shown.funded
    )


def test_the_pabulib_download_is_the_exports_very_text(greedy_cycle, engine):
    _publish(greedy_cycle)
    name, text = _service(
        engine,
        greedy_cycle.tenant.slug,
        lambda s, t: published.published_pabulib(s, t, greedy_cycle.id, greedy_cycle.envelope_key),
    )
    exported = greedy_cycle.client.get(f"{greedy_cycle.url}/pabulib?envelope={greedy_cycle.envelope_key}")
    assert exported.status_code == 200
    assert text.encode() == exported.get_data()
    assert name in exported.headers["Content-Disposition"]


def test_mes_reasons_say_whether_the_supporters_shares_could_pay(
    new_cycle, app, engine, tmp_path, monkeypatch
):
    """Citywide template: knapsack, MES with add1 and a greedy fill. Budget 40,000 (40 % of
    100,000); four voters, each an equal share. A big project wanted by one voter
    only cannot be paid from one share; projects wanted by several can."""
    # A small budget: pabutools raises the shares one won at a time (add1), which takes minutes
    # on hundreds of millions.
    cycle = new_cycle(template="citywide", total_budget=100_000)
    budget = cycle.envelope("citywide")["budget"]
    costs = {
        "A": budget * 30 // 100,
        "B": budget * 25 // 100,
        "C": budget * 20 // 100,
        "D": budget * 60 // 100,
    }
    ids = {code: cycle.add_project(code, cost, "citywide")["id"] for code, cost in costs.items()}
    cycle.advance_to("voting")
    a, b, c, d = ids["A"], ids["B"], ids["C"], ids["D"]
    _cast(cycle, app, [[a, b], [a, c], [a, b, c], [d]])
    cycle.advance("results")
    cycle.client.post(f"{cycle.url}/results", headers=cycle.tenant.auth("staff"))
    _publish(cycle)
    shown = _service(
        engine, cycle.tenant.slug, lambda s, t: published.envelope_result(s, t, cycle.id, "citywide")
    )
    rows = {p.code: p for p in shown.projects}
    assert shown.rule.rule == "mes" and shown.rule.completion == "add1" and shown.rule.fill
    assert shown.rule.starting_share == budget // 4
    assert rows["A"].funded and rows["A"].reason.kind == published.MES_FUNDED
    assert rows["A"].reason.facts["round"] == 1
    # Three supporters paid A's cost between them: none paid more than a third, rounded up.
    per = rows["A"].reason.facts["per_supporter"]
    assert per * 3 >= costs["A"] and per <= -(-costs["A"] // 3) + 1
    assert not rows["D"].funded and rows["D"].reason.kind == published.MES_SHORT
    assert rows["D"].fewer_votes_funded is None  # D's one vote: no funded project had fewer
    facts = rows["D"].reason.facts
    assert facts["cost"] == costs["D"] and facts["supporters_money"] < costs["D"]
    assert facts["fill_left"] == shown.left and shown.left < costs["D"]
    for project in shown.projects:
        assert project.reason.kind != published.UNEXPLAINED, project
    assert "--rule mes --sat cost --completion add1 --fill greedy" in shown.recount.command
    _, text = _service(
        engine, cycle.tenant.slug, lambda s, t: published.published_pabulib(s, t, cycle.id, "citywide")
    )
    assert _recounted_with_pabutools(shown, text, tmp_path, monkeypatch) == sorted(
        p.code for p in shown.funded
    )


def test_a_cycle_or_envelope_the_tenant_does_not_have_is_not_found(greedy_cycle, engine):
    from saas.core.refusals import NotFound

    for cycle_id, key in ((greedy_cycle.id, "no-such-envelope"), (10**9, greedy_cycle.envelope_key)):
        with pytest.raises(NotFound):
            _service(
                engine,
                greedy_cycle.tenant.slug,
                lambda s, t, c=cycle_id, k=key: published.envelope_result(s, t, c, k),
            )


def test_execution_overview_lists_funded_projects_with_milestones_and_dated_updates(greedy_cycle, engine):
    from tenants.execution.services import execution_overview

    _publish(greedy_cycle)
    client, auth, url = greedy_cycle.client, greedy_cycle.tenant.auth, greedy_cycle.url
    items = {i["project"]["code"]: i for i in client.get(f"{url}/execution").get_json()}
    item = items["C"]["id"]
    from datetime import timedelta

    from saas.core import clock

    late, later = clock.today() - timedelta(days=1), clock.today() + timedelta(days=365)
    for due in (later, late):
        added = client.post(
            f"{url}/execution/{item}/milestones",
            headers=auth("staff"),
            json={"title_ko": f"단계 {due}", "title_en": f"Step {due}", "due_on": due.isoformat()},
        )
        assert added.status_code == 201
    for day, pct, spent in (("2027-09-15", 30, 2_000_000), ("2027-10-15", 55, 4_400_000)):
        response = client.post(
            f"{url}/execution/{item}/updates",
            headers=auth("staff"),
            json={
                "posted_on": day,
                "body_ko": f"{pct}%",
                "body_en": f"{pct}%",
                "progress_pct": pct,
                "spent": spent,
            },
        )
        assert response.status_code == 201
    cycles = _service(engine, greedy_cycle.tenant.slug, lambda s, t: execution_overview(s))
    assert [c.cycle_id for c in cycles] == [greedy_cycle.id]
    shown = {i.code: i for i in cycles[0].items}
    assert set(shown) == {"A", "C", "D"}
    c = shown["C"]
    assert (c.status, c.progress_pct, c.spent, c.budget, c.spent_pct) == (
        "in_progress",
        55,
        4_400_000,
        8_000_000,
        55,
    )
    assert [m.due_on for m in c.milestones] == [late, later]
    assert c.overdue == frozenset({c.milestones[0].id})  # past its date, not done
    assert [str(u.posted_on) for u in c.updates] == ["2027-10-15", "2027-09-15"]
    assert cycles[0].budget == 22_000_000 and cycles[0].spent == 4_400_000


def test_the_demo_portals_results_and_execution_are_worth_reading(engine, settings, make_tenant):
    """What `make up` shows: last year's result with several projects per envelope, some funded
    and some not, reasons from MES (citywide template) and greedy (neighbourhood), ballots on
    every channel, and funded projects with dated milestones and updates."""
    from dataclasses import replace

    from saas.dev.demo_portals import seed_demo_portals
    from tenants.execution.services import execution_overview

    citywide, neighbourhood = make_tenant(template="citywide"), make_tenant(template="neighbourhood")
    seed_demo_portals(
        engine, replace(settings, voter_key_secret="demo"), [citywide.slug, neighbourhood.slug], echo=print
    )
    kinds = set()
    for tenant, rule in ((citywide, "mes"), (neighbourhood, "greedy")):
        cycles = _service(engine, tenant.slug, published.published_cycles)
        assert len(cycles) == 1
        turnout = cycles[0].turnout
        assert all(c.voters > 0 for c in turnout.by_channel if c.channel in ("online", "onsite", "paper"))
        assert turnout.eligible is not None and turnout.rate is not None
        voted = [e for e in cycles[0].envelopes if e.voters]
        assert voted and all(e.projects >= 5 and 0 < e.funded < e.projects for e in voted)
        cycle_id = cycles[0].cycle.id
        for summary in voted:
            shown = _service(
                engine,
                tenant.slug,
                lambda s, t, c=cycle_id, k=summary.envelope.key: published.envelope_result(s, t, c, k),
            )
            assert shown.rule.rule == rule
            if rule == "mes":
                # The lighting (B, 20 votes) is out while the reading corner (F, 16 votes) is in:
                # the page names it as the one funded with fewer votes.
                lighting = next(p for p in shown.projects if p.code.endswith("B"))
                assert not lighting.funded and lighting.fewer_votes_funded.code.endswith("F")
            kinds |= {p.reason.kind for p in shown.projects}
        execution = _service(engine, tenant.slug, lambda s, t: execution_overview(s))
        items = [i for c in execution for i in c.items]
        assert items and len({i.status for i in items}) >= 3
        assert all(i.milestones and i.updates for i in items)
        assert any(len(i.updates) >= 3 for i in items) and any(m.done_on for i in items for m in i.milestones)
    assert {
        published.MES_FUNDED,
        published.MES_SHORT,
        published.GREEDY_FUNDED,
        published.GREEDY_SKIPPED,
    } <= kinds


def _record(rules: dict, ballots: list[tuple[str, ...]], costs: dict[str, int], budget: int, committee=None):
    """A record as the counting path writes it (tenants.results.counting), from plain ballots."""
    from fractions import Fraction

    from tenants.counting.election import APPROVAL, Ballot, Project, build_election
    from tenants.results.counting import count

    projects = [Project(code, Fraction(cost)) for code, cost in costs.items()]
    election = build_election({}, projects, Fraction(budget), APPROVAL, [Ballot(b) for b in ballots])
    return count({"onsite": election}, rules, {"onsite": 1}, seed="test", committee=committee)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            {"type": "approval", "counting": {"rule": "greedy-threshold", "threshold": 0.5}, "tie_break": []},
            # 2 votes needed (half of four voters): B has them but no longer fits; Z has none.
            {"A": published.GREEDY_FUNDED, "B": published.GREEDY_SKIPPED, "Z": published.BELOW_THRESHOLD},
        ),
        (
            {
                "type": "approval",
                "counting": {"rule": "blended", "vote_weight": 0.5, "committee_weight": 0.5},
            },
            {"A": published.BLENDED_FUNDED, "B": published.BLENDED_SKIPPED, "Z": published.BLENDED_FUNDED},
        ),
        (
            {"type": "approval", "counting": {"rule": "mes", "completion": "none", "fill": False}},
            {"A": published.MES_FUNDED, "B": published.MES_SHORT, "Z": published.NO_SUPPORTERS},
        ),
        (
            {"type": "approval", "counting": {"rule": "mes", "completion": "none", "fill": True}},
            # The greedy fill spends the 30 MES left: B (50) does not fit, Z (10) does.
            {"A": published.MES_FUNDED, "B": published.MES_SHORT, "Z": published.FILL_FUNDED},
        ),
    ],
)
def test_every_rule_the_templates_use_gets_a_reason_for_every_project(rules, expected):
    """A (70) wanted by three voters of four, B (50) by one, Z (10) by nobody; budget 100."""
    costs = {"A": 70, "B": 50, "Z": 10}
    committee = {"A": 0.2, "B": 0.1, "Z": 1.0}
    record = _record(rules, [("A",), ("A",), ("A", "B"), ("B",)], costs, 100, committee)
    kinds = {code: published.explain(record, code, costs).kind for code in costs}
    assert kinds == expected, record["reasons"]
    if rules["counting"]["rule"] == "blended":
        # Scores: A 0.5 x 1 + 0.5 x 0.2 = 0.6, Z 0.5 x 0 + 0.5 x 1 = 0.5, B 0.5 x 2/3 + 0.5 x 0.1:
        # A first with 100 left, then Z, then B with 20 left.
        assert published.explain(record, "A", costs).facts == {"rank": 1, "budget_left": 100}
        assert published.explain(record, "Z", costs).facts == {"rank": 2, "budget_left": 30}
        assert published.explain(record, "B", costs).facts == {"rank": 3, "cost": 50, "budget_left": 20}
    if rules["counting"]["rule"] == "mes":
        short = published.explain(record, "B", costs).facts
        # Four voters, 25 each: after A (its three supporters paid 70/3 each), B's two
        # supporters hold 25 - 70/3 + 25 = 26 2/3, shown rounded down.
        assert (short["supporters_money"], short["cost"]) == (26, 50)
        assert short["fill_left"] == (20 if rules["counting"]["fill"] else None)
        assert published.explain(record, "A", costs).facts["per_supporter"] == 24  # 70/3, rounded up
