"""Fixtures for the counting tests: the shared pabulib files and generated elections."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from tenants.counting.election import (
    APPROVAL,
    CHOOSE_ONE,
    CUMULATIVE,
    ORDINAL,
    Ballot,
    Election,
    Project,
    build_election,
)
from tests.counting.paths import pabulib_dir

VOTE_TYPES = (APPROVAL, CHOOSE_ONE, CUMULATIVE, ORDINAL)
KINDS = ("random", "tie-heavy", "knapsack")


@pytest.fixture(scope="session")
def pabulib_folder() -> Path:
    folder = pabulib_dir()
    if folder is None:
        pytest.skip("shared pabulib files not found: set PABULIB_DIR or put them in "
                    "../shared/pabulib beside the repository")
    return folder


def generated_election(seed: int) -> Election:
    """A small random election; the seed picks the vote type and the kind:
    `tie-heavy` (few distinct costs and ballots, so rules meet exact ties), `knapsack`
    (approval ballots that each fit the budget), or `random`. Ids mix digits and letters so
    that string order differs from numeric order ("10" < "9")."""
    rng = random.Random(seed)
    vote_type = VOTE_TYPES[seed % len(VOTE_TYPES)]
    kind = KINDS[(seed // len(VOTE_TYPES)) % len(KINDS)]
    m = rng.randint(3, 8)
    ids = rng.sample([str(i) for i in range(1, 13)] + ["a", "b2", "Z"], m)
    if kind == "tie-heavy":
        costs = [Fraction(rng.choice([10, 20])) for _ in ids]
    else:
        costs = [Fraction(rng.randint(1, 40)) for _ in ids]
    if rng.random() < 0.15:
        costs[0] = Fraction(0)  # a free project (pabutools funds wanted ones first)
    if rng.random() < 0.2:
        costs[-1] += Fraction(1, 2)  # decimal costs exist (Kraków)
    projects = [
        Project(pid, cost, {"name": f"project {pid}"})
        for pid, cost in zip(ids, costs, strict=True)
    ]
    total = sum(costs)
    budget = Fraction(rng.randint(int(total * 0.3) + 1, int(total * 0.8) + 2))
    n = rng.randint(3, 14)
    # Leave the last project without votes now and then (greedy still funds it if it fits).
    votable = ids[:-1] if rng.random() < 0.3 else ids
    pool = None
    if kind == "tie-heavy":
        pool = [random_ballot(rng, vote_type, votable, projects, budget, kind) for _ in range(2)]
    ballots = [
        rng.choice(pool) if pool else random_ballot(rng, vote_type, votable, projects, budget,
                                                    kind)
        for _ in range(n)
    ]
    meta = {"description": f"generated {seed}", "country": "test", "unit": kind,
            "instance": str(seed)}
    return build_election(meta, projects, budget, vote_type, ballots)


def random_ballot(rng, vote_type, ids, projects, budget, kind) -> Ballot:
    if vote_type == CHOOSE_ONE:
        return Ballot((rng.choice(ids),))
    if kind == "knapsack" and vote_type == APPROVAL:
        cost = {p.id: p.cost for p in projects}
        chosen, spent = [], Fraction(0)
        for pid in rng.sample(ids, len(ids)):
            if spent + cost[pid] <= budget and rng.random() < 0.7:
                chosen.append(pid)
                spent += cost[pid]
        return Ballot(tuple(chosen))
    size = rng.randint(1, len(ids))
    chosen = tuple(rng.sample(ids, size))
    if vote_type == CUMULATIVE:
        return Ballot(chosen, tuple(rng.randint(1, 4) for _ in chosen))
    return Ballot(chosen)
