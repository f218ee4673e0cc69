"""Something to look at in each demo portal: last year's cycle counted, published and being
carried out, and this year's cycle in voting with proposals and ballot projects.

Everything goes through the PB domain's named actions (the same the API calls): phases open
one after another, ballots are cast by on-site check-ins on the real voting path, results are
counted by the real counting path and published, which opens the execution items. Seeded
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
PAST_VOTERS = 24
TOTAL_BUDGET = 2_000_000_000
# Shares of an envelope's budget, one per project: a knapsack ballot of two or three of them
# spends between half and all of the budget; an approval count funds some, not all.
SHARES = (0.45, 0.35, 0.25, 0.15)
PROJECT_TITLES = (
    ("어린이 놀이터 새단장", "A new look for the children's playground"),
    ("골목길 안심 조명", "Safe lighting for back alleys"),
    ("공원 그늘막과 벤치", "Shade and benches in the park"),
    ("마을 공유 텃밭", "A shared neighbourhood garden"),
)
PROPOSALS = (
    ("버스 정류장 온열 의자", "Heated seats at the bus stops", "겨울철 버스를 기다리는 어르신을 위해"),
    ("하천 산책로 정비", "A better riverside path", "산책로 포장과 안내판을 새로 합니다"),
    ("도서관 야간 개방", "The library open in the evening", "평일 밤 10시까지 열람실을 엽니다"),
    ("청소년 자율 공간", "A space run by teenagers", "방과 후 모일 곳을 만듭니다"),
)
# (the ballots of an envelope with projects of SHARES): each a valid knapsack ballot
# (spending 60-95 % of the budget, so the rounding of costs never takes one under half) and,
# for approval, at most 3 projects.
KNAPSACK_BALLOTS = ((0, 1), (0, 2), (1, 2), (0, 3), (0, 2, 3), (0, 1, 3), (1, 2, 3), (0, 2))
APPROVAL_BALLOTS = ((0, 1), (0,), (1, 2), (0, 2, 3), (2,), (0, 1, 2), (3,), (1,))


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
        for i, share in enumerate(SHARES):
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
    picked: tuple[int, ...]
    if kind == "knapsack":
        picked = KNAPSACK_BALLOTS[voter % len(KNAPSACK_BALLOTS)]
    elif kind == "approval":
        picked = APPROVAL_BALLOTS[voter % len(APPROVAL_BALLOTS)][: rules["k"]]
    else:  # cumulative or ranked: one project, one point or rank 1
        picked = (voter % len(projects),)
    return [{"project_id": projects[i].id, "value": 1} for i in picked]


def _past_cycle(engine: Engine, session: Session, settings: Settings, tenant: Any, year: int) -> None:
    from saas.core.tenancy.binding import open_autocommit_connection
    from tenants.cycles.services import cycle_or_404
    from tenants.execution.services import do_add_milestone, do_post_update, items_of_cycle
    from tenants.results.services import do_count, do_publish
    from tenants.voting.services import do_vote, identity_document_key

    cycle = _create(session, tenant, year, date(year, 3, 1))
    projects = _add_projects(session, tenant, cycle, "P")
    _advance_to(session, tenant, cycle.id, "voting")
    cycle = cycle_or_404(session, cycle.id)
    rules = cycle.ballot
    dong = next((e for e in cycle.envelopes if e.scope == "dong" and e.id in projects), None)
    connection = open_autocommit_connection(engine, tenant.slug)
    try:
        for voter in range(PAST_VOTERS):
            document = f"DEMO-{tenant.slug}-{year}-{voter}"  # an on-site check-in's ID number
            choices = [
                choice for envelope_id in projects for choice in _choices(rules, projects[envelope_id], voter)
            ]
            do_vote(
                connection,
                cycle.id,
                person_key=identity_document_key(settings.voter_key_secret, document),
                channel="onsite",
                voter={
                    "basis": "resident",
                    "birth_year": 1950 + voter,
                    "district_code": dong.area_code if dong is not None else None,
                },
                choices=choices,
                marked_by=ACTOR,
            )
    finally:
        connection.close()
    _advance_to(session, tenant, cycle.id, "results")
    do_count(session, tenant, cycle.id, actor=ACTOR)
    do_publish(session, tenant, cycle.id, actor=ACTOR)
    _advance_to(session, tenant, cycle.id, "execution_monitoring")
    for n, (item, project) in enumerate(items_of_cycle(session, cycle.id)):
        do_add_milestone(
            session,
            tenant,
            cycle.id,
            item.id,
            {"title_ko": "착공", "title_en": "Works begin", "due_on": date(year + 1, 3, 1), "done_on": None},
            actor=ACTOR,
        )
        progress = (25, 60, 100)[n % 3]
        do_post_update(
            session,
            tenant,
            cycle.id,
            item.id,
            {
                "posted_on": clock.today(),
                "body_ko": f"{project.title_ko}: 진행률 {progress} %",
                "body_en": f"{project.title_en}: {progress} % done",
                "progress_pct": progress,
                "spent": project.cost * progress // 100,
            },
            actor=ACTOR,
        )


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
