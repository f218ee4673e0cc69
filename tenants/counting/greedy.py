"""Greedy selection by utilitarian welfare per unit of cost.

Projects are ranked by total utility divided by cost (with the `cost` satisfaction that is the
number of votes), ties by the tie-breaking chain, and taken while they fit the budget. As in
pabutools, a free project that someone wants ranks first, and projects nobody supports rank
last but are still taken when they fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from tenants.counting.election import Election
from tenants.counting.outcome import REJECTED, SELECTED, Outcome, Reason
from tenants.counting.satisfaction import VoterGroups, project_totals
from tenants.counting.tiebreak import DEFAULT_CHAIN, tie_key

SKIP = "skip"  # skip projects that no longer fit and go on
NO_SKIP = "no-skip"  # stop at the first project that does not fit


def greedy(
    election: Election,
    sat: str = "cost",
    tie_break: str = DEFAULT_CHAIN,
    *,
    variant: str = SKIP,
    threshold: Fraction | None = None,
    initial: Iterable[str] = (),
    groups: VoterGroups | None = None,
) -> Outcome:
    """Greedy outcome. `threshold`: projects with fewer votes (voters listing them) are not
    eligible. `initial`: projects already funded (for example by MES), kept first in the order.
    `groups`: precomputed utility groups (channel weights, or to avoid recomputing)."""
    totals = groups.totals() if groups is not None else project_totals(election, sat)
    key = tie_key(election, tie_break)
    order = list(initial)
    funded = set(order)
    remaining = election.budget - sum((election.projects[p].cost for p in order), Fraction(0))
    reasons: dict[str, Reason] = {}
    votes = election.supporters() if threshold is not None else {}

    def density(pid: str) -> tuple[int, Fraction]:
        # (rank class, -utility per cost): free wanted projects, then by density, then unwanted.
        total, cost = totals[pid], election.projects[pid].cost
        if total <= 0:
            return (2, Fraction(0))
        if cost == 0:
            return (0, Fraction(0))
        return (1, -total / cost)

    candidates = []
    for pid in election.projects:
        if pid in funded:
            continue
        if threshold is not None and votes[pid] < threshold:
            reasons[pid] = Reason(
                REJECTED, f"{votes[pid]} votes, below the threshold of {threshold}",
                {"votes": votes[pid], "threshold": threshold},
            )
            continue
        candidates.append(pid)
    candidates.sort(key=lambda p: (density(p), key(p)))

    stopped = False
    for rank, pid in enumerate(candidates, 1):
        cost = election.projects[pid].cost
        facts = {"rank": rank, "utility": totals[pid], "cost": cost, "budget_left": remaining}
        if stopped:
            reasons[pid] = Reason(REJECTED, "not reached: counting stopped at a project that "
                                  "did not fit", facts)
        elif cost <= remaining:
            order.append(pid)
            remaining -= cost
            reasons[pid] = Reason(SELECTED, f"rank {rank} by utility per cost; fits", facts)
        else:
            reasons[pid] = Reason(REJECTED, f"rank {rank} by utility per cost; costs {cost}, "
                                  f"only {remaining} left", facts)
            stopped = variant == NO_SKIP
    return Outcome(
        order, election.budget - remaining, reasons,
        {"rule": "greedy" if variant == SKIP else "greedy-no-skip"},
    )
