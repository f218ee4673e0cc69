"""The Method of Equal Shares (https://equalshares.net), exactly as pabutools computes it.

Every voter starts with an equal share of the budget (B/n, a rational). In each round the
project that its supporters can buy at the lowest price per unit of utility, rho, is bought:
supporter i pays min(budget_i, rho * u_i). Ties go to the tie-breaking chain. Rounds stop when
no remaining project can be paid for by its supporters.

Speed comes from structure, not approximations (a tie decided in floating point can flip):

- voters with identical utilities are one group; groups that have paid for the same projects
  the same way hold identical budgets, so a project's supporters are kept as a few *classes*
  (budget, utility, head count) instead of thousands of voters;
- a project's rho is recomputed only when its last known rho, a lower bound since budgets only
  shrink, could still beat the best project of the round.

For the add1 completions a run can also be *tracked*: with the endowment written e = B/n + k,
every budget and every rho of the run is an affine function of k as long as the run takes the
same decisions. Each decision is a sign condition on such a function, so the run tells the
smallest k at which any decision can flip, and the add1 loop jumps there instead of re-running
MES for every unit in between. The outcome's total cost is not monotone in k, so no bisection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from tenants.counting.election import Election
from tenants.counting.outcome import REJECTED, SELECTED, Outcome, Reason
from tenants.counting.satisfaction import Number, voter_groups
from tenants.counting.tiebreak import DEFAULT_CHAIN, tie_key

NEVER = math.inf
ZERO = Fraction(0)


@dataclass
class Prepared:
    """What does not depend on the endowment: built once, shared by every add1 run."""

    election: Election
    counts: list[int]
    raw: list[tuple[tuple[str, Number], ...]]  # per group: (project, raw utility)
    scale: dict[str, Number]  # utility = raw * scale[project]
    cost: dict[str, Fraction]
    key: dict[str, tuple]
    free: list[str]  # cost 0 and wanted: funded before MES starts (as pabutools)
    candidates: list[str]  # cost > 0 and at least one supporter
    unsupported: list[str]
    supporters: dict[str, list[int]]
    # A project whose supporters all have the same raw utility (any approval ballot) keeps
    # its supporters by class alone; others by (class, raw utility).
    uniform_raw: dict[str, Number | None]
    initial_classes: dict[str, dict]
    initial_rho: dict[str, Fraction]
    base: Fraction  # B / n


def prepare(election: Election, sat: str, tie_break: str, groups=None) -> Prepared:
    groups = groups or voter_groups(election, sat)
    counts, raw, scale = groups.counts, groups.raw, groups.scale
    key_of = tie_key(election, tie_break)
    supporters: dict[str, list[int]] = {p: [] for p in election.projects}
    by_raw: dict[str, dict[Number, int]] = {p: {} for p in election.projects}
    for g, pairs in enumerate(raw):
        m = counts[g]
        for p, r in pairs:
            supporters[p].append(g)
            tally = by_raw[p]
            tally[r] = tally.get(r, 0) + m
    cost = {p: pr.cost for p, pr in election.projects.items()}
    free, candidates, unsupported = [], [], []
    uniform_raw: dict[str, Number | None] = {}
    initial_classes: dict[str, dict] = {}
    initial_rho: dict[str, Fraction] = {}
    for p in election.projects:
        if not supporters[p]:
            unsupported.append(p)
        elif cost[p] == 0:
            free.append(p)
        else:
            candidates.append(p)
            tally = by_raw[p]
            if len(tally) == 1:
                uniform_raw[p] = next(iter(tally))
                initial_classes[p] = {0: sum(tally.values())}
            else:
                uniform_raw[p] = None
                initial_classes[p] = {(0, r): m for r, m in tally.items()}
            weight = sum(r * m for r, m in tally.items()) * scale[p]
            initial_rho[p] = Fraction(cost[p]) / weight
    free.sort(key=key_of)
    n = election.voter_count
    return Prepared(
        election, counts, raw, scale, cost, {p: key_of(p) for p in election.projects},
        free, candidates, unsupported, supporters, uniform_raw, initial_classes, initial_rho,
        Fraction(election.budget) / n if n else ZERO,
    )


@dataclass
class Run:
    order: list[str]
    total_cost: Fraction
    reasons: dict[str, Reason]
    next_k: float | int  # the smallest later k at which this run could decide differently


def run_mes(prep: Prepared, k: int = 0, track: bool = False) -> Run:
    """One MES pass with endowment B/n + k. With `track`, also find `next_k`.

    Tracking rests on one inequality: for any split of a project's supporters into P and R,
    its rho is at least (cost - money of P) / (utility of R), because nobody pays more than
    they hold nor more than rho times their utility. So each rho computed (or each failed
    one, split before its richest class) is an affine *lower bound* valid at every k; a
    project that loses a round only needs its bound to stay above the winner's rho. Only the
    winner's split must hold exactly, since it fixes everyone's payment.
    """
    cost, key = prep.cost, prep.key
    counts, raw, scale, uniform_raw = prep.counts, prep.raw, prep.scale, prep.uniform_raw
    # Class budgets: value at this k and slope in k (slopes stay zero unless tracking).
    value: list[Fraction] = [prep.base + k]
    slope: list[Fraction] = [Fraction(int(track))]
    cls = [0] * len(counts)
    classes = {p: dict(prep.initial_classes[p]) for p in prep.candidates}
    bound = {p: (prep.initial_rho[p], ZERO) for p in prep.candidates}
    alive = set(prep.candidates)
    # Projects found unaffordable: out of this run, but while tracking they must stay beaten.
    dropped: set[str] = set()
    order = list(prep.free)
    reasons: dict[str, Reason] = {
        p: Reason(SELECTED, "costs nothing and has supporters", {"round": 0}) for p in prep.free
    }
    next_k: float | int = NEVER

    def must_stay(val: Fraction, slp: Fraction, strict: bool) -> None:
        nonlocal next_k
        fail = holds_until(k, val, slp, strict)
        if fail < next_k:
            next_k = fail

    def price(p: str):
        """(affordable, rho or its lower bound, slope, poor count, supporter classes)."""
        c = cost[p]
        r = uniform_raw[p]
        if r is not None:
            u = r * scale[p]
            items = [(value[kk], kk, u, m) for kk, m in classes[p].items()]
            items.sort(key=lambda e: e[0])
        else:
            s = scale[p]
            items = [(value[kk], kk, r * s, m) for (kk, r), m in classes[p].items()]
            items.sort(key=lambda e: e[0] / e[2])
        weight = sum(u * m for _, _, u, m in items)
        paid = paid_slope = ZERO
        rho = ZERO
        poor = 0  # the first `poor` classes pay all they hold
        for b, kk, u, m in items:
            rho = (c - paid) / weight
            if rho * u <= b:
                return True, rho, -paid_slope / weight if track else ZERO, poor, items
            if poor == len(items) - 1:
                # Unaffordable: the bound splits before the richest class.
                bound_slope = -paid_slope / weight if track else ZERO
                return False, rho, bound_slope, poor, items
            poor += 1
            paid += m * b
            if track:
                paid_slope += m * slope[kk]
            weight -= m * u
        return False, rho, ZERO, poor, items  # no supporter class left (not reached)

    def money(p: str) -> tuple[Fraction, Fraction]:
        held = held_slope = ZERO
        for key_, m in classes[p].items():
            kk = key_ if uniform_raw[p] is not None else key_[0]
            held += m * value[kk]
            held_slope += m * slope[kk]
        return held, held_slope

    round_no = 0
    while alive:
        round_no += 1
        best = None
        best_rho = ZERO
        priced: dict[str, tuple] = {}
        for p in sorted(alive, key=lambda q: (bound[q][0], key[q])):
            if best is not None and bound[p][0] > best_rho:
                break
            affordable, rho, rho_slope, poor, items = price(p)
            bound[p] = (rho, rho_slope)
            if not affordable:
                alive.discard(p)
                dropped.add(p)
                held, _ = money(p)
                reasons[p] = Reason(
                    REJECTED,
                    f"in round {round_no} its supporters had {held} left, it costs {cost[p]}",
                    {"round": round_no, "supporters_money": held, "cost": cost[p]},
                )
                continue
            priced[p] = (rho, rho_slope, poor, items)
            if best is None or rho < best_rho or (rho == best_rho and key[p] < key[best]):
                best, best_rho = p, rho
        if best is None:
            break
        rho, rho_slope, poor, items = priced[best]
        alive.discard(best)
        if track:
            for q in alive:
                must_stay(bound[q][0] - rho, bound[q][1] - rho_slope, key[q] < key[best])
            for q in dropped:
                # Not chosen while unaffordable or while its bound stays above the winner's.
                beaten = (bound[q][0] - rho, bound[q][1] - rho_slope, key[q] < key[best])
                if beaten[0] > 0 and holds_until(k, *beaten) >= next_k:
                    continue  # the bound alone covers the interval known so far
                held, held_slope = money(q)
                until = either_holds(k, (cost[q] - held, -held_slope, True), beaten)
                if until < next_k:
                    next_k = until
            for j, (b, kk, u, _m) in enumerate(items):
                if j < poor:  # pays all it has: must stay short of rho * u
                    must_stay(rho * u - b, rho_slope * u - slope[kk], True)
                else:  # pays rho * u: must keep enough
                    must_stay(b - rho * u, slope[kk] - rho_slope * u, False)
        order.append(best)
        reasons[best] = Reason(
            SELECTED,
            f"round {round_no}: cheapest for its supporters, {rho} per unit of utility",
            {"round": round_no, "price_per_utility": rho},
        )
        # Each (class, utility) of the supporters becomes a new class with its new budget.
        moved: dict = {}
        uniform = uniform_raw[best] is not None
        s = scale[best]
        for j, (b, kk, u, _m) in enumerate(items):
            moved[kk if uniform else (kk, u / s)] = len(value)
            if j < poor:
                value.append(ZERO)
                slope.append(ZERO)
            else:
                value.append(b - rho * u)
                slope.append(slope[kk] - rho_slope * u)
        watched = alive | dropped if track else alive
        for g in prep.supporters[best]:
            old = cls[g]
            m = counts[g]
            pairs = raw[g]
            if uniform:
                new = moved[old]
            else:
                new = moved[(old, next(r for q, r in pairs if q == best))]
            cls[g] = new
            for q, r in pairs:
                if q in watched:
                    entry = classes[q]
                    if uniform_raw[q] is not None:
                        a, z = old, new
                    else:
                        a, z = (old, r), (new, r)
                    left = entry[a] - m
                    if left:
                        entry[a] = left
                    else:
                        del entry[a]
                    entry[z] = entry.get(z, 0) + m
    if track:
        # The run ends because nothing left is affordable; that must stay so.
        for q in dropped:
            held, held_slope = money(q)
            must_stay(cost[q] - held, -held_slope, True)
    total = sum((cost[p] for p in order), ZERO)
    return Run(order, total, reasons, next_k)


def holds_until(k: int, val: Fraction, slp: Fraction, strict: bool) -> float | int:
    """For f(j) = val + slp * (j - k), true at j = k (f > 0, or f >= 0 if not strict): the
    first integer j > k where it is false, or NEVER."""
    if slp >= 0:
        return NEVER
    root = k + val / -slp
    return math.ceil(root) if strict else math.floor(root) + 1


def either_holds(k: int, first: tuple, second: tuple) -> float | int:
    """The first integer j > k where neither of two such conditions holds (the first holds at
    k; the second may not yet, and then holds from some j on if it is rising)."""
    until = holds_until(k, *first)
    val, slp, strict = second
    if val > 0 or (val == 0 and not strict):
        return max(until, holds_until(k, val, slp, strict))
    if slp <= 0:
        return until
    start = k + (-val) / slp  # f(start) = 0
    first_true = math.floor(start) + 1 if strict else math.ceil(start)
    return NEVER if first_true <= until else until


NONE = "none"
ADD1 = "add1"
ADD1_FULL = "add1-full"
COMPLETIONS = (NONE, ADD1, ADD1_FULL)


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
    prep = prepare(election, sat, tie_break, groups)
    budget = election.budget
    runs = 1
    k = 0
    if election.voter_count == 0:
        run = Run([], ZERO, {}, NEVER)
    elif completion == NONE:
        run = run_mes(prep, 0)
    else:
        previous: Run | None = None
        while True:
            run = run_mes(prep, k, track=True)
            if run.total_cost > budget:
                # Over budget: the last affordable outcome stands (k = 0 never overspends).
                assert previous is not None
                run, k = previous
                break
            if completion == ADD1 and exhaustive(prep, run.order, budget):
                break
            if run.next_k is NEVER:
                break  # no endowment changes this outcome any more
            previous = (run, k)
            if run.next_k <= k:  # would loop for ever: a bug, never an outcome
                raise RuntimeError(f"MES tracking did not advance at k={k}")
            k = run.next_k
            runs += 1
    outcome = Outcome(run.order, run.total_cost, dict(run.reasons), {
        "rule": "mes", "completion": completion, "endowment": prep.base + k,
        "endowment_increments": k, "mes_runs": runs,
    })
    for p in prep.unsupported:
        outcome.reasons[p] = Reason(REJECTED, "no supporter", {})
    if fill == "greedy":
        from tenants.counting.greedy import greedy

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
