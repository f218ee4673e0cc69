"""Cycles: creation from the portal's template settings, explicit phase changes, the freeze.

Every action owns its transaction and writes its audit event in it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.audit import services as audit
from saas.core.refusals import Conflict, Invalid, NotFound
from saas.core.tenancy.binding import lock_tenant_table
from saas.core.tenancy.context import TenantRef
from tenants.cycles.models import CLOSED, DRAFT, VOTING, Cycle, CyclePhase, Envelope
from tenants.portal.models import District, PhasePlan
from tenants.portal.services import setting
from tenants.voting.ballot_rules import Ballot as BallotRules
from tenants.voting.rules import with_instructions


def cycle_or_404(session: Session, cycle_id: int, *, lock: bool = False) -> Cycle:
    statement = select(Cycle).where(Cycle.id == cycle_id)
    if lock:
        statement = statement.with_for_update()
    cycle = session.scalar(statement)
    if cycle is None:
        raise NotFound(f"There is no cycle {cycle_id}.")
    return cycle


def ensure_not_frozen(cycle: Cycle, what: str) -> None:
    if cycle.is_frozen:
        raise Conflict(
            f"Voting opened on {cycle.voting_opened_at:%Y-%m-%d %H:%M} UTC: {what} can no longer change."
        )


def require_phase(cycle: Cycle, *phases: str, action: str) -> None:
    if cycle.status not in phases:
        names = " or ".join(phases)
        raise Conflict(f"{action} is possible in the {names} phase; the cycle is in {cycle.status!r}.")


def _envelopes(session: Session, total_budget: int) -> list[Envelope]:
    """Envelopes from the template's shares: citywide one, district one, and one per dong."""
    shares = setting(session, "envelopes", [])
    dongs = list(session.scalars(select(District).order_by(District.code)))
    envelopes: list[Envelope] = []
    for spec in shares:
        amount = int(total_budget * spec["share"])
        name = spec["name"]
        if spec["scope"] == "dong" and dongs:
            each = amount // len(dongs)
            envelopes += [
                Envelope(
                    key=f"dong-{d.code}",
                    scope="dong",
                    area_code=d.code,
                    budget=each,
                    name_ko=f"{d.name_ko} {name['ko']}",
                    name_en=f"{d.name_en or d.name_ko} — {name['en']}",
                )
                for d in dongs
            ]
        else:
            envelopes.append(
                Envelope(
                    key=spec["key"],
                    scope=spec["scope"],
                    budget=amount,
                    name_ko=name["ko"],
                    name_en=name["en"],
                )
            )
    return envelopes


def do_create_cycle(
    session: Session,
    tenant: TenantRef,
    *,
    name_ko: str,
    name_en: str,
    fiscal_year: int,
    starts_on: date,
    total_budget: int,
    actor: str,
) -> Cycle:
    """A cycle with the template's phases (dated one after another from `starts_on`), its
    ballot rules, eligibility and channel weights, and envelopes splitting `total_budget`."""
    plan = list(session.scalars(select(PhasePlan).order_by(PhasePlan.position)))
    if not plan:
        raise Invalid("This portal has no phase plan; apply a template first.")
    phases, day = [], starts_on
    for position, step in enumerate(plan):
        ends = day + timedelta(days=step.default_days - 1)
        phases.append(
            CyclePhase(
                key=step.key,
                position=position,
                name_ko=step.name_ko,
                name_en=step.name_en,
                starts_on=day,
                ends_on=ends,
            )
        )
        day = ends + timedelta(days=1)
    cycle = Cycle(
        name_ko=name_ko,
        name_en=name_en,
        fiscal_year=fiscal_year,
        status=DRAFT,
        ballot=with_instructions(setting(session, "ballot")),
        eligibility=setting(session, "eligibility"),
        channels=setting(session, "channels"),
        phases=phases,
        envelopes=_envelopes(session, total_budget),
    )
    session.add(cycle)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="cycle.create",
        tenant_slug=tenant.slug,
        target=f"cycle:{cycle.id}",
        data={"name_ko": name_ko, "total_budget": total_budget},
    )
    session.commit()
    return cycle


def do_advance_phase(
    session: Session, tenant: TenantRef, cycle_id: int, *, to_phase: str, actor: str
) -> Cycle:
    """Close the open phase and open `to_phase`, which must be the next one (or `closed`
    after the last). Opening voting freezes ballot rules, envelopes and the project list."""
    from tenants.proposals.models import Project

    cycle = cycle_or_404(session, cycle_id, lock=True)
    if cycle.status == VOTING:
        # A ballot checks that voting is open in the statement that stores it. Ballots under
        # way finish before voting closes, later ones wait for this change and then see it:
        # no ballot lands after voting closed (nor after the count).
        from tenants.voting.models import VoterMark

        lock_tenant_table(session, VoterMark.__table__, "SHARE")
    keys = [phase.key for phase in cycle.phases]
    order = [DRAFT, *keys, CLOSED]
    if cycle.status == CLOSED:
        raise Conflict("The cycle is closed.")
    expected = order[order.index(cycle.status) + 1]
    if to_phase != expected:
        raise Conflict(
            f"The next phase after {cycle.status!r} is {expected!r}, not {to_phase!r}; "
            "phases open one after another."
        )
    now = clock.now()
    if to_phase == VOTING:
        projects = session.scalar(
            select(func.count()).select_from(Project).where(Project.cycle_id == cycle.id)
        )
        if not projects:
            raise Conflict("Voting cannot open with no project on the ballot.")
        cycle.voting_opened_at = now
    for phase in cycle.phases:
        if phase.key == cycle.status:
            phase.closed_at = now
        if phase.key == to_phase:
            phase.opened_at = now
    previous, cycle.status = cycle.status, to_phase
    audit.record(
        session,
        actor=actor,
        action="cycle.phase",
        tenant_slug=tenant.slug,
        target=f"cycle:{cycle.id}",
        data={"from": previous, "to": to_phase},
    )
    session.commit()
    return cycle


def do_update_envelope(
    session: Session,
    tenant: TenantRef,
    cycle_id: int,
    envelope_id: int,
    changes: dict[str, Any],
    *,
    actor: str,
) -> Envelope:
    cycle = cycle_or_404(session, cycle_id, lock=True)
    ensure_not_frozen(cycle, "envelopes")
    envelope = next((e for e in cycle.envelopes if e.id == envelope_id), None)
    if envelope is None:
        raise NotFound(f"Cycle {cycle_id} has no envelope {envelope_id}.")
    for name, value in changes.items():
        setattr(envelope, name, value)
    audit.record(
        session,
        actor=actor,
        action="envelope.update",
        tenant_slug=tenant.slug,
        target=f"envelope:{envelope.id}",
        data=changes,
    )
    session.commit()
    return envelope


def do_update_ballot_rules(
    session: Session, tenant: TenantRef, cycle_id: int, ballot: dict[str, Any], *, actor: str
) -> Cycle:
    """Replace the cycle's ballot rules (validated as the templates validate them)."""
    cycle = cycle_or_404(session, cycle_id, lock=True)
    ensure_not_frozen(cycle, "ballot rules")
    try:
        cycle.ballot = with_instructions(BallotRules().load(ballot))
    except ValidationError as error:
        raise Invalid("The ballot rules are invalid.", errors=error.normalized_messages()) from None
    audit.record(
        session,
        actor=actor,
        action="cycle.ballot_rules",
        tenant_slug=tenant.slug,
        target=f"cycle:{cycle.id}",
        data={"type": cycle.ballot["type"]},
    )
    session.commit()
    return cycle


def current_cycle(session: Session) -> Cycle | None:
    """The cycle a resident sees first: the newest one that is open (not a draft, not closed),
    else the newest closed one (its results and execution), else None."""
    from sqlalchemy import case

    open_first = case((Cycle.status == CLOSED, 1), else_=0)
    return session.scalar(
        select(Cycle)
        .where(Cycle.status != DRAFT)
        .order_by(open_first, Cycle.fiscal_year.desc(), Cycle.id.desc())
        .limit(1)
    )
