"""A voter's age is counted in the Korean calendar year in which voting opened."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saas.core.refusals import Invalid
from tenants.cycles.models import Cycle
from tenants.voting.rules import check_eligibility


def _cycle(voting_opened_at: datetime) -> Cycle:
    return Cycle(
        fiscal_year=2027,
        voting_opened_at=voting_opened_at,
        eligibility={"residents": True, "min_age": 14},
    )


def test_voting_opened_just_after_midnight_on_new_years_day_in_seoul_counts_ages_in_the_new_year():
    # 00:30 on 1 January 2027 in Seoul is still 31 December 2026 in UTC.
    cycle = _cycle(datetime(2026, 12, 31, 15, 30, tzinfo=UTC))
    check_eligibility(cycle, basis="resident", birth_year=2013)  # 14 in 2027
    with pytest.raises(Invalid, match="at least 14 in 2027"):
        check_eligibility(cycle, basis="resident", birth_year=2014)


def test_voting_opened_just_before_midnight_on_new_years_eve_counts_ages_in_the_old_year():
    cycle = _cycle(datetime(2026, 12, 31, 14, 59, tzinfo=UTC))  # 23:59 in Seoul
    with pytest.raises(Invalid, match="at least 14 in 2026"):
        check_eligibility(cycle, basis="resident", birth_year=2013)
