"""Counting a cycle's envelopes, publishing the results, recounting to verify them, and
pabulib export and import."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from saas.core import clock
from saas.core.audit import services as audit
from saas.core.tenancy.context import TenantRef
from tenants.committees.services import committee_scores
from tenants.counting.pabulib import PabulibError, parse_pabulib, write_pabulib
from tenants.cycles.models import Cycle, CyclePhase, Envelope
from tenants.cycles.services import cycle_or_404, require_phase
from tenants.errors import Conflict, Invalid, NotFound
from tenants.execution.models import ExecutionItem
from tenants.proposals.models import Project
from tenants.results.counting import count
from tenants.results.election import election_for, elections_by_channel
from tenants.results.models import Result
from tenants.voting.models import Ballot, BallotChoice

RESULTS = "results"


def _committee_scores(session: Session, cycle: Cycle) -> dict[str, float] | None:
    """Committee scores by project code (0..1) for the blended rule; None for other rules."""
    if cycle.ballot["counting"]["rule"] != "blended":
        return None
    by_id = committee_scores(session, cycle.id)
    codes = dict(session.execute(select(Project.id, Project.code).where(Project.cycle_id == cycle.id)).all())
    return {codes[pid]: score for pid, score in by_id.items() if pid in codes}


def count_envelope(
    session: Session,
    tenant: TenantRef,
    cycle: Cycle,
    envelope: Envelope,
    committee: dict[str, float] | None,
) -> dict[str, Any]:
    """Count one envelope; `committee` is `_committee_scores(...)`, read once per cycle."""
    by_channel = elections_by_channel(session, cycle, envelope, unit=tenant.name)
    return count(
        by_channel, cycle.ballot, cycle.channels, seed=f"{tenant.slug}:{cycle.id}", committee=committee
    )


def latest_results(session: Session, cycle_id: int) -> list[Result]:
    """The cycle's results, one per envelope (counting again replaces them)."""
    return list(
        session.scalars(select(Result).where(Result.cycle_id == cycle_id).order_by(Result.envelope_id))
    )


def do_count(session: Session, tenant: TenantRef, cycle_id: int, *, actor: str) -> list[Result]:
    """Count every envelope (in the results phase). Counting again replaces unpublished results."""
    cycle = cycle_or_404(session, cycle_id, lock=True)
    require_phase(cycle, RESULTS, action="Counting")
    if any(r.published_at for r in latest_results(session, cycle.id)):
        raise Conflict("The results are published; verify them instead of counting again.")
    session.execute(delete(Result).where(Result.cycle_id == cycle.id))
    results = []
    committee = _committee_scores(session, cycle)
    for envelope in cycle.envelopes:
        record = count_envelope(session, tenant, cycle, envelope, committee)
        results.append(
            Result(
                cycle_id=cycle.id,
                envelope_id=envelope.id,
                record=record,
                input_hash=record["input_hash"],
                result_hash=record["result_hash"],
                counted_by=actor,
            )
        )
    session.add_all(results)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="results.count",
        tenant_slug=tenant.slug,
        target=f"cycle:{cycle.id}",
        data={str(r.envelope_id): r.result_hash for r in results},  # JSON's keys are strings
    )
    session.commit()
    return results


def do_publish(session: Session, tenant: TenantRef, cycle_id: int, *, actor: str) -> list[Result]:
    """Publish the counted results and open an execution item for every funded project."""
    cycle = cycle_or_404(session, cycle_id, lock=True)
    results = latest_results(session, cycle.id)
    if not results:
        raise Conflict("Count the cycle before publishing its results.")
    now = clock.now()
    funded: list[str] = []
    for result in results:
        result.published_at = result.published_at or now
        funded += result.record["selected"]
    projects = session.scalars(select(Project).where(Project.cycle_id == cycle.id, Project.code.in_(funded)))
    rows = [{"project_id": p.id, "budget": p.cost} for p in projects]
    if rows:
        session.execute(
            insert(ExecutionItem).values(rows).on_conflict_do_nothing(index_elements=["project_id"])
        )
    audit.record(
        session,
        actor=actor,
        action="results.publish",
        tenant_slug=tenant.slug,
        target=f"cycle:{cycle.id}",
        data={"funded": sorted(funded)},
    )
    session.commit()
    return results


def verify(session: Session, tenant: TenantRef, cycle_id: int) -> list[dict[str, Any]]:
    """Recount every envelope from the stored ballots and compare both hashes."""
    cycle = cycle_or_404(session, cycle_id)
    results = latest_results(session, cycle.id)
    if not results:
        raise Conflict("There is no result to verify yet.")
    envelopes = {e.id: e for e in cycle.envelopes}
    committee = _committee_scores(session, cycle)
    report = []
    for result in results:
        recount = count_envelope(session, tenant, cycle, envelopes[result.envelope_id], committee)
        report.append(
            {
                "envelope": envelopes[result.envelope_id].key,
                "stored_result_hash": result.result_hash,
                "recounted_result_hash": recount["result_hash"],
                "input_unchanged": recount["input_hash"] == result.input_hash,
                "match": recount["result_hash"] == result.result_hash,
            }
        )
    return report


def export_pabulib(session: Session, tenant: TenantRef, cycle_id: int, envelope_key: str) -> str:
    cycle = cycle_or_404(session, cycle_id)
    envelope = next((e for e in cycle.envelopes if e.key == envelope_key), None)
    if envelope is None:
        raise NotFound(f"Cycle {cycle_id} has no envelope {envelope_key!r}.")
    election = election_for(session, cycle, envelope, unit=tenant.name)
    election.meta["rule"] = cycle.ballot["counting"]["rule"]
    return write_pabulib(election)


_TYPES = {"approval": "approval", "choose-1": "approval", "cumulative": "cumulative", "ordinal": "ranked"}


def do_import_pabulib(
    session: Session,
    tenant: TenantRef,
    text: str,
    *,
    name_ko: str,
    name_en: str,
    fiscal_year: int,
    actor: str,
) -> Cycle:
    """A historic cycle from a pabulib file: one citywide envelope, its projects and ballots
    (channel "import"), closed, ready to count or to compare with the official outcome."""
    try:
        election = parse_pabulib(text)
    except PabulibError as error:
        raise Invalid(f"The file is not valid pabulib: {error}", errors={"file": [str(error)]}) from None
    if election.vote_type not in _TYPES:
        raise Invalid(f"Vote type {election.vote_type!r} cannot be imported.", errors={"file": ["vote type"]})
    if election.budget.denominator != 1 or any(p.cost.denominator != 1 for p in election.projects.values()):
        raise Invalid("Costs and budget must be whole amounts.", errors={"file": ["fractional amounts"]})
    ballot_type = _TYPES[election.vote_type]
    rules: dict[str, Any] = {"type": ballot_type, "counting": {"rule": "greedy"}, "tie_break": ["votes_desc"]}
    rules.update(
        {
            "approval": {"k": max(1, len(election.projects))},
            "cumulative": {"points": 10**6},
            "ranked": {"max_rank": max(1, len(election.projects))},
        }[ballot_type]
    )
    today = clock.today()
    cycle = Cycle(
        name_ko=name_ko,
        name_en=name_en,
        fiscal_year=fiscal_year,
        status=RESULTS,
        ballot=rules,
        eligibility={"residents": True, "workers": True, "students": True, "min_age": 0},
        channels={"online": 1, "onsite": 1, "paper": 1, "import": 1},
        voting_opened_at=clock.now(),
        phases=[
            CyclePhase(
                key=RESULTS, position=0, name_ko="결과", name_en="Results", starts_on=today, ends_on=today
            )
        ],
        envelopes=[
            Envelope(
                key="citywide",
                scope="citywide",
                name_ko=name_ko,
                name_en=name_en,
                budget=int(election.budget),
            )
        ],
    )
    session.add(cycle)
    session.flush()
    envelope = cycle.envelopes[0]
    ids = {}
    for code, project in election.projects.items():
        row = Project(
            cycle_id=cycle.id,
            envelope_id=envelope.id,
            code=code[:32],
            title_ko=(project.name or code)[:200],
            title_en=(project.name or code)[:200],
            category_key=project.fields.get("category", "imported")[:64] or "imported",
            cost=int(project.cost),
        )
        session.add(row)
        session.flush()
        ids[code] = row.id
    voters = [
        ballot
        for ballot, multiplicity in zip(election.ballots, election.counts, strict=True)
        for _ in range(multiplicity)
        if ballot.projects
    ]
    if voters:
        ballot_ids = session.scalars(
            insert(Ballot).returning(Ballot.id, sort_by_parameter_order=True),
            [{"cycle_id": cycle.id, "channel": "import"}] * len(voters),
        ).all()
        choices = []
        for ballot_id, ballot in zip(ballot_ids, voters, strict=True):
            values = ballot.points if ballot.points else [1] * len(ballot.projects)
            if ballot_type == "ranked":
                values = list(range(1, len(ballot.projects) + 1))
            choices += [
                {"ballot_id": ballot_id, "project_id": ids[code], "envelope_id": envelope.id, "value": int(v)}
                for code, v in zip(ballot.projects, values, strict=True)
            ]
        session.execute(insert(BallotChoice), choices)
    audit.record(
        session,
        actor=actor,
        action="cycle.import",
        tenant_slug=tenant.slug,
        target=f"cycle:{cycle.id}",
        data={"projects": len(ids), "voters": election.voter_count},
    )
    session.commit()
    return cycle
