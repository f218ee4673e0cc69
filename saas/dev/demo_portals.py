"""Something to look at in each demo portal: last year's cycle counted, published and being
carried out, and this year's cycle in voting with proposals and ballot projects.

Everything goes through the PB domain's named actions (the same the API calls): phases open
one after another, ballots are cast on the real voting path (on-site check-ins, online votes,
paper ballots issued at check-in and entered in a batch by two clerks), results are counted by
the real counting path and published, which opens the execution items, and each funded project
gets dated milestones and progress reports. Seeded
once per portal: a cycle that exists (by its demo name) is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.settings import Settings

ACTOR = "demo"
# Last year's voters by channel: on site (an officer checks them in and enters the ballot),
# online, and on paper (numbered ballots handed out at check-in, entered later in a batch by
# two clerks): the results page shows turnout by channel.
PAST_CHANNELS = (("onsite", 22), ("online", 12), ("paper", 6))
PAPER_CLERKS = ("account:demo-clerk-1", "account:demo-clerk-2")  # the two entries of a batch
TOTAL_BUDGET = 2_000_000_000
# Shares of an envelope's budget, one per project of last year's ballot: a knapsack ballot of
# two to four of them spends 55-90 % of the budget; an approval count funds some, not all.
PAST_SHARES = (0.40, 0.30, 0.25, 0.20, 0.15, 0.10)
# This year's ballot: four projects (three from proposals).
SHARES = (0.45, 0.35, 0.25, 0.15)
PROJECT_TITLES = (
    ("어린이 놀이터 새단장", "A new look for the children's playground"),
    ("골목길 안심 조명", "Safe lighting for back alleys"),
    ("공원 그늘막과 벤치", "Shade and benches in the park"),
    ("마을 공유 텃밭", "A shared neighbourhood garden"),
    ("경로당 냉난방 개선", "Heating and cooling for the seniors' centre"),
    ("동네 책방 쉼터", "A reading corner in the neighbourhood"),
)
PROPOSALS = (
    ("버스 정류장 온열 의자", "Heated seats at the bus stops", "겨울철 버스를 기다리는 어르신을 위해"),
    ("하천 산책로 정비", "A better riverside path", "산책로 포장과 안내판을 새로 합니다"),
    ("도서관 야간 개방", "The library open in the evening", "평일 밤 10시까지 열람실을 엽니다"),
    ("청소년 자율 공간", "A space run by teenagers", "방과 후 모일 곳을 만듭니다"),
)
# Ballots over the projects of PAST_SHARES, one pattern per voter in turn: each a valid
# knapsack ballot (55-90 % of the budget, so the rounding of costs never takes one under half)
# and, cut to k, a valid approval ballot. The playground (0) is wanted by many; the lighting (1)
# and the seniors' centre (4) by a steady group; the garden (3) and the reading corner (5) by
# few: under MES a large group gets its share, under greedy the most voted go first.
PAST_BALLOTS = (
    (0, 1),
    (0, 2),
    (1, 4, 5),
    (0, 3, 5),
    (1, 2, 4),
    (0, 2),
    (1, 4, 5),
    (0, 1, 4),
    (2, 3, 4),
    (0, 2, 5),
)
# Last year's execution, by funded project in turn: (status, progress %, spend as % of budget).
PAST_PROGRESS = (
    ("completed", 100, 97),
    ("in_progress", 60, 55),
    ("delayed", 30, 35),
    ("in_progress", 80, 70),
    ("planned", 0, 0),
)


def _names(year: int) -> tuple[str, str]:
    return f"{year} 주민참여예산 (데모)", f"{year} participatory budget (demo)"


def seed_demo_portals(
    engine: Engine, settings: Settings, slugs: list[str], *, echo: Callable[[str], None]
) -> None:
    """Seed each active portal of `slugs` that lacks them with the two demo cycles."""
    from saas.core.registry.models import Tenant, TenantStatus
    from saas.core.tenancy.binding import tenant_session
    from saas.core.tenancy.context import TenantRef

    year = clock.today().year
    for slug in slugs:
        with tenant_session(engine, slug) as session:
            tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
            if tenant is None or tenant.status != TenantStatus.ACTIVE:
                continue
            ref = TenantRef.of(tenant)
            if _cycle_named(session, year - 1) is None:
                _past_cycle(engine, session, settings, ref, year - 1)
                echo(f"demo: t_{slug} has a {year - 1} cycle counted, published and in execution")
            if _cycle_named(session, year) is None:
                _cycle_in_voting(session, ref, year)
                echo(f"demo: t_{slug} has a {year} cycle in voting")


def _cycle_named(session: Session, year: int) -> int | None:
    from tenants.cycles.models import Cycle

    name_ko, _ = _names(year)
    return session.scalar(select(Cycle.id).where(Cycle.name_ko == name_ko))


def _create(session: Session, tenant: Any, year: int, starts_on: date) -> Any:
    from tenants.cycles.services import do_create_cycle

    name_ko, name_en = _names(year)
    return do_create_cycle(
        session,
        tenant,
        name_ko=name_ko,
        name_en=name_en,
        fiscal_year=year,
        starts_on=starts_on,
        total_budget=TOTAL_BUDGET,
        actor=ACTOR,
    )


def _advance_to(session: Session, tenant: Any, cycle_id: int, phase: str) -> None:
    """Open the phases one after another until `phase` is open."""
    from tenants.cycles.models import CLOSED, DRAFT
    from tenants.cycles.services import cycle_or_404, do_advance_phase

    cycle = cycle_or_404(session, cycle_id)
    order = [DRAFT, *[p.key for p in sorted(cycle.phases, key=lambda p: p.position)], CLOSED]
    while cycle.status != phase:
        following = order[order.index(cycle.status) + 1]
        cycle = do_advance_phase(session, tenant, cycle_id, to_phase=following, actor=ACTOR)


def _ballot_envelopes(cycle: Any) -> list[Any]:
    """The envelopes that get projects: the citywide one (where the template has it) and the
    first dong's."""
    envelopes = sorted(cycle.envelopes, key=lambda e: e.id)
    citywide = [e for e in envelopes if e.scope == "citywide"][:1]
    dong = [e for e in envelopes if e.scope == "dong"][:1]
    return citywide + dong


def _category(session: Session) -> str:
    from tenants.portal.models import Category

    return session.execute(select(Category.key).order_by(Category.position).limit(1)).scalar_one()


def _add_projects(session: Session, tenant: Any, cycle: Any, prefix: str) -> dict[int, list[Any]]:
    from tenants.proposals.services import do_add_project

    category = _category(session)
    added: dict[int, list[Any]] = {}
    for n, envelope in enumerate(_ballot_envelopes(cycle)):
        for i, share in enumerate(PAST_SHARES):
            title_ko, title_en = PROJECT_TITLES[i]
            project = do_add_project(
                session,
                tenant,
                cycle.id,
                {
                    "envelope": envelope.key,
                    "code": f"{prefix}{n + 1}{chr(ord('A') + i)}",
                    "title_ko": f"{title_ko} ({envelope.name_ko})",
                    "title_en": f"{title_en} ({envelope.name_en})",
                    "category_key": category,
                    "cost": max(int(envelope.budget * share), 1),
                },
                proposal_id=None,
                actor=ACTOR,
            )
            added.setdefault(envelope.id, []).append(project)
    return added


def _choices(rules: dict[str, Any], projects: list[Any], voter: int) -> list[dict[str, Any]]:
    kind = rules["type"]
    picked: tuple[int, ...] = PAST_BALLOTS[voter % len(PAST_BALLOTS)]
    if kind == "approval":
        picked = picked[: rules["k"]]
    elif kind not in ("knapsack", "approval"):  # cumulative or ranked: one project, one point or rank 1
        picked = (voter % len(projects),)
    return [{"project_id": projects[i].id, "value": 1} for i in picked]


def _past_votes(
    engine: Engine, session: Session, settings: Settings, tenant: Any, cycle: Any, projects: dict
) -> None:
    """Last year's ballots on every channel, through the voting path: check-ins on site and on
    paper, votes online, and a paper batch entered twice and reconciled."""
    from saas.core.tenancy.binding import open_autocommit_connection
    from tenants.voting.services import (
        do_enter_batch,
        do_open_batch,
        do_reconcile_batch,
        do_vote,
        identity_document_key,
    )

    rules = cycle.ballot
    dong = next((e for e in cycle.envelopes if e.scope == "dong" and e.id in projects), None)
    paper: list[tuple[int, list[dict[str, Any]]]] = []
    connection = open_autocommit_connection(engine, tenant.slug)
    try:
        voter = 0
        for channel, how_many in PAST_CHANNELS:
            for _ in range(how_many):
                document = f"DEMO-{tenant.slug}-{cycle.fiscal_year}-{voter}"  # an ID number shown
                choices = [
                    choice
                    for envelope_id in projects
                    for choice in _choices(rules, projects[envelope_id], voter)
                ]
                number = len(paper) + 1 if channel == "paper" else None
                do_vote(
                    connection,
                    cycle.id,
                    person_key=identity_document_key(settings.voter_key_secret, document),
                    channel=channel,
                    voter={
                        "basis": "resident",
                        "birth_year": 1950 + voter % 50,
                        "district_code": dong.area_code if dong is not None else None,
                    },
                    choices=None if number else choices,
                    marked_by=ACTOR,
                    paper_ballot=number,
                )
                if number:
                    paper.append((number, choices))
                voter += 1
    finally:
        connection.close()
    if not paper:
        return
    batch = do_open_batch(
        session, tenant, cycle.id, number=1, first_ballot=1, last_ballot=len(paper), actor=ACTOR
    )
    entries = [{"ballot_number": n, "choices": choices} for n, choices in paper]
    for round_, clerk in enumerate(PAPER_CLERKS, 1):
        do_enter_batch(
            session, tenant, cycle.id, batch.id, round_=round_, entries=entries, actor=ACTOR, person=clerk
        )
    done = do_reconcile_batch(session, tenant, cycle.id, batch.id, actor=ACTOR)
    if done["counted"] != len(paper):  # the demo's own ballots: a refusal here is a bug
        raise RuntimeError(f"demo paper batch: {done}")


def _past_cycle(engine: Engine, session: Session, settings: Settings, tenant: Any, year: int) -> None:
    from tenants.cycles.services import cycle_or_404
    from tenants.results.services import do_count, do_publish

    cycle = _create(session, tenant, year, date(year, 3, 1))
    projects = _add_projects(session, tenant, cycle, "P")
    _advance_to(session, tenant, cycle.id, "voting")
    _past_votes(engine, session, settings, tenant, cycle_or_404(session, cycle.id), projects)
    _advance_to(session, tenant, cycle.id, "results")
    do_count(session, tenant, cycle.id, actor=ACTOR)
    do_publish(session, tenant, cycle.id, actor=ACTOR)
    _advance_to(session, tenant, cycle.id, "execution_monitoring")
    _past_execution(session, tenant, cycle_or_404(session, cycle.id))


def _past_execution(session: Session, tenant: Any, cycle: Any) -> None:
    """Milestones and dated progress reports for every funded project, from the day the
    execution phase opened to today."""
    from tenants.execution.services import do_add_milestone, do_post_update, items_of_cycle

    today = clock.today()
    phase = next(p for p in cycle.phases if p.key == "execution_monitoring")
    began = min(phase.starts_on, today)
    span = max((today - began).days, 3)

    def day(share: float) -> date:
        return min(began + timedelta(days=int(span * share)), today)

    for n, (item, project) in enumerate(items_of_cycle(session, cycle.id)):
        status, progress, spend = PAST_PROGRESS[n % len(PAST_PROGRESS)]
        steps = (
            ("설계와 주민 설명회", "Design and residents' briefing", day(0.15), 10),
            ("착공", "Works begin", day(0.4), 30),
            ("공사 완료와 개방", "Works complete, open to all", day(0.95) if progress == 100 else None, 100),
        )
        for title_ko, title_en, due_on, done_at in steps:
            done_on = due_on if due_on is not None and progress >= done_at else None
            if done_on is None:  # not reached yet: due in a month (a delayed one is overdue)
                due_on = today + timedelta(days=-20 if status == "delayed" else 30)
            do_add_milestone(
                session,
                tenant,
                cycle.id,
                item.id,
                {
                    "title_ko": title_ko,
                    "title_en": title_en,
                    "due_on": due_on,
                    "done_on": done_on,
                },
                actor=ACTOR,
            )
        reports = [
            (0.2, progress // 3, spend // 3),
            (0.6, progress * 2 // 3, spend * 2 // 3),
            (1.0, progress, spend),
        ]
        for i, (when, pct, spent_pct) in enumerate(reports):
            if progress == 0 and i < 2:
                continue  # not started: one report, that it is planned
            last = i == len(reports) - 1
            body_ko, body_en = _report(status if last else "in_progress")
            do_post_update(
                session,
                tenant,
                cycle.id,
                item.id,
                {
                    "posted_on": day(when),
                    "body_ko": body_ko,
                    "body_en": body_en,
                    "progress_pct": pct,
                    "spent": project.cost * spent_pct // 100,
                    "status": status if last else ("in_progress" if pct else "planned"),
                },
                actor=ACTOR,
            )


def _report(status: str) -> tuple[str, str]:
    """A progress report's text (the page shows its progress and spend beside it)."""
    if status == "completed":
        return "공사를 마치고 주민에게 개방했습니다.", "Works are finished and the site is open to all."
    if status == "delayed":
        return (
            "자재 공급이 늦어져 일정이 한 달가량 밀렸습니다.",
            "Materials arrived late: about a month behind schedule.",
        )
    if status == "planned":
        return "업체 선정 절차를 진행하고 있습니다.", "The contractor is being selected."
    return "계획대로 진행 중입니다.", "On schedule."


def _cycle_in_voting(session: Session, tenant: Any, year: int) -> None:
    from tenants.cycles.services import cycle_or_404
    from tenants.proposals.services import do_add_project, do_review, do_submit_proposal

    cycle = _create(session, tenant, year, clock.today() - timedelta(days=120))
    _advance_to(session, tenant, cycle.id, "proposal_intake")
    category = _category(session)
    envelope = _ballot_envelopes(cycle_or_404(session, cycle.id))[0]
    proposals = [
        do_submit_proposal(
            session,
            tenant,
            cycle.id,
            {
                "title": title_ko,
                "description": f"{description} ({title_en})",
                "category_key": category,
                "district_code": envelope.area_code if envelope.scope == "dong" else None,
                "estimated_cost": int(envelope.budget * SHARES[i]),
            },
            proposer=f"demo:resident-{i + 1}",
            channel="online",
            entered_by=None,
            actor=ACTOR,
        ).id
        for i, (title_ko, title_en, description) in enumerate(PROPOSALS)
    ]
    _advance_to(session, tenant, cycle.id, "feasibility_review")
    for i, proposal_id in enumerate(proposals):
        do_review(
            session,
            tenant,
            cycle.id,
            proposal_id,
            {
                "legal_ok": True,
                "cost_estimate": int(envelope.budget * SHARES[i]),
                "feasible": i < 3,  # one proposal is found infeasible, with its reason
                "reason": "검토 결과 추진 가능" if i < 3 else "시 소유 부지가 아니어서 추진할 수 없음",
            },
            actor=ACTOR,
        )
    for i, proposal_id in enumerate(proposals[:3]):
        do_add_project(
            session,
            tenant,
            cycle.id,
            {"envelope": envelope.key, "code": f"V{i + 1}"},
            proposal_id=proposal_id,
            actor=ACTOR,
        )
    do_add_project(
        session,
        tenant,
        cycle.id,
        {
            "envelope": envelope.key,
            "code": "V4",
            "title_ko": PROJECT_TITLES[3][0],
            "title_en": PROJECT_TITLES[3][1],
            "category_key": category,
            "cost": int(envelope.budget * SHARES[3]),
        },
        proposal_id=None,
        actor=ACTOR,
    )
    _advance_to(session, tenant, cycle.id, "voting")
