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
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from saas.core.refusals import NotFound
from tenants.cycles.models import VOTING, Cycle, CyclePhase, Envelope
from tenants.proposals.models import Project
from tenants.voting import drafts as draft_store
from tenants.voting import selection as sel
from tenants.voting.refusals import AlreadyVoted, BallotRuleBroken, VotingClosed
from tenants.voting.rules import with_instructions

if TYPE_CHECKING:
    from tenants.voting.services import Cast


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


_PROJECT_COLUMNS = (
    Project.id,
    Project.code,
    Project.title_ko,
    Project.title_en,
    Project.category_key,
    Project.cost,
)


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
    carried: str | None = None,
) -> EnvelopeBallot:
    """The ballot of envelope `envelope_key` of the cycle in voting: its projects (by code),
    and `selection` (or the selection `carried` in a URL, see selection.encode; without
    either, the person's draft) with where it stands. Raises NotFound when no cycle is in
    voting or it has no such envelope with projects, ChoiceUnreadable for a `carried` that is
    no selection of it."""
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
    if carried is not None and selection is None:
        selection = sel.decode(carried, [p.id for p in projects])
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


@dataclass(frozen=True)
class ReviewLine:
    envelope: EnvelopeLine
    chosen: list[tuple[ProjectLine, int]]  # (project, value), by value then code
    standing: sel.Standing


@dataclass(frozen=True)
class Review:
    """What a review shows before casting: each envelope of the ballot with its choices and
    where it stands (`ready`: every one can be cast), or why nothing can be cast (`voted`:
    the channel the person voted on; `refusal`: the drafts cannot make one ballot)."""

    cycle_id: int
    cycle_name_ko: str
    cycle_name_en: str
    rules: dict[str, Any]
    reviewing: EnvelopeLine
    lines: list[ReviewLine]
    voted: str | None
    refusal: BallotRuleBroken | None

    @property
    def ready(self) -> bool:
        return (
            bool(self.lines)
            and self.voted is None
            and self.refusal is None
            and all(line.standing.complete for line in self.lines)
        )


def review_of(session: Session, envelope_key: str, *, person_key: str) -> Review:
    """The review of the person's ballot, reached from envelope `envelope_key` of the cycle
    in voting (NotFound otherwise): every envelope they drafted and may vote in."""
    from tenants.voting.services import has_voted

    cycle = session.scalar(select(Cycle).where(Cycle.status == VOTING).order_by(Cycle.id.desc()).limit(1))
    envelope = next((e for e in cycle.envelopes if e.key == envelope_key), None) if cycle else None
    if cycle is None or envelope is None:
        raise NotFound(f"There is no envelope {envelope_key!r} on this ballot.")
    envelopes = {e.id: e for e in cycle.envelopes}
    kept = draft_store.drafts_of(session, cycle.id, person_key)
    refusal, lines = None, []
    try:
        ballot = ballot_from_drafts(envelopes, kept, reviewing=envelope.id)
    except BallotRuleBroken as refused:
        refusal, ballot = refused, BallotToCast([], None, [])
    if ballot.envelopes:
        rows = session.execute(
            select(*_PROJECT_COLUMNS, Project.envelope_id).where(
                Project.cycle_id == cycle.id, Project.envelope_id.in_(ballot.envelopes)
            )
        ).all()
        by_envelope: dict[int, dict[int, ProjectLine]] = {}
        for row in rows:
            line = ProjectLine(*row[:-1])
            by_envelope.setdefault(row.envelope_id, {})[line.id] = line
        for eid in ballot.envelopes:
            e, picks, offered = envelopes[eid], kept[eid], by_envelope.get(eid, {})
            chosen = sorted(
                ((offered[pid], v) for pid, v in picks.items() if pid in offered),
                key=lambda pv: (pv[1], pv[0].code),
            )
            standing = sel.standing(cycle.ballot, e.budget, [(p.id, p.cost) for p in offered.values()], picks)
            lines.append(ReviewLine(_line(e, len(offered), True), chosen, standing))
    return Review(
        cycle.id,
        cycle.name_ko,
        cycle.name_en,
        with_instructions(cycle.ballot),
        _line(envelope, 0, envelope.id in kept),
        lines,
        has_voted(session, cycle.id, person_key),
        refusal,
    )


def reviewed_choices(form_values: list[str]) -> dict[int, dict[int, int]]:
    """The choices a review form carries (``choice`` fields ``<envelope>.<project>.<value>``,
    hidden beside the list the person reviewed), as {envelope id: {project id: value}}: the
    ballot cast is the one reviewed, whatever another tab did to the drafts meanwhile.
    Raises ChoiceUnreadable (field ``choice``) for anything else."""
    from tenants.voting.refusals import ChoiceUnreadable

    kept: dict[int, dict[int, int]] = {}
    if len(form_values) > 500:
        raise ChoiceUnreadable("Too many choices.", field="choice", reason="out_of_range")
    for value in form_values:
        parts = value.split(".")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() and 0 < len(p) <= 18 for p in parts):
            raise ChoiceUnreadable(f"{value!r} is not a choice.", field="choice", reason="not_a_number")
        envelope_id, project_id, points = (int(p) for p in parts)
        kept.setdefault(envelope_id, {})[project_id] = points
    return kept


def do_cast_reviewed(
    session: Session,
    connection: Connection,
    envelope_key: str,
    *,
    person_key: str,
    voter: Mapping[str, Any],
    marked_by: str,
    cycle_id: int | None = None,
    reviewed: Mapping[int, Mapping[int, int]] | None = None,
) -> Cast:
    """Cast the person's ballot online from the review of envelope `envelope_key` of cycle
    `cycle_id` (default: the cycle in voting): the choices `reviewed` (see
    `reviewed_choices`) or else the person's drafts, gathered into one ballot
    (`ballot_from_drafts`), through the same write path as the API (`services.do_cast_ballot`
    on the autocommit `connection`), so one ballot per person holds on every channel; the
    statement that casts deletes the drafts. `voter` is the basis and birth year the person
    declared. With both `cycle_id` and `reviewed`, nothing is read but the kept ballot sheet.

    Raises what the API's vote raises (NotVerifiedEnough, VotingClosed, AlreadyVoted,
    NotEligible, BallotRuleBroken), NotFound for an envelope not on the ballot, and
    BallotRuleBroken (rule `empty`) when there is nothing to cast (no draft left: cast
    already, in another tab, say, or never made)."""
    from tenants.voting import services

    if cycle_id is None:
        cycle_id = session.scalar(
            select(Cycle.id).where(Cycle.status == VOTING).order_by(Cycle.id.desc()).limit(1)
        )
        if cycle_id is None:
            raise VotingClosed("Voting is not open.", status_now=None)
    sheet = services.sheet_for_online_vote(connection, cycle_id)
    envelope = next((e for e in sheet.envelopes.values() if e.key == envelope_key), None)
    if envelope is None:
        raise NotFound(f"There is no envelope {envelope_key!r} on this ballot.")
    if reviewed is None:
        reviewed = draft_store.drafts_of(session, cycle_id, person_key)
        session.rollback()  # end the read: the cast is its own statement, on its own connection
    ballot = ballot_from_drafts(sheet.envelopes, reviewed, reviewing=envelope.id)
    if not ballot.choices:
        previous = services.has_voted(connection, cycle_id, person_key)
        if previous is not None:
            raise AlreadyVoted(f"This person has already voted in this cycle ({previous}).", channel=previous)
        raise BallotRuleBroken(
            "The ballot is empty.", rule="empty", errors={"choices": ["choose at least one project"]}
        )
    return services.do_cast_ballot(
        connection,
        cycle_id,
        person_key=person_key,
        channel="online",
        voter={**voter, "district_code": ballot.district_code},
        choices=ballot.choices,
        marked_by=marked_by,
        sheet=sheet,
    )
