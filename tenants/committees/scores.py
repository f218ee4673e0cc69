"""Committee scores on ballot projects: one score (0–100) per member and project, and the
aggregate the counting rules read (`services.committee_scores`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.tenancy.context import TenantRef
from tenants.committees.meetings import NotAMember
from tenants.committees.models import DONG, Committee, CommitteeMember, Score
from tenants.committees.schemas import MAX_SCORE
from tenants.committees.services import audit_committee, committee_or_404, seat_of_principal
from tenants.cycles.models import Envelope
from tenants.cycles.services import cycle_or_404, ensure_not_frozen
from tenants.errors import Invalid, NotFound
from tenants.proposals.models import Project


def project_scores(session: Session, cycle_id: int, committee_id: int) -> list[dict[str, object]]:
    """Per project of the cycle: how many members of this committee scored it and the mean."""
    committee = committee_or_404(session, cycle_id, committee_id)
    rows = session.execute(
        select(Project.id, Project.code, Project.title_ko, func.count(Score.score), func.avg(Score.score))
        .outerjoin(
            Score,
            (Score.project_id == Project.id)
            & Score.member_id.in_(
                select(CommitteeMember.id).where(CommitteeMember.committee_id == committee.id)
            ),
        )
        .where(Project.cycle_id == cycle_id)
        .group_by(Project.id)
        .order_by(Project.code)
    )
    return [
        {
            "project_id": pid,
            "code": code,
            "title_ko": title,
            "scores": count,
            "mean": None if mean is None else float(mean),
            "normalised": None if mean is None else float(mean) / MAX_SCORE,
        }
        for pid, code, title, count, mean in rows
    ]


def _project_for(session: Session, committee: Committee, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.cycle_id != committee.cycle_id:
        raise NotFound(f"There is no project {project_id} in this cycle.")
    if committee.level == DONG:
        area = session.scalar(select(Envelope.area_code).where(Envelope.id == project.envelope_id))
        if area != committee.dong_code:
            raise Invalid(f"A dong committee scores the projects of its own dong ({committee.dong_code}).")
    return project


def do_score(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    committee_id: int,
    project_id: int,
    *,
    score: int,
    actor: str,
) -> Score:
    """Record (or change) the calling member's score of a project. Raises `NotAMember` when
    the credential holds no seat; refused once voting opened, since results read the scores."""
    cycle = cycle_or_404(session, cycle_id)
    ensure_not_frozen(cycle, "committee scores")
    committee = committee_or_404(session, cycle_id, committee_id)
    member = seat_of_principal(session, committee, actor)
    if member is None:
        raise NotAMember()
    project = _project_for(session, committee, project_id)
    # An upsert: two first scores of the same member and project at once must not fail.
    upsert = insert(Score).values(member_id=member.id, project_id=project.id, score=score)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["member_id", "project_id"], set_={"score": score, "scored_at": clock.now()}
        )
    )
    row = session.get_one(Score, (member.id, project.id), populate_existing=True)
    data = {"member_id": member.id, "project_id": project.id, "score": score}
    audit_committee(session, tenant, actor, "committee.score", committee, data)
    session.commit()
    return row
