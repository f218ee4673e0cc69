"""The election being counted: projects, budget and ballots, identical ballots grouped.

Everything here is exact: costs and budgets are `Fraction`s (pabulib allows decimals such as
`2572946.76`), points are `int`s when whole (most are) else `Fraction`s, multiplicities `int`s.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

APPROVAL = "approval"
CHOOSE_ONE = "choose-1"
CUMULATIVE = "cumulative"
SCORING = "scoring"
ORDINAL = "ordinal"
VOTE_TYPES = (APPROVAL, CHOOSE_ONE, CUMULATIVE, SCORING, ORDINAL)


@dataclass(frozen=True)
class Project:
    id: str
    cost: Fraction
    # Every column of the PROJECTS row as read (name, category, votes, selected, ...).
    fields: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return self.fields.get("name", "")


@dataclass(frozen=True)
class Ballot:
    """One way of voting. `projects` keeps the voter's order (it is the ranking for ordinal
    ballots); `points` runs parallel to it for cumulative and scoring ballots, else is empty."""

    projects: tuple[str, ...]
    points: tuple[int | Fraction, ...] = ()


@dataclass
class Election:
    meta: dict[str, str]
    projects: dict[str, Project]
    budget: Fraction
    vote_type: str
    # Distinct ballots and how many voters cast each; `sum(counts)` voters in all,
    # empty ballots included (they still receive a share of the budget under MES).
    ballots: list[Ballot]
    counts: list[int]
    # Columns and raw rows kept only so that a file can be written back as it was read.
    project_columns: list[str] = field(default_factory=list)
    vote_columns: list[str] = field(default_factory=list)
    vote_rows: list[list[str]] = field(default_factory=list)

    @property
    def voter_count(self) -> int:
        return sum(self.counts)

    @property
    def rule(self) -> str:
        return self.meta.get("rule", "")

    def supporters(self) -> dict[str, int]:
        """Number of voters who listed each project (zero points included, as pabutools)."""
        tally = dict.fromkeys(self.projects, 0)
        for ballot, count in zip(self.ballots, self.counts, strict=True):
            for pid in set(ballot.projects):
                tally[pid] += count
        return tally

    def with_budget(self, budget: Fraction) -> Election:
        return Election(
            dict(self.meta), self.projects, Fraction(budget), self.vote_type,
            self.ballots, self.counts, self.project_columns, self.vote_columns, self.vote_rows,
        )


def build_election(
    meta: dict[str, str],
    projects: list[Project],
    budget: Fraction,
    vote_type: str,
    ballots: list[Ballot],
    counts: list[int] | None = None,
) -> Election:
    """Build an election from ballots (one per voter, or with `counts`), grouping identical ones."""
    if counts is None:
        counts = [1] * len(ballots)
    distinct, tally = group_identical(
        (canonical(ballot, vote_type), count)
        for ballot, count in zip(ballots, counts, strict=True)
    )
    meta = dict(meta)
    meta.setdefault("vote_type", vote_type)
    meta.setdefault("budget", format_number(budget))
    return Election(meta, {p.id: p for p in projects}, Fraction(budget), vote_type, distinct, tally)


def group_identical(keyed: Iterable[tuple[Hashable, int]]) -> tuple[list, list[int]]:
    """Distinct keys in first-seen order, with the summed counts."""
    at: dict[Hashable, int] = {}
    keys: list = []
    counts: list[int] = []
    for key, count in keyed:
        j = at.get(key)
        if j is None:
            at[key] = len(keys)
            keys.append(key)
            counts.append(count)
        else:
            counts[j] += count
    return keys, counts


def canonical(ballot: Ballot, vote_type: str) -> Ballot:
    """Ballots that count the same compare equal: approval sets ignore order and repeats."""
    if vote_type in (APPROVAL, CHOOSE_ONE):
        return Ballot(tuple(sorted(set(ballot.projects))))
    if vote_type == ORDINAL:
        seen: dict[str, None] = {}
        for pid in ballot.projects:
            seen.setdefault(pid, None)
        return Ballot(tuple(seen))
    # Cumulative/scoring: a repeated project keeps its last points, as pabutools does.
    last = dict(zip(ballot.projects, ballot.points, strict=True))
    ordered = tuple(sorted(last))
    return Ballot(ordered, tuple(last[p] for p in ordered))


def format_number(value: int | Fraction) -> str:
    """Write a money amount as pabulib does: an integer, or a terminating decimal."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        raise ValueError(f"{value} has no finite decimal form")
    places = max(twos, fives)
    scaled = value * 10**places
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"
