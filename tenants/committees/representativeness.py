"""How well a committee's members mirror the people they stand for: members by the
committee's age bands and sex, against the official population of the municipality (city
committees) or of the dong (dong committees), from `saas.regions`.

Shares are among the eligible population only (the ages the committee's bands cover), so
children do not dilute the comparison. Official figures come in 5-year bands; a committee band
that cuts one (16–29 takes 4 of the 5 years of 15–19) takes that share of it, assuming ages are
even within a 5-year band. Members count only with consent and demographics on record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from saas import regions
from saas.core.tenancy.context import TenantRef
from tenants.committees.lottery import SEXES, band_key
from tenants.committees.models import Committee, CommitteeMember
from tenants.committees.services import active_members, committee_or_404

METHOD = (
    "members with consent by the committee's age bands and sex, against the official population "
    "of the same ages; 5-year official bands split evenly by year where a committee band cuts them"
)


def _overlap(lo: int, hi: int | None, band: regions.AgeBand) -> float:
    """The share of an official band's people whose age lies in [lo, hi]."""
    if band.max_age is None:
        return 1.0 if hi is None or hi >= band.min_age else 0.0
    top = band.max_age if hi is None else min(hi, band.max_age)
    years = top - max(lo, band.min_age) + 1
    return max(0, years) / (band.max_age - band.min_age + 1)


def population_in(profile: regions.AgeSexProfile, lo: int, hi: int | None) -> dict[str, float]:
    """Official population aged lo..hi (hi None: and over), by sex."""
    totals = dict.fromkeys(SEXES, 0.0)
    for band in profile.bands:
        share = _overlap(lo, hi, band)
        totals["female"] += share * band.female
        totals["male"] += share * band.male
    return totals


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _figures(
    members: int, member_total: int, population: float | None, population_total: float
) -> dict[str, Any]:
    member_share = _share(members, member_total)
    if population is None:
        return {"members": members, "member_share": member_share, "population": None}
    population_share = _share(population, population_total)
    return {
        "members": members,
        "member_share": member_share,
        "population": round(population),
        "population_share": population_share,
        "gap": round(member_share - population_share, 4),
    }


def report(committee: Committee, members: Sequence[CommitteeMember], area_code: str) -> dict[str, Any]:
    """The representativeness report of `committee` (members: its active members) against
    the population of `area_code` (a local government or dong code known to saas.regions).
    Population figures are None when the official data has none for the area."""
    bands = sorted(committee.quotas.get("age_bands", []), key=lambda b: b["min_age"])
    known = [m for m in members if m.consent and m.sex in SEXES and m.age is not None]
    try:
        profile = regions.population_by_age_sex(area_code)
    except regions.UnknownRegion:  # a code re-issued since the tenant was made: no figures
        profile = None

    counted: Counter[tuple[str, str | None]] = Counter()
    for member in known:
        for b in bands:
            if member.age >= b["min_age"] and (b["max_age"] is None or member.age <= b["max_age"]):
                counted[(band_key(b["min_age"], b["max_age"]), member.sex)] += 1
                break
    in_bands = sum(counted.values())

    population = {
        band_key(b["min_age"], b["max_age"]): population_in(profile, b["min_age"], b["max_age"])
        for b in bands
        if profile is not None
    }
    eligible = sum(sum(p.values()) for p in population.values())

    groups = []
    for b in bands:
        key = band_key(b["min_age"], b["max_age"])
        for sex in SEXES:
            pop = population[key][sex] if profile is not None else None
            groups.append(
                {"age_band": key, "min_age": b["min_age"], "max_age": b["max_age"], "sex": sex}
                | _figures(counted[(key, sex)], in_bands, pop, eligible)
            )
    sexes = []
    for sex in SEXES:
        pop = sum(p[sex] for p in population.values()) if profile is not None else None
        sexes.append(
            {"sex": sex}
            | _figures(sum(n for (_, s), n in counted.items() if s == sex), in_bands, pop, eligible)
        )
    return {
        "committee_id": committee.id,
        "area_code": area_code,
        "area_name": profile.name_ko if profile is not None else None,
        "population_month": profile.month if profile is not None else None,
        "method": METHOD,
        "members": len(members),
        "members_with_demographics": in_bands,
        "groups": groups,
        "sexes": sexes,
    }


def committee_report(session: Session, tenant: TenantRef, cycle_id: int, committee_id: int) -> dict[str, Any]:
    """`report` for a committee of the request's tenant: a dong committee against its dong,
    a city committee against the municipality (the tenant's region, as resolved with it)."""
    committee = committee_or_404(session, cycle_id, committee_id)
    area = committee.dong_code or tenant.region_code
    return report(committee, active_members(session, committee), area)
