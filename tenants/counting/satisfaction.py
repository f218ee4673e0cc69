"""Satisfaction functions: how much a ballot gains from a project.

A utility is written `raw × scale[project]`: `raw` depends on the ballot (1 for a listed
project, the points given, a Borda position) and `scale` on the project (its cost, or 1).
Keeping the two apart lets a city-wide count add small integers instead of fractions. Only
positive utilities are kept: a voter with none for a project is not one of its supporters
(MES charges only supporters). The definitions follow pabutools' classes:

- `cost`: the project's cost if the ballot lists it (`Cost_Sat`).
- `cardinality`: 1 if listed (`Cardinality_Sat`).
- `points`: the points given (`Additive_Cardinal_Sat`); an approval counts as one point.
- `borda`: for a ranking, its length minus the position minus 1 (`Additive_Borda_Sat`).
- `score`: points, or 3/2/1 for the first three places of a ranking, times the cost, so that
  greedy by utility per cost ranks by total score (how Kraków selects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from tenants.counting.election import (
    APPROVAL,
    CHOOSE_ONE,
    CUMULATIVE,
    ORDINAL,
    SCORING,
    Ballot,
    Election,
    group_identical,
)

SATISFACTIONS = ("cost", "cardinality", "points", "borda", "score")

Number = int | Fraction


@dataclass
class VoterGroups:
    """Voters with identical utilities, grouped: `counts[g]` voters share `raw[g]`, a tuple of
    (project id, raw utility) with raw > 0."""

    counts: list[int]
    raw: list[tuple[tuple[str, Number], ...]]
    scale: dict[str, Number]

    def totals(self) -> dict[str, Number]:
        """Total utility of each project over all voters."""
        sums: dict[str, Number] = dict.fromkeys(self.scale, 0)
        for count, pairs in zip(self.counts, self.raw, strict=True):
            for p, r in pairs:
                sums[p] += count * r
        return {p: s * self.scale[p] for p, s in sums.items()}


def raw_utilities(sat: str, vote_type: str):
    """A function ballot -> iterable of (project id, raw utility)."""
    if sat not in SATISFACTIONS:
        expected = ", ".join(SATISFACTIONS)
        raise ValueError(f"unknown satisfaction {sat!r}; expected one of {expected}")
    graded = vote_type in (CUMULATIVE, SCORING)
    if sat == "borda":
        if vote_type != ORDINAL:
            raise ValueError("borda satisfaction needs ordinal ballots")
        return lambda b: ((p, len(b.projects) - i - 1) for i, p in enumerate(b.projects))
    if sat == "points" and vote_type == ORDINAL:
        raise ValueError("points satisfaction needs cumulative, scoring or approval ballots")
    if sat == "score" and vote_type == ORDINAL:
        return lambda b: ((p, 3 - i) for i, p in enumerate(b.projects[:3]))
    if sat in ("points", "score") and graded:
        return lambda b: zip(b.projects, b.points, strict=True)
    return lambda b: ((p, 1) for p in b.projects)


def project_totals(election: Election, sat: str) -> dict[str, Number]:
    """Total utility of each project, straight from the ballots (what greedy needs; cheaper
    than grouping voters)."""
    raw_of = raw_utilities(sat, election.vote_type)
    sums: dict[str, Number] = dict.fromkeys(election.projects, 0)
    for ballot, count in zip(election.ballots, election.counts, strict=True):
        for p, r in raw_of(ballot):
            if r > 0:
                sums[p] += count * r
    scale = utility_scale(election, sat)
    return {p: total * scale[p] if scale[p] > 0 else 0 for p, total in sums.items()}


def utility_scale(election: Election, sat: str) -> dict[str, Number]:
    if sat in ("cost", "score"):
        return {p: pr.cost for p, pr in election.projects.items()}
    return dict.fromkeys(election.projects, 1)


def voter_groups(
    election: Election, sat: str, weights: Sequence[Number] | None = None
) -> VoterGroups:
    """Group the voters of `election` by their utilities under `sat`.

    Ballots that differ only in projects worth nothing (the last place of a Borda ranking,
    zero points, a free project under `cost`) count the same and are merged.
    `weights` (one per distinct ballot) multiplies utilities, for channel-weighted counting.
    """
    raw_of = raw_utilities(sat, election.vote_type)
    scale = utility_scale(election, sat)
    worthless = {p for p, s in scale.items() if s <= 0}
    if weights is None and not worthless and election.vote_type in (APPROVAL, CHOOSE_ONE):
        # Every listed project is worth one raw unit and distinct ballots stay distinct: no
        # regrouping needed (the common city-wide case, worth a third of a MES run).
        raw: list[tuple[tuple[str, Number], ...]] = [
            tuple((p, 1) for p in ballot.projects) for ballot in election.ballots
        ]
        return VoterGroups(list(election.counts), raw, scale)

    def keyed():
        for i, (ballot, count) in enumerate(zip(election.ballots, election.counts, strict=True)):
            w = 1 if weights is None else weights[i]
            pairs = tuple((p, r * w) for p, r in raw_of(ballot) if r * w > 0 and p not in worthless)
            # Ballots are canonical (sorted ids; rankings give decreasing raw utilities), so
            # equal utilities give equal keys without sorting.
            yield pairs, count

    keys, counts = group_identical(keyed())
    return VoterGroups(counts, keys, scale)


def utilities_of(ballot: Ballot, election: Election, sat: str) -> dict[str, Number]:
    """One ballot's utilities (for explanations and tests)."""
    groups = voter_groups(
        Election(election.meta, election.projects, election.budget, election.vote_type,
                 [ballot], [1]), sat)
    if not groups.raw:
        return {}
    return {p: r * groups.scale[p] for p, r in groups.raw[0]}
