"""Tie-breaking chains: which of several equally good projects goes first.

A chain is a comma-separated list of criteria, applied in order, each an exact comparison:
`id` (project id as a string, ascending: pabutools' default, used for conformance),
`min-cost`, `max-cost`, `max-votes`, `min-votes` and `lot:SEED` (a seeded draw, the same for
every run so that add1 iterations agree). The project id always closes the chain so that the
order is total and a recount gives the same result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from tenants.counting.election import Election

DEFAULT_CHAIN = "id"
# equalshares.net's recommendation for real elections.
RECOMMENDED_CHAIN = "min-cost,max-votes,lot:0"

TieKey = Callable[[str], tuple]


def parse_chain(chain: str) -> list[str]:
    criteria = [c.strip() for c in chain.split(",") if c.strip()]
    if not criteria:
        raise ValueError("empty tie-breaking chain")
    for criterion in criteria:
        if criterion in ("id", "min-cost", "max-cost", "max-votes", "min-votes"):
            continue
        if criterion.startswith("lot:") and criterion[4:]:
            continue
        raise ValueError(
            f"unknown tie-break {criterion!r}; use id, min-cost, max-cost, max-votes, "
            "min-votes or lot:SEED"
        )
    return criteria


def tie_key(election: Election, chain: str = DEFAULT_CHAIN) -> TieKey:
    """A sort key: the smaller key wins a tie."""
    criteria = parse_chain(chain)
    votes = election.supporters() if any("votes" in c for c in criteria) else {}
    keys: dict[str, tuple] = {}
    for pid, project in election.projects.items():
        parts: list = []
        for criterion in criteria:
            if criterion == "id":
                parts.append(pid)
            elif criterion == "min-cost":
                parts.append(project.cost)
            elif criterion == "max-cost":
                parts.append(-project.cost)
            elif criterion == "max-votes":
                parts.append(-votes[pid])
            elif criterion == "min-votes":
                parts.append(votes[pid])
            else:
                seed = criterion[4:]
                parts.append(hashlib.sha256(f"{seed}\x00{pid}".encode()).hexdigest())
        parts.append(pid)
        keys[pid] = tuple(parts)
    return keys.__getitem__
