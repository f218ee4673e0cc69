"""Following funded projects: status, progress, spend, milestones and dated updates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.audit import services as audit
from saas.core.refusals import Invalid, NotFound
from saas.core.tenancy.context import TenantRef
from tenants.cycles.models import Cycle, Envelope
from tenants.execution.models import ExecutionItem, ExecutionUpdate, Milestone
from tenants.proposals.models import Project


def items_of_cycle(session: Session, cycle_id: int) -> list[tuple[ExecutionItem, Project]]:
    return list(
        session.execute(
            select(ExecutionItem, Project)
            .join(Project, Project.id == ExecutionItem.project_id)
            .where(Project.cycle_id == cycle_id)
            .order_by(Project.code)
        ).all()
    )


def item_or_404(session: Session, cycle_id: int, item_id: int) -> ExecutionItem:
    item = session.scalar(
        select(ExecutionItem)
        .join(Project, Project.id == ExecutionItem.project_id)
        .where(ExecutionItem.id == item_id, Project.cycle_id == cycle_id)
    )
    if item is None:
        raise NotFound(f"Cycle {cycle_id} has no execution item {item_id}.")
    return item


def do_post_update(
    session: Session, tenant: TenantRef, cycle_id: int, item_id: int, fields: dict[str, Any], *, actor: str
) -> ExecutionUpdate:
    """A dated progress report; it also sets the item's progress, spend and status."""
    item = item_or_404(session, cycle_id, item_id)
    status = fields.pop("status", None)
    if fields["spent"] > item.budget * 2:
        raise Invalid(
            "The spend is more than twice the budget; check the amount.", errors={"spent": ["implausible"]}
        )
    update = ExecutionUpdate(item_id=item.id, posted_by=actor, **fields)
    item.progress_pct, item.spent = fields["progress_pct"], fields["spent"]
    item.status = status or ("completed" if item.progress_pct == 100 else "in_progress")
    session.add(update)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="execution.update",
        tenant_slug=tenant.slug,
        target=f"execution_item:{item.id}",
        data={"progress_pct": item.progress_pct, "spent": item.spent, "status": item.status},
    )
    session.commit()
    return update


def do_add_milestone(
    session: Session, tenant: TenantRef, cycle_id: int, item_id: int, fields: dict[str, Any], *, actor: str
) -> Milestone:
    item = item_or_404(session, cycle_id, item_id)
    milestone = Milestone(item_id=item.id, **fields)
    session.add(milestone)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="execution.milestone",
        tenant_slug=tenant.slug,
        target=f"execution_item:{item.id}",
        data={"title_ko": milestone.title_ko},
    )
    session.commit()
    return milestone


def item_detail(session: Session, item: ExecutionItem) -> dict[str, Any]:
    project = session.get_one(Project, item.project_id)
    return {
        "id": item.id,
        "project": {"code": project.code, "title_ko": project.title_ko, "title_en": project.title_en},
        "status": item.status,
        "progress_pct": item.progress_pct,
        "budget": item.budget,
        "spent": item.spent,
        "updated_at": item.updated_at,
        "milestones": session.scalars(
            select(Milestone).where(Milestone.item_id == item.id).order_by(Milestone.due_on)
        ).all(),
        "updates": session.scalars(
            select(ExecutionUpdate)
            .where(ExecutionUpdate.item_id == item.id)
            .order_by(ExecutionUpdate.posted_on.desc(), ExecutionUpdate.id.desc())
        ).all(),
    }


@dataclass(frozen=True)
class PublicItem:
    """A funded project as residents follow it (no staff-only field)."""

    id: int
    code: str
    title_ko: str
    title_en: str
    envelope_name_ko: str
    envelope_name_en: str
    status: str
    progress_pct: int
    budget: int
    spent: int
    milestones: tuple[Milestone, ...]
    updates: tuple[ExecutionUpdate, ...]  # newest first
    overdue: frozenset[int]  # ids of the milestones past their date and not done

    @property
    def spent_pct(self) -> int:
        """Spend as a whole percentage of the budget (rounded down; over 100 when overspent)."""
        return self.spent * 100 // self.budget if self.budget else 0


@dataclass(frozen=True)
class CycleExecution:
    cycle_id: int
    name_ko: str
    name_en: str
    fiscal_year: int
    items: tuple[PublicItem, ...]

    @property
    def budget(self) -> int:
        return sum(i.budget for i in self.items)

    @property
    def spent(self) -> int:
        return sum(i.spent for i in self.items)

    @property
    def completed(self) -> int:
        return sum(i.status == "completed" for i in self.items)


def _items_in_order() -> Any:
    """The funded projects with their project, budget and cycle, newest cycle first."""
    return (
        select(ExecutionItem, Project, Envelope, Cycle)
        .join(Project, Project.id == ExecutionItem.project_id)
        .join(Envelope, Envelope.id == Project.envelope_id)
        .join(Cycle, Cycle.id == Project.cycle_id)
        .order_by(Cycle.fiscal_year.desc(), Cycle.id.desc(), Envelope.id, Project.code, ExecutionItem.id)
    )


def _public_items(session: Session, rows: Any) -> list[tuple[Cycle, PublicItem]]:
    """Each row of `_items_in_order` as residents see it, with its milestones and updates (two
    queries whatever the number of rows)."""
    item_ids = [item.id for item, *_ in rows]
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    updates: dict[int, list[ExecutionUpdate]] = defaultdict(list)
    if item_ids:
        for milestone in session.scalars(
            select(Milestone).where(Milestone.item_id.in_(item_ids)).order_by(Milestone.due_on, Milestone.id)
        ):
            milestones[milestone.item_id].append(milestone)
        for update in session.scalars(
            select(ExecutionUpdate)
            .where(ExecutionUpdate.item_id.in_(item_ids))
            .order_by(ExecutionUpdate.posted_on.desc(), ExecutionUpdate.id.desc())
        ):
            updates[update.item_id].append(update)
    today = clock.today()
    return [
        (
            cycle,
            PublicItem(
                id=item.id,
                code=project.code,
                title_ko=project.title_ko,
                title_en=project.title_en,
                envelope_name_ko=envelope.name_ko,
                envelope_name_en=envelope.name_en,
                status=item.status,
                progress_pct=item.progress_pct,
                budget=item.budget,
                spent=item.spent,
                milestones=tuple(milestones[item.id]),
                updates=tuple(updates[item.id]),
                overdue=frozenset(
                    m.id for m in milestones[item.id] if m.done_on is None and m.due_on < today
                ),
            ),
        )
        for item, project, envelope, cycle in rows
    ]


def execution_overview(session: Session) -> list[CycleExecution]:
    """Every cycle's funded projects with milestones and dated updates, newest cycle first;
    three queries whatever the number of items."""
    cycles: dict[int, tuple[Cycle, list[PublicItem]]] = {}
    for cycle, item in _public_items(session, session.execute(_items_in_order()).all()):
        cycles.setdefault(cycle.id, (cycle, []))[1].append(item)
    return [
        CycleExecution(cycle.id, cycle.name_ko, cycle.name_en, cycle.fiscal_year, tuple(items))
        for cycle, items in cycles.values()
    ]


# A page of the residents' list holds at most this many projects: at ~1.4 KB of HTML each
# (two milestones, two updates) a page stays well under the 100 KB of issue 14's goal.
ITEMS_PER_PAGE = 50
NO_SUCH_PAGE = "There is no such page of the execution list."


@dataclass(frozen=True)
class CycleSummary:
    """A cycle's execution in figures, over all its funded projects."""

    cycle_id: int
    name_ko: str
    name_en: str
    fiscal_year: int
    count: int
    budget: int
    spent: int
    completed: int


@dataclass(frozen=True)
class CycleOnPage:
    cycle: CycleSummary  # the whole cycle: its summary counts every one of its projects
    items: tuple[PublicItem, ...]  # those of its projects on this page


@dataclass(frozen=True)
class ExecutionPage:
    cycles: tuple[CycleOnPage, ...]
    page: int
    pages: int


def execution_page(session: Session, page: str | None, *, per_page: int = ITEMS_PER_PAGE) -> ExecutionPage:
    """Page `page` (a whole number as text, None for the first) of the funded projects in
    `execution_overview`'s order, at most `per_page`, each under its cycle's summary (summed in
    the database: a page reads only its own projects). NotFound for a page that is not a
    whole number from 1 to the last page."""
    summaries = {
        row.cycle_id: CycleSummary(*row)
        for row in session.execute(
            select(
                Cycle.id.label("cycle_id"),
                Cycle.name_ko,
                Cycle.name_en,
                Cycle.fiscal_year,
                func.count(ExecutionItem.id),
                func.coalesce(func.sum(ExecutionItem.budget), 0),
                func.coalesce(func.sum(ExecutionItem.spent), 0),
                func.count(ExecutionItem.id).filter(ExecutionItem.status == "completed"),
            )
            .join(Project, Project.cycle_id == Cycle.id)
            .join(ExecutionItem, ExecutionItem.project_id == Project.id)
            .group_by(Cycle.id)
        )
    }
    pages = max(1, -(-sum(s.count for s in summaries.values()) // per_page))
    if page is None:
        number = 1
    elif page.isdigit() and len(page) <= 6 and 1 <= int(page) <= pages:
        number = int(page)
    else:
        raise NotFound(NO_SUCH_PAGE)
    rows = session.execute(_items_in_order().offset((number - 1) * per_page).limit(per_page)).all()
    shown: dict[int, list[PublicItem]] = {}
    for cycle, item in _public_items(session, rows):
        shown.setdefault(cycle.id, []).append(item)
    return ExecutionPage(
        tuple(CycleOnPage(summaries[cycle_id], tuple(items)) for cycle_id, items in shown.items()),
        number,
        pages,
    )
