"""What the resident portal reads about proposals: the cycle it shows, whether a phase is
open (and when it opens or closed), and one proposal's page with its supports and comments.

Moderation is applied here, not in templates: a hidden proposal or comment comes out with its
reason and without its text, so no page can show what staff hid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from saas.core.refusals import N_, NotFound
from tenants.cycles.models import CLOSED, DRAFT, Cycle, CyclePhase
from tenants.portal.models import Category, District
from tenants.proposals.models import Comment, Proposal, ProposalSupport

OPEN, NOT_YET, OVER, NO_SUCH_PHASE = "open", "not_yet", "over", "none"


def shown_cycle(session: Session) -> Cycle | None:
    """The cycle the portal shows: the newest one under way, else the newest closed one;
    None before any cycle left its draft."""
    return session.scalar(
        select(Cycle)
        .where(Cycle.status != DRAFT)
        .order_by(case((Cycle.status == CLOSED, 1), else_=0), Cycle.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class PhaseWindow:
    """Where a cycle stands with one of its phases: `state` is open, not_yet (with the
    planned dates), over (closed, with the date it closed or was planned to), or none (the
    cycle has no such phase)."""

    state: str
    phase: CyclePhase | None

    @property
    def starts_on(self) -> date | None:
        return self.phase.starts_on if self.phase else None

    @property
    def ends_on(self) -> date | None:
        if self.phase is None:
            return None
        return self.phase.closed_at.date() if self.phase.closed_at else self.phase.ends_on


def phase_window(cycle: Cycle | None, key: str) -> PhaseWindow:
    if cycle is None:
        return PhaseWindow(NO_SUCH_PHASE, None)
    phase = next((p for p in cycle.phases if p.key == key), None)
    if phase is None:
        return PhaseWindow(NO_SUCH_PHASE, None)
    if cycle.status == key:
        return PhaseWindow(OPEN, phase)
    if cycle.status == CLOSED or phase.closed_at is not None:
        return PhaseWindow(OVER, phase)
    current = next((p for p in cycle.phases if p.key == cycle.status), None)
    if current is not None and current.position > phase.position:
        return PhaseWindow(OVER, phase)
    return PhaseWindow(NOT_YET, phase)


@dataclass(frozen=True)
class CommentView:
    id: int
    body: str | None  # None when hidden
    hidden_reason: str | None
    created_at: datetime
    mine: bool


@dataclass(frozen=True)
class ProposalView:
    id: int
    cycle_id: int
    title: str | None  # None when hidden
    description: str | None  # None when hidden
    location_text: str | None
    estimated_cost: int | None
    status: str
    channel: str
    created_at: datetime
    hidden_reason: str | None
    category: Category | None
    district: District | None
    supports: int
    supported: bool  # by the person viewing
    mine: bool  # proposed by the person viewing
    comments: list[CommentView]

    @property
    def hidden(self) -> bool:
        return self.hidden_reason is not None


def proposal_by_id_or_404(session: Session, proposal_id: int) -> Proposal:
    """A proposal of the bound tenant by its id (ids are the tenant's own: another tenant's
    id is simply missing here)."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(N_("There is no proposal %(proposal)s.", proposal=proposal_id))
    return proposal


def proposal_page(session: Session, proposal_id: int, *, viewer: str | None) -> ProposalView:
    """One proposal as its page shows it to `viewer` (a person's key, or None)."""
    proposal = proposal_by_id_or_404(session, proposal_id)
    hidden = proposal.hidden_reason is not None
    supported = viewer is not None and (
        session.scalar(
            select(ProposalSupport.proposal_id).where(
                ProposalSupport.proposal_id == proposal.id, ProposalSupport.supporter == viewer
            )
        )
        is not None
    )
    comments = [
        CommentView(
            id=c.id,
            body=None if c.hidden_reason is not None else c.body,
            hidden_reason=c.hidden_reason,
            created_at=c.created_at,
            mine=viewer is not None and c.author == viewer,
        )
        for c in session.scalars(
            select(Comment).where(Comment.proposal_id == proposal.id).order_by(Comment.id)
        )
    ]
    category = session.scalar(select(Category).where(Category.key == proposal.category_key))
    district = (
        session.scalar(select(District).where(District.code == proposal.district_code))
        if proposal.district_code
        else None
    )
    return ProposalView(
        id=proposal.id,
        cycle_id=proposal.cycle_id,
        title=None if hidden else proposal.title,
        description=None if hidden else proposal.description,
        location_text=None if hidden else proposal.location_text,
        estimated_cost=proposal.estimated_cost,
        status=proposal.status,
        channel=proposal.channel,
        created_at=proposal.created_at,
        hidden_reason=proposal.hidden_reason,
        category=category,
        district=district,
        supports=proposal.supports,
        supported=supported,
        mine=viewer is not None and proposal.proposer == viewer,
        # a hidden proposal's discussion goes with it
        comments=[] if hidden else comments,
    )
