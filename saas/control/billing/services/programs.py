"""Subsidy programs, their versioned tier rates and the tenants' tier assignments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from saas import regions
from saas.control.billing.models import SubsidyProgram, TierAssignment, TierRate
from saas.control.billing.services import ledger
from saas.core.audit import services as audit
from saas.core.refusals import Conflict, NotFound
from saas.core.registry.models import Tenant


class SubsidyRefused(Conflict):
    """A request the subsidy rules do not allow (a 409)."""


def do_create_program(
    session: Session,
    *,
    code: str,
    name: str,
    fiscal_year: int,
    budget: int,
    tiers: list[dict[str, Any]],
    eligibility: dict[str, Any] | None = None,
    actor: str,
) -> SubsidyProgram:
    """Open a program: its row, rate version 1 (effective 1 January) and the ledger entry that
    makes the budget available. Commits."""
    if session.scalar(select(SubsidyProgram.id).where(SubsidyProgram.code == code)) is not None:
        raise SubsidyRefused(f"a subsidy program {code!r} exists already")
    program = SubsidyProgram(
        code=code, name=name, fiscal_year=fiscal_year, budget=budget, eligibility=eligibility or {}
    )
    session.add(program)
    session.flush()
    _add_rate_version(session, program, 1, date(fiscal_year, 1, 1), tiers, actor)
    ledger.post(
        session,
        program_id=program.id,
        idempotency_key=f"program:{program.id}:open",
        kind="budget_open",
        lines=[ledger.Line("available", budget), ledger.Line("appropriation", -budget)],
        inputs={"budget": budget, "fiscal_year": fiscal_year},
    )
    audit.record(
        session,
        actor=actor,
        action="subsidy.program.create",
        target=f"program:{program.id}",
        data={"code": code, "fiscal_year": fiscal_year, "budget": budget},
    )
    session.commit()
    return program


def _check_tiers(tiers: list[dict[str, Any]]) -> None:
    names = [t["tier"] for t in tiers]
    if not tiers or len(set(names)) != len(names):
        raise SubsidyRefused("give at least one tier, each name once")
    ranges = sorted((t["min_pct"], t["max_pct"]) for t in tiers)
    for (_, high), (next_low, _) in zip(ranges, ranges[1:], strict=False):
        if high > next_low:
            raise SubsidyRefused("tier ranges of fiscal independence must not overlap")
    if any(t["min_pct"] >= t["max_pct"] for t in tiers):
        raise SubsidyRefused("each tier needs min_pct < max_pct")


def _add_rate_version(
    session: Session,
    program: SubsidyProgram,
    version: int,
    effective_from: date,
    tiers: list[dict[str, Any]],
    actor: str,
) -> None:
    _check_tiers(tiers)
    for tier in tiers:
        session.add(
            TierRate(
                program_id=program.id,
                version=version,
                effective_from=effective_from,
                tier=tier["tier"],
                rate_bp=tier["rate_bp"],
                min_pct=tier["min_pct"],
                max_pct=tier["max_pct"],
                created_by=actor,
            )
        )
    session.flush()


def do_add_rate_version(
    session: Session, program_id: int, *, effective_from: date, tiers: list[dict[str, Any]], actor: str
) -> int:
    """A new rate table from `effective_from` on (earlier service periods keep the old one).
    Returns the version number. Commits."""
    program = ledger.lock_program(session, program_id)
    if effective_from.year != program.fiscal_year:
        raise SubsidyRefused(f"the program covers fiscal year {program.fiscal_year}")
    latest = session.scalar(select(func.max(TierRate.version)).where(TierRate.program_id == program_id)) or 0
    _add_rate_version(session, program, latest + 1, effective_from, tiers, actor)
    audit.record(
        session,
        actor=actor,
        action="subsidy.rates.version",
        target=f"program:{program_id}",
        data={"version": latest + 1, "effective_from": effective_from.isoformat(), "tiers": tiers},
    )
    session.commit()
    return latest + 1


def rates_on(session: Session, program_id: int, day: date) -> list[TierRate]:
    """The rate table in force on `day` (the newest version effective by then)."""
    version = session.scalar(
        select(func.max(TierRate.version)).where(
            TierRate.program_id == program_id, TierRate.effective_from <= day
        )
    )
    if version is None:
        return []
    return list(
        session.scalars(
            select(TierRate)
            .where(TierRate.program_id == program_id, TierRate.version == version)
            .order_by(TierRate.min_pct)
        )
    )


def tier_for_pct(rates: list[TierRate], pct: float | None) -> str | None:
    if pct is None:
        return None
    for rate in rates:
        if rate.min_pct <= pct < rate.max_pct:
            return rate.tier
    return None


def is_eligible(program: SubsidyProgram, tenant: Tenant) -> tuple[bool, str]:
    """Eligibility rules: `basic_local_gov_only` (시·군·자치구 only), `max_fiscal_independence_pct`,
    `region_prefixes` (시도 codes)."""
    rules = program.eligibility or {}
    try:
        government = regions.lookup(tenant.region_code[:5])
    except regions.UnknownRegion as error:
        return False, str(error)
    if rules.get("basic_local_gov_only") and not government.is_basic_local_gov:
        return False, f"{government.full_name_ko} is not a basic local government"
    ceiling = rules.get("max_fiscal_independence_pct")
    pct = government.fiscal_independence_pct
    if ceiling is not None and (pct is None or pct >= ceiling):
        return False, f"fiscal independence {pct} % is not below {ceiling} %"
    prefixes = rules.get("region_prefixes")
    if prefixes and not any(government.sgg_code.startswith(p) for p in prefixes):
        return False, f"{government.full_name_ko} is outside the program's regions"
    return True, "eligible"


def do_assign_tier(
    session: Session,
    program_id: int,
    tenant_id: int,
    *,
    valid_from: date,
    tier: str | None = None,
    evidence: str | None = None,
    actor: str,
) -> TierAssignment:
    """Assign the tenant's tier from `valid_from` on. Without `tier`, it follows from the
    municipality's fiscal independence ratio in the official data (the evidence says so).
    Commits."""
    program = ledger.lock_program(session, program_id)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id}")
    eligible, why = is_eligible(program, tenant)
    if not eligible:
        raise SubsidyRefused(why)
    rates = rates_on(session, program_id, valid_from)
    pct = regions.lookup(tenant.region_code[:5]).fiscal_independence_pct
    if tier is None:
        tier = tier_for_pct(rates, pct)
        if tier is None:
            raise SubsidyRefused(f"no tier covers fiscal independence {pct} %")
        evidence = evidence or f"{regions.FISCAL_INDEPENDENCE_NOTE}: {pct}"
    elif tier not in {r.tier for r in rates}:
        raise SubsidyRefused(f"the program has no tier {tier!r} on {valid_from}")
    assignment = TierAssignment(
        program_id=program_id,
        tenant_id=tenant_id,
        tier=tier,
        valid_from=valid_from,
        fiscal_independence_pct=pct,
        evidence=evidence or "assigned by the ministry",
        created_by=actor,
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subsidy.tier.assign",
        tenant_slug=tenant.slug,
        target=f"program:{program_id}",
        data={"tier": tier, "valid_from": valid_from.isoformat()},
    )
    session.commit()
    return assignment


def assign_tier_from_official_data(
    session: Session, program: SubsidyProgram, tenant: Tenant, day: date
) -> TierAssignment | None:
    """In the caller's transaction: the tenant's tier in `program` from `day` on, as its fiscal
    independence ratio in the official data decides, unless one is in force on `day` already.
    None when the tenant is not eligible or no tier covers its ratio (it then gets no subsidy
    until the ministry assigns one). The system's decision, audited with its evidence."""
    existing = assignment_on(session, program.id, tenant.id, day)
    if existing is not None:
        return existing
    eligible, _ = is_eligible(program, tenant)
    if not eligible:  # this includes a region code the official data does not know
        return None
    pct = regions.lookup(tenant.region_code[:5]).fiscal_independence_pct
    tier = tier_for_pct(rates_on(session, program.id, day), pct)
    if tier is None:
        return None
    evidence = f"{regions.FISCAL_INDEPENDENCE_NOTE}: {pct}"
    assignment = TierAssignment(
        program_id=program.id,
        tenant_id=tenant.id,
        tier=tier,
        valid_from=day,
        fiscal_independence_pct=pct,
        evidence=evidence,
        created_by="system",
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        actor="system",
        action="subsidy.tier.assign",
        tenant_slug=tenant.slug,
        target=f"program:{program.id}",
        data={"tier": tier, "valid_from": day.isoformat(), "evidence": evidence},
    )
    return assignment


def assignment_on(session: Session, program_id: int, tenant_id: int, day: date) -> TierAssignment | None:
    return session.scalar(
        select(TierAssignment)
        .where(
            TierAssignment.program_id == program_id,
            TierAssignment.tenant_id == tenant_id,
            TierAssignment.valid_from <= day,
        )
        .order_by(TierAssignment.valid_from.desc(), TierAssignment.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class RateDecision:
    program_id: int
    tier: str
    rate_bp: int
    rate_version: int
    assignment_id: int


def program_for_service_period(session: Session, start: date) -> SubsidyProgram | None:
    """The fiscal year is decided by when the service is delivered, not when it is billed."""
    return session.scalar(
        select(SubsidyProgram)
        .where(SubsidyProgram.fiscal_year == start.year)
        .order_by(SubsidyProgram.id)
        .limit(1)
    )


def rate_for(session: Session, program_id: int, tenant_id: int, day: date) -> RateDecision | None:
    """The tier and rate that apply to `tenant_id` for a service period starting on `day`."""
    assignment = assignment_on(session, program_id, tenant_id, day)
    if assignment is None:
        return None
    for rate in rates_on(session, program_id, day):
        if rate.tier == assignment.tier:
            return RateDecision(program_id, rate.tier, rate.rate_bp, rate.version, assignment.id)
    return None
