"""The Method of Equal Shares (https://equalshares.net) with its completions, exactly as
pabutools computes them; the rounds themselves are in `mes_rounds`.

add1 raises every voter's endowment by one unit until the outcome is exhaustive or would go
over budget. Re-running MES for every unit is what makes pabutools take minutes; instead each
run is tracked and reports the next endowment at which any of its decisions can change, and
the loop jumps there; where decisions change at nearly every unit (city-wide files), plain
exact passes, much cheaper than tracked ones, take the unit steps in between. The outcome's
total cost is not monotone in the endowment, so a bisection over it would be wrong.
"""

from __future__ import annotations

from fractions import Fraction

from tenants.counting.election import Election
from tenants.counting.greedy import greedy
from tenants.counting.mes_prepare import ZERO, Prepared, prepare
from tenants.counting.mes_rounds import NEVER, Run, run_mes
from tenants.counting.outcome import REJECTED, SELECTED, Outcome, Reason
from tenants.counting.satisfaction import voter_groups
from tenants.counting.tiebreak import DEFAULT_CHAIN, tie_key

NONE = "none"
ADD1 = "add1"
ADD1_FULL = "add1-full"
COMPLETIONS = (NONE, ADD1, ADD1_FULL)
UNTRACKED_STRIDE = 8  # plain unit steps after a tracked run that could not jump
MAX_UNTRACKED_STRIDE = 64
# A tracked pass costs about as much as this many plain ones: a shorter jump is not worth
# tracking for.
WORTHWHILE_JUMP = 2


def equal_shares(
    election: Election,
    sat: str = "cost",
    tie_break: str = DEFAULT_CHAIN,
    *,
    completion: str = NONE,
    fill: str | None = None,
    groups=None,
) -> Outcome:
    """MES with a completion:

    - `none`: endowment B/n;
    - `add1`: pabutools' `voter_budget_increment=1`: raise every voter's endowment by one
      unit until the outcome is exhaustive (no unfunded candidate fits what is left) or goes
      over budget (then the last affordable outcome);
    - `add1-full`: keep raising while the outcome stays within budget, exhaustive or not.

    `fill="greedy"` then spends what is left greedily (same satisfaction and tie-breaking).
    """
    if completion not in COMPLETIONS:
        raise ValueError(f"unknown completion {completion!r}; expected one of {COMPLETIONS}")
    if fill not in (None, NONE, "greedy"):
        raise ValueError(f"unknown fill {fill!r}; expected greedy or none")
    if groups is None:
        groups = voter_groups(election, sat)
    prep = prepare(election, groups, tie_key(election, tie_break))
    budget = election.budget
    runs = 1
    k = 0
    if election.voter_count == 0:
        run = Run([], ZERO, {}, NEVER)
    elif completion == NONE:
        run = run_mes(prep, 0)
    else:
        # Steps run without reasons for rejections; the outcome's run is explained at the end.
        last_within_budget: Run | None = None
        run = run_mes(prep, 0, track=True, explain=False)
        untracked = 0  # unit steps still to take without tracking
        stride = UNTRACKED_STRIDE
        while True:
            if run.total_cost > budget:
                # Over budget: the last affordable outcome stands (k = 0 never overspends).
                assert last_within_budget is not None
                run = last_within_budget
                break
            if completion == ADD1 and exhaustive(prep, run.order, budget):
                break
            if not untracked:
                if run.next_k is NEVER:
                    break  # no endowment changes this outcome any more
                if run.next_k <= run.k:  # would loop for ever: a bug, never an outcome
                    raise RuntimeError(f"MES tracking did not advance at k={run.k}")
                if run.next_k - run.k <= WORTHWHILE_JUMP:
                    # Decisions change at (nearly) every unit here (city-wide files):
                    # tracking costs more than it saves, so take plain unit steps, each an
                    # exact run checked like any other, then track again; twice as many each
                    # time tracking finds no worthwhile jump.
                    untracked = stride
                    stride = min(2 * stride, MAX_UNTRACKED_STRIDE)
                else:
                    stride = UNTRACKED_STRIDE
            last_within_budget = run
            if untracked:
                untracked -= 1
                run = run_mes(prep, run.k + 1, track=not untracked, explain=False)
            else:
                # A whole k here: the one float next_k takes, NEVER, stopped the loop above.
                run = run_mes(prep, int(run.next_k), track=True, previous=run, explain=False)
            runs += 1
        k = run.k
        run = run_mes(prep, k)
        runs += 1
    outcome = Outcome(run.order, run.total_cost, dict(run.reasons), {
        "rule": "mes", "completion": completion, "endowment": prep.base + k,
        "endowment_increments": k, "mes_runs": runs,
    })
    for p in prep.unsupported:
        outcome.reasons[p] = Reason(REJECTED, "no supporter", {})
    if fill == "greedy":
        filled = greedy(election, sat, tie_break, initial=run.order, groups=groups)
        for p in filled.order[len(run.order):]:
            reason = filled.reasons[p]
            outcome.reasons[p] = Reason(SELECTED, "greedy fill after MES: " + reason.text,
                                        reason.facts)
        outcome.order = filled.order
        outcome.total_cost = filled.total_cost
    outcome.details["fill"] = fill or NONE
    return outcome


def exhaustive(prep: Prepared, order: list[str], budget: Fraction) -> bool:
    """No unfunded MES candidate fits in what is left (pabutools' stop test)."""
    funded = set(order)
    left = budget - sum((prep.cost[p] for p in order), ZERO)
    return all(prep.cost[p] > left for p in prep.candidates if p not in funded)
