"""Proposals: intake (online or by staff for a resident), supports, comments, moderation,
feasibility review, and shortlisting into ballot projects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.core.audit import services as audit
from saas.core.refusals import N_, Conflict, Invalid, NotFound
from saas.core.tenancy.context import TenantRef
from tenants.cycles.models import Cycle, Envelope
from tenants.cycles.services import cycle_or_404, ensure_not_frozen, require_phase
from tenants.portal.models import Category, District
from tenants.proposals.models import Comment, FeasibilityReview, Project, Proposal, ProposalSupport

INTAKE, REVIEW, DELIBERATION = "proposal_intake", "feasibility_review", "committee_deliberation"
HIDDEN = N_("This proposal is hidden by the moderators.")


def proposal_or_404(session: Session, cycle_id: int, proposal_id: int, *, lock: bool = False) -> Proposal:
    statement = select(Proposal).where(Proposal.id == proposal_id, Proposal.cycle_id == cycle_id)
    proposal = session.scalar(statement.with_for_update() if lock else statement)
    if proposal is None:
        raise NotFound(
            N_("Cycle %(cycle)s has no proposal %(proposal)s.", cycle=cycle_id, proposal=proposal_id)
        )
    return proposal


def _check_category_and_district(session: Session, category_key: str, district_code: str | None) -> None:
    if session.scalar(select(Category.id).where(Category.key == category_key)) is None:
        raise Invalid(
            N_("There is no category %(category)s.", category=repr(category_key)),
            errors={"category_key": [N_("unknown")]},
        )
    if (
        district_code is not None
        and session.scalar(select(District.id).where(District.code == district_code)) is None
    ):
        raise Invalid(
            N_("%(dong)s is not a dong of this municipality.", dong=district_code),
            errors={"district_code": [N_("unknown")]},
        )


def do_submit_proposal(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    fields: dict[str, Any],
    *,
    proposer: str,
    channel: str,
    entered_by: str | None,
    actor: str,
) -> Proposal:
    """Record a proposal during intake. Offline channels (paper, counter, meeting) are entered
    by staff on a resident's behalf: `entered_by` names them, `proposer` the resident."""
    cycle = cycle_or_404(session, cycle_id)
    require_phase(cycle, INTAKE, action="Submitting a proposal")
    _check_category_and_district(session, fields["category_key"], fields.get("district_code"))
    proposal = Proposal(
        cycle_id=cycle.id, channel=channel, proposer=proposer, entered_by=entered_by, **fields
    )
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="proposal.submit",
        tenant_slug=tenant.slug,
        target=f"proposal:{proposal.id}",
        data={"channel": channel, "title": proposal.title},
    )
    session.commit()
    return proposal


def do_support(session: Session, cycle_id: int, proposal_id: int, *, supporter: str) -> Proposal:
    """Add the supporter's support (once: asking again changes nothing)."""
    proposal = proposal_or_404(session, cycle_id, proposal_id, lock=True)
    if proposal.hidden_reason is not None:
        raise Conflict(HIDDEN)
    added = session.execute(
        insert(ProposalSupport)
        .values(proposal_id=proposal.id, supporter=supporter)
        .on_conflict_do_nothing()
        .returning(ProposalSupport.proposal_id)
    ).first()
    if added:
        proposal.supports += 1
    session.commit()
    return proposal


def do_comment(session: Session, cycle_id: int, proposal_id: int, *, author: str, body: str) -> Comment:
    proposal = proposal_or_404(session, cycle_id, proposal_id)
    if proposal.hidden_reason is not None:
        raise Conflict(HIDDEN)
    comment = Comment(proposal_id=proposal.id, author=author, body=body)
    session.add(comment)
    session.commit()
    return comment


def do_moderate(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    proposal_id: int,
    *,
    comment_id: int | None,
    hidden_reason: str | None,
    actor: str,
) -> Proposal | Comment:
    """Hide (with a reason) or show again a proposal, or one of its comments."""
    proposal = proposal_or_404(session, cycle_id, proposal_id, lock=True)
    target: Proposal | Comment = proposal
    if comment_id is not None:
        comment = session.scalar(
            select(Comment).where(Comment.id == comment_id, Comment.proposal_id == proposal.id)
        )
        if comment is None:
            raise NotFound(f"Proposal {proposal_id} has no comment {comment_id}.")
        target = comment
    target.hidden_reason = hidden_reason
    kind = "comment" if comment_id is not None else "proposal"
    audit.record(
        session,
        actor=actor,
        action=f"{kind}.{'hide' if hidden_reason else 'show'}",
        tenant_slug=tenant.slug,
        target=f"{kind}:{target.id}",
        data={"reason": hidden_reason},
    )
    session.commit()
    return target


def do_review(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    proposal_id: int,
    review: dict[str, Any],
    *,
    actor: str,
) -> FeasibilityReview:
    """Record the feasibility review (legal check, cost estimate, decision with its reason)."""
    cycle = cycle_or_404(session, cycle_id)
    require_phase(cycle, REVIEW, action="Reviewing feasibility")
    proposal = proposal_or_404(session, cycle_id, proposal_id, lock=True)
    if proposal.status in ("shortlisted", "withdrawn"):
        raise Conflict(f"The proposal is {proposal.status}.")
    feasible = review["feasible"] and review["legal_ok"]
    session.execute(
        insert(FeasibilityReview)
        .values(proposal_id=proposal.id, reviewer=actor, **{**review, "feasible": feasible})
        .on_conflict_do_update(
            index_elements=["proposal_id"], set_={**review, "feasible": feasible, "reviewer": actor}
        )
    )
    proposal.status = "feasible" if feasible else "infeasible"
    audit.record(
        session,
        actor=actor,
        action="proposal.review",
        tenant_slug=tenant.slug,
        target=f"proposal:{proposal.id}",
        data={"feasible": feasible, "reason": review["reason"]},
    )
    session.commit()
    return session.get_one(FeasibilityReview, proposal.id)


def _envelope_of(cycle: Cycle, envelope_key: str) -> Envelope:
    envelope = next((e for e in cycle.envelopes if e.key == envelope_key), None)
    if envelope is None:
        raise Invalid(f"Cycle {cycle.id} has no envelope {envelope_key!r}.", errors={"envelope": ["unknown"]})
    return envelope


def do_add_project(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    fields: dict[str, Any],
    *,
    proposal_id: int | None,
    actor: str,
) -> Project:
    """Put a project on the ballot of an envelope: a feasible proposal shortlisted (cost from
    its review unless given), or a project entered directly. Refused once voting opened."""
    cycle = cycle_or_404(session, cycle_id, lock=True)
    ensure_not_frozen(cycle, "the project list")
    envelope = _envelope_of(cycle, fields.pop("envelope"))
    if proposal_id is not None:
        proposal = proposal_or_404(session, cycle_id, proposal_id, lock=True)
        if proposal.status != "feasible":
            raise Conflict(f"Only a feasible proposal can be shortlisted; this one is {proposal.status}.")
        review = session.get(FeasibilityReview, proposal.id)
        fields.setdefault("cost", review.cost_estimate if review else proposal.estimated_cost)
        fields.setdefault("title_ko", proposal.title)
        fields.setdefault("category_key", proposal.category_key)
        proposal.status = "shortlisted"
    missing = [name for name in ("cost", "title_ko", "category_key") if fields.get(name) is None]
    if missing:
        raise Invalid(
            "A project needs a title, a category and a cost.", errors={m: ["required"] for m in missing}
        )
    fields.setdefault("title_en", fields["title_ko"])
    if session.scalar(select(Project.id).where(Project.cycle_id == cycle.id, Project.code == fields["code"])):
        raise Conflict(f"Cycle {cycle.id} already has a project {fields['code']!r}.")
    if fields["cost"] > envelope.budget:
        raise Invalid(
            f"The cost {fields['cost']:,} won exceeds the envelope's budget {envelope.budget:,} won.",
            errors={"cost": ["exceeds the envelope"]},
        )
    project = Project(cycle_id=cycle.id, envelope_id=envelope.id, proposal_id=proposal_id, **fields)
    session.add(project)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="project.add",
        tenant_slug=tenant.slug,
        target=f"project:{project.id}",
        data={"code": project.code, "cost": project.cost},
    )
    session.commit()
    return project


def do_remove_project(
    session: Session, tenant: TenantRef, cycle_id: int, project_id: int, *, actor: str
) -> None:
    cycle = cycle_or_404(session, cycle_id, lock=True)
    ensure_not_frozen(cycle, "the project list")
    project = session.scalar(select(Project).where(Project.id == project_id, Project.cycle_id == cycle.id))
    if project is None:
        raise NotFound(f"Cycle {cycle_id} has no project {project_id}.")
    if project.proposal_id is not None:
        session.execute(update(Proposal).where(Proposal.id == project.proposal_id).values(status="feasible"))
    session.delete(project)
    audit.record(
        session,
        actor=actor,
        action="project.remove",
        tenant_slug=tenant.slug,
        target=f"project:{project_id}",
        data={"code": project.code},
    )
    session.commit()
