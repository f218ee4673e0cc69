"""Following funded projects: status, progress, spend, milestones and dated updates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
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


def execution_overview(session: Session) -> list[CycleExecution]:
    """Every cycle's funded projects with milestones and dated updates, newest cycle first;
    three queries whatever the number of items."""
    rows = session.execute(
        select(ExecutionItem, Project, Envelope, Cycle)
        .join(Project, Project.id == ExecutionItem.project_id)
        .join(Envelope, Envelope.id == Project.envelope_id)
        .join(Cycle, Cycle.id == Project.cycle_id)
        .order_by(Cycle.fiscal_year.desc(), Cycle.id.desc(), Envelope.id, Project.code)
    ).all()
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
    cycles: dict[int, tuple[Cycle, list[PublicItem]]] = {}
    today = clock.today()
    for item, project, envelope, cycle in rows:
        cycles.setdefault(cycle.id, (cycle, []))[1].append(
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
            )
        )
    return [
        CycleExecution(cycle.id, cycle.name_ko, cycle.name_en, cycle.fiscal_year, tuple(items))
        for cycle, items in cycles.values()
    ]
