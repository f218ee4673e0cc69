"""Turnout: who took part, by channel, against the official eligible population.

The eligible population is an estimate from the official figures shipped in `saas.regions`:
residents of the area by 5-year age band (month `AGE_SEX_MONTH`), counting the bands inside
the cycle's age limits and, for a band the limit cuts, the share of its years inside (residents
taken as spread evenly over a band's five years). People who may vote because they work or
study in the area are not in the official figures, so a rate can pass 100 % only by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from saas.regions import AGE_SEX_MONTH, UnknownRegion, population_by_age_sex
from tenants.voting.models import CHANNELS, Ballot, BallotChoice

BAND_YEARS = 5


@dataclass(frozen=True)
class Eligible:
    """Residents of an area within the cycle's age limits (`max_age` None: no upper limit)."""

    count: int
    area_code: str
    min_age: int
    max_age: int | None
    month: str
    # True when an age limit cut a band, so `count` takes a share of that band's residents.
    estimated: bool


@dataclass(frozen=True)
class ChannelCount:
    channel: str  # online | onsite | paper (| import, for a cycle imported from pabulib)
    voters: int


@dataclass(frozen=True)
class Turnout:
    voters: int
    by_channel: tuple[ChannelCount, ...]
    eligible: Eligible | None  # None where no official figure exists for the area

    @property
    def rate(self) -> float | None:
        """Voters over the eligible population (0.0 .. possibly above 1.0), or None."""
        if self.eligible is None or self.eligible.count <= 0:
            return None
        return self.voters / self.eligible.count


def eligible_population(area_code: str | None, min_age: int, max_age: int | None) -> Eligible | None:
    """Residents of `area_code` (a 시군구 or 행정동 code of `saas.regions`) aged `min_age` to
    `max_age`, or None when the area has no official figure (or the code names none)."""
    if not area_code:
        return None
    try:
        profile = population_by_age_sex(area_code)
    except UnknownRegion:
        return None
    if profile is None:
        return None
    total = Fraction(0)
    estimated = False
    for band in profile.bands:
        top = band.max_age if band.max_age is not None else None
        if top is None:  # the open band (100+): in whenever the limits reach 100
            inside = max_age is None or max_age >= band.min_age
            total += band.total if inside and min_age <= band.min_age else 0
            continue
        low, high = max(band.min_age, min_age), min(top, max_age if max_age is not None else top)
        years = high - low + 1
        if years <= 0:
            continue
        if years < BAND_YEARS:
            estimated = True
        total += Fraction(band.total * years, BAND_YEARS)
    return Eligible(round(total), area_code, min_age, max_age, AGE_SEX_MONTH, estimated)


def _ordered(counts: dict[str, int]) -> tuple[ChannelCount, ...]:
    """Every voting channel (zero included, so a page always shows all three), then others."""
    names = [*CHANNELS, *sorted(c for c in counts if c not in CHANNELS)]
    return tuple(ChannelCount(c, counts.get(c, 0)) for c in names)


def envelope_turnout(session: Session, envelope_id: int, eligible: Eligible | None) -> Turnout:
    """The ballots that chose at least one project of the envelope, by channel (as counted)."""
    rows = session.execute(
        select(Ballot.channel, func.count(distinct(BallotChoice.ballot_id)))
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(BallotChoice.envelope_id == envelope_id)
        .group_by(Ballot.channel)
    ).all()
    counts = {channel: n for channel, n in rows}
    return Turnout(sum(counts.values()), _ordered(counts), eligible)


def cycle_turnout(session: Session, cycle_id: int, eligible: Eligible | None) -> Turnout:
    """Every ballot of the cycle, by channel."""
    rows = session.execute(
        select(Ballot.channel, func.count()).where(Ballot.cycle_id == cycle_id).group_by(Ballot.channel)
    ).all()
    counts = {channel: n for channel, n in rows}
    return Turnout(sum(counts.values()), _ordered(counts), eligible)
