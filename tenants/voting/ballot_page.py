"""What the resident's ballot pages show, read for them (a page never queries): the cycle in
voting and its envelopes, one envelope's ballot with the person's draft and where it stands,
and the ballot a review casts, gathered from the person's drafts.

Every read here is of the request's tenant (the session's binding); a draft is read only for
the person key the page passes, which is the signed-in person's voter key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core.refusals import NotFound
from tenants.cycles.models import VOTING, Cycle, CyclePhase, Envelope
from tenants.proposals.models import Project
from tenants.voting import drafts as draft_store
from tenants.voting import selection as sel
from tenants.voting.refusals import BallotRuleBroken
from tenants.voting.rules import with_instructions


@dataclass(frozen=True)
class EnvelopeLine:
    id: int
    key: str
    scope: str
    area_code: str | None
    name_ko: str
    name_en: str
    budget: int
    projects: int
    drafted: bool = False


@dataclass(frozen=True)
class VotingOverview:
    """The cycle in voting (None: no cycle is) with its envelopes; otherwise the latest cycle
    and when its voting phase opens or closed (`voting_starts_on`, `voting_ends_on`)."""

    cycle_id: int | None
    cycle_name_ko: str | None
    cycle_name_en: str | None
    status: str | None
    in_voting: bool
    voting_starts_on: date | None
    voting_ends_on: date | None
    voting_closed_at: datetime | None
    envelopes: list[EnvelopeLine] = field(default_factory=list)
    voted: str | None = None  # the channel, when the person already voted


@dataclass(frozen=True)
class ProjectLine:
    id: int
    code: str
    title_ko: str
    title_en: str
    category_key: str
    cost: int


@dataclass(frozen=True)
class EnvelopeBallot:
    cycle_id: int
    cycle_name_ko: str
    cycle_name_en: str
    rules: dict[str, Any]  # the cycle's ballot rules with their instructions
    envelope: EnvelopeLine
    projects: list[ProjectLine]
    selection: dict[int, int]
    standing: sel.Standing
    saved_at: datetime | None  # of the person's draft; None: no draft kept
    other_drafts: dict[int, dict[int, int]]  # the person's drafts in the cycle's other envelopes


def _current_cycle(session: Session) -> Cycle | None:
    """The cycle in voting (the latest, if ever two were), else the latest cycle."""
    voting = session.scalar(select(Cycle).where(Cycle.status == VOTING).order_by(Cycle.id.desc()).limit(1))
    return voting or session.scalar(select(Cycle).order_by(Cycle.id.desc()).limit(1))


def voting_overview(session: Session, *, person_key: str | None) -> VotingOverview:
    """The landing page of voting: the cycle in voting and its envelopes with projects (with
    `drafted` for those where the person has a draft), or when voting opens or closed."""
    from tenants.voting.services import has_voted

    cycle = _current_cycle(session)
    if cycle is None:
        return VotingOverview(None, None, None, None, False, None, None, None)
    phase = session.scalar(
        select(CyclePhase).where(CyclePhase.cycle_id == cycle.id, CyclePhase.key == VOTING)
    )
    counts = dict(
        session.execute(
            select(Project.envelope_id, func.count())
            .where(Project.cycle_id == cycle.id)
            .group_by(Project.envelope_id)
        ).all()
    )
    drafted = set(draft_store.drafts_of(session, cycle.id, person_key)) if person_key else set()
    envelopes = [
        EnvelopeLine(
            e.id, e.key, e.scope, e.area_code, e.name_ko, e.name_en, e.budget, counts[e.id], e.id in drafted
        )
        for e in cycle.envelopes
        if counts.get(e.id)
    ]
    return VotingOverview(
        cycle.id,
        cycle.name_ko,
        cycle.name_en,
        cycle.status,
        cycle.status == VOTING,
        phase.starts_on if phase else None,
        phase.ends_on if phase else None,
        phase.closed_at if phase else None,
        envelopes,
        has_voted(session, cycle.id, person_key) if person_key else None,
    )


def _line(e: Envelope, count: int, drafted: bool = False) -> EnvelopeLine:
    return EnvelopeLine(e.id, e.key, e.scope, e.area_code, e.name_ko, e.name_en, e.budget, count, drafted)


def envelope_ballot(
    session: Session,
    envelope_key: str,
    *,
    person_key: str | None,
    selection: Mapping[int, int] | None = None,
) -> EnvelopeBallot:
    """The ballot of envelope `envelope_key` of the cycle in voting: its projects (by code),
    and `selection` (or, without one, the person's draft) with where it stands. Raises
    NotFound when no cycle is in voting or it has no such envelope with projects."""
    cycle = session.scalar(select(Cycle).where(Cycle.status == VOTING).order_by(Cycle.id.desc()).limit(1))
    if cycle is None:
        raise NotFound("No cycle is in voting.")
    envelope = next((e for e in cycle.envelopes if e.key == envelope_key), None)
    if envelope is None:
        raise NotFound(f"There is no envelope {envelope_key!r} on this ballot.")
    projects = [
        ProjectLine(*row)
        for row in session.execute(
            select(
                Project.id,
                Project.code,
                Project.title_ko,
                Project.title_en,
                Project.category_key,
                Project.cost,
            )
            .where(Project.cycle_id == cycle.id, Project.envelope_id == envelope.id)
            .order_by(Project.code)
        ).all()
    ]
    if not projects:
        raise NotFound(f"There is no envelope {envelope_key!r} on this ballot.")
    kept = draft_store.drafts_of(session, cycle.id, person_key) if person_key else {}
    own = kept.pop(envelope.id, {})
    chosen = dict(selection) if selection is not None else own
    standing = sel.standing(cycle.ballot, envelope.budget, [(p.id, p.cost) for p in projects], chosen)
    saved = draft_store.saved_at(session, cycle.id, person_key, envelope.id) if person_key and own else None
    return EnvelopeBallot(
        cycle.id,
        cycle.name_ko,
        cycle.name_en,
        with_instructions(cycle.ballot),
        _line(envelope, len(projects), bool(own)),
        projects,
        chosen,
        standing,
        saved,
        kept,
    )


@dataclass(frozen=True)
class BallotToCast:
    """The ballot a review casts: every envelope the person drafted that they may vote in,
    as the API's choices, and the dong that entitles them (None: no dong envelope)."""

    choices: list[dict[str, int]]
    district_code: str | None
    envelopes: list[int]


def ballot_from_drafts(
    envelopes: Mapping[int, Envelope], kept: Mapping[int, Mapping[int, int]], *, reviewing: int
) -> BallotToCast:
    """Gather the drafts `kept` ({envelope id: selection}) into one ballot, cast from the
    review of envelope `reviewing`. A person votes in one dong: drafts of two dongs are
    refused (rule `one_dong`) unless the one reviewed is a dong, which then wins (the other
    dong's draft is left out)."""
    dongs = [eid for eid in kept if eid in envelopes and envelopes[eid].scope == "dong" and kept[eid]]
    if reviewing in dongs:
        dongs = [reviewing]
    elif len(dongs) > 1:
        raise BallotRuleBroken(
            "Your selections are in two neighbourhoods; you vote in the one you live in. Open its "
            "ballot and review from there.",
            rule="one_dong",
            errors={"choices": ["one_dong: selections in two dong envelopes"]},
        )
    chosen = [
        eid
        for eid, picks in kept.items()
        if eid in envelopes and picks and (envelopes[eid].scope != "dong" or eid in dongs)
    ]
    choices = [c for eid in sorted(chosen) for c in sel.as_choices(kept[eid])]
    district = envelopes[dongs[0]].area_code if dongs else None
    return BallotToCast(choices, district, sorted(chosen))
