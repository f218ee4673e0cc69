"""One pass of the Method of Equal Shares, in exact integers.

Every voter starts with the same endowment. In each round the project that its supporters can
buy at the lowest price per unit of utility, rho, is bought: supporter i pays
min(budget_i, rho * u_i). Ties go to the tie-breaking chain. Rounds stop when no remaining
project can be paid for by its supporters.

Speed comes from structure, not approximations (a tie decided in floating point can flip):

- money is kept as integers over one common denominator D, enlarged only when a purchase
  needs it, so comparisons and sorts are integer operations, not fraction arithmetic;
- voters with identical utilities form a group; groups holding the same budget form a
  *class*, so a project sees its supporters as a few (class, utility, head count) entries;
  voters with nothing left drop out, since they pay nothing and never change a price;
- a project's rho is recomputed only when its last known rho, a lower bound since budgets
  only shrink, could still beat the best project of the round.

Tracking (for the add1 completions): with the endowment written B/n + k, every budget is an
affine function of k as long as each purchase splits its supporters the same way (who pays
all they have, who pays rho * u). For any split P/R of a project's supporters, rho is at
least (cost - money of P) / (utility of R), since nobody pays more than they hold nor more
than rho * u. So each price computed, or each failed one split before its richest class, is
an affine lower bound valid at every k: a losing project only needs its bound to stay above
the winner's rho. The run returns the first k at which any of these conditions can fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from tenants.counting.election import Election
from tenants.counting.outcome import REJECTED, SELECTED, Reason
from tenants.counting.satisfaction import VoterGroups
from tenants.counting.tiebreak import TieKey

NEVER = math.inf
ZERO = Fraction(0)
BROKE = -1  # the class of voters with nothing left, now and for larger k


@dataclass
class Prepared:
    """What does not depend on the endowment: built once, shared by every add1 run."""

    counts: list[int]
    unit: dict[str, Fraction]
    uniform: dict[str, bool]  # all supporters weigh the same (any approval ballot)
    sort_factor: dict[tuple[str, int], int]  # budget * factor orders by budget / utility
    cost: dict[str, Fraction]
    key: dict[str, tuple]
    free: list[str]  # cost 0 and wanted: funded before MES starts (as pabutools)
    candidates: list[str]  # cost > 0 and at least one supporter
    unsupported: list[str]
    supporters: dict[str, list[int]]  # groups supporting each candidate
    # Parallel to `supporters` for projects that are not uniform: each group's utility is
    # unit[project] * weight (an integer).
    weights: dict[str, list[int]]
    initial_rho: dict[str, Fraction]
    base: Fraction  # B / n
    denominator: int  # the first D: makes every cost and the base endowment whole


def prepare(election: Election, groups: VoterGroups, key_of: TieKey) -> Prepared:
    counts, scale = groups.counts, groups.scale
    cost = {p: Fraction(pr.cost) for p, pr in election.projects.items()}
    supporters: dict[str, list[int]] = {p: [] for p in election.projects}
    by_raw: dict[str, dict] = {p: {} for p in election.projects}
    for g, pairs in enumerate(groups.raw):
        for p, r in pairs:
            supporters[p].append(g)
            by_raw[p][r] = by_raw[p].get(r, 0) + counts[g]
    free, candidates, unsupported = [], [], []
    unit: dict[str, Fraction] = {}
    weight_of: dict[tuple[str, object], int] = {}
    sort_factor: dict[tuple[str, int], int] = {}
    uniform: dict[str, bool] = {}
    initial_rho: dict[str, Fraction] = {}
    for p in election.projects:
        tally = by_raw[p]
        if not tally:
            unsupported.append(p)
            continue
        if cost[p] == 0:
            free.append(p)
            continue
        candidates.append(p)
        uniform[p] = len(tally) == 1
        if uniform[p]:
            unit[p] = Fraction(next(iter(tally))) * scale[p]
            weight_of[(p, next(iter(tally)))] = 1
        else:
            lcd = math.lcm(*(Fraction(r).denominator for r in tally))
            unit[p] = Fraction(scale[p]) / lcd
            for r in tally:
                weight_of[(p, r)] = int(r * lcd)
            top = math.lcm(*(weight_of[(p, r)] for r in tally))
            for r in tally:
                sort_factor[(p, weight_of[(p, r)])] = top // weight_of[(p, r)]
        total = sum(weight_of[(p, r)] * m for r, m in tally.items()) * unit[p]
        initial_rho[p] = cost[p] / total
    utility_of = [dict(raw) for raw in groups.raw]
    weights = {
        p: [weight_of[(p, utility_of[g][p])] for g in supporters[p]]
        for p in candidates if not uniform[p]
    }
    free.sort(key=key_of)
    n = election.voter_count
    base = Fraction(election.budget) / n if n else ZERO
    denominator = math.lcm(base.denominator, *(c.denominator for c in cost.values()))
    return Prepared(
        counts, unit, uniform, sort_factor, cost,
        {p: key_of(p) for p in election.projects}, free, candidates, unsupported,
        {p: supporters[p] for p in candidates}, weights, initial_rho, base, denominator,
    )


@dataclass
class Run:
    order: list[str]
    total_cost: Fraction
    reasons: dict[str, Reason]
    next_k: float | int  # the smallest later k at which this run could decide differently
    k: int = 0
    snapshots: list = field(default_factory=list)
    round_fails: list = field(default_factory=list)


def holds_until(k: int, val, slp, strict: bool) -> float | int:
    """For f(j) = val + slp * (j - k), true at j = k (f > 0, or f >= 0 if not strict): the
    first integer j > k where it is false, or NEVER."""
    if slp >= 0:
        return NEVER
    drop = -slp
    return k - (-val // drop) if strict else k + val // drop + 1


def either_holds(k: int, until: float | int, second: tuple) -> float | int:
    """The first integer j > k where neither of two conditions holds: the first holds until
    `until`; the second, (val, slope, strict), may not hold yet, and then holds from some j on
    if it is rising."""
    val, slp, strict = second
    if val > 0 or (val == 0 and not strict):
        return max(until, holds_until(k, val, slp, strict))
    if slp <= 0:
        return until
    # f(j) = val + slp (j - k) becomes > 0 (>= 0) from this j on.
    first_true = k + (-val) // slp + 1 if strict else k - (val // slp)
    return NEVER if first_true <= until else until


def run_mes(prep: Prepared, k: int = 0, track: bool = False,
            previous: Run | None = None) -> Run:
    """One MES pass with endowment B/n + k. With `track`, also find `next_k`.

    `previous`, a tracked run whose `next_k` is this k, lets the pass resume at the first
    round whose decision may change: the rounds before it decide as before, and their state,
    affine in k, is moved to this k instead of being recomputed.
    """
    cost, key, unit, uniform = prep.cost, prep.key, prep.unit, prep.uniform
    counts, supporters, weights, sort_factor = (
        prep.counts, prep.supporters, prep.weights, prep.sort_factor)
    snapshots: list[tuple] = []  # state at the start of each round (tracking only)
    round_fails: list[float | int] = []  # per round: first k where a decision may change
    if previous is None:
        den = prep.denominator
        # Class budgets in units of 1/den: value at this k and slope in k (0 unless tracking).
        value: dict[int, int] = {0: int((prep.base + k) * den)}
        slope: dict[int, int] = {0: den if track else 0}
        population: dict[int, int] = {0: len(counts)}
        next_class = 1
        cls = [0] * len(counts)
        bound = {p: (prep.initial_rho[p], ZERO) for p in prep.candidates}
        alive = set(prep.candidates)
        dropped: set[str] = set()  # unaffordable: out, but tracked runs check they stay out
        short_until: dict[str, float | int] = {}  # k up to which a dropped one stays short
        order = list(prep.free)
        reasons = {p: Reason(SELECTED, "costs nothing and has supporters", {"round": 0})
                   for p in prep.free}
        round_no = 0
    else:
        assert previous.next_k == k and previous.k < k
        at = previous.round_fails.index(k)
        snapshots = previous.snapshots[:at]
        round_fails = previous.round_fails[:at]
        (den, value, slope, population, next_class, cls, bound, alive, dropped, short_until,
         order, reasons, round_no, taken_at) = copy_state(previous.snapshots[at])
        shift = k - taken_at  # a snapshot may come from a run before `previous`
        for kk in value:
            value[kk] += slope[kk] * shift
        bound = {p: (v + s * shift, s) for p, (v, s) in bound.items()}
        # A project found unaffordable at the snapshot's k may be affordable at this k: back
        # into the running (its bound stays valid; if still unaffordable it drops again).
        alive |= dropped
        dropped = set()
    next_k: float | int = min(round_fails, default=NEVER)

    def whole_cost(p: str) -> int:
        c = cost[p]
        return c.numerator * (den // c.denominator)

    def price(p: str):
        """(affordable, rho or its lower bound, its slope, poor count, entries, A, R, A slope)."""
        cd = whole_cost(p)
        if uniform[p]:
            entries = sorted((value[kk], kk, 1, m) for kk, m in classes_of(p).items())
        else:
            entries = [(value[kk], kk, w, m) for (kk, w), m in classes_of(p).items()]
            entries.sort(key=lambda e: e[0] * sort_factor[(p, e[2])])
        if not entries:  # every supporter is broke, for good
            return None
        weight = sum(w * m for _, _, w, m in entries)
        paid = paid_slope = 0
        poor = 0  # the first `poor` entries pay all they hold
        last = len(entries) - 1
        while True:
            b, kk, w, m = entries[poor]
            if (cd - paid) * w <= b * weight:
                affordable = True
                break
            if poor == last:  # unaffordable: the bound splits before the richest class
                affordable = False
                break
            poor += 1
            paid += m * b
            if track:
                paid_slope += m * slope[kk]
            weight -= w * m
        left = cd - paid
        scale = den * weight * unit[p]
        return (affordable, left / scale, Fraction(-paid_slope) / scale, poor, entries,
                left, weight, -paid_slope)

    tallies: dict[str, dict] = {}  # classes_of, valid until the next purchase

    def classes_of(p: str) -> dict:
        """Head count of p's supporters by class (by class and weight if not uniform)."""
        if p in tallies:
            return tallies[p]
        tally: dict = {}
        tallies[p] = tally
        get = tally.get
        if uniform[p]:
            for g in supporters[p]:
                c = cls[g]
                tally[c] = get(c, 0) + counts[g]
        else:
            for g, w in zip(supporters[p], weights[p], strict=True):
                c = (cls[g], w)
                tally[c] = get(c, 0) + counts[g]
        tally.pop(BROKE, None)
        if not uniform[p]:
            for c in [c for c in tally if c[0] == BROKE]:
                del tally[c]
        return tally

    def money(p: str) -> tuple[int, int]:
        held = held_slope = 0
        for entry, m in classes_of(p).items():
            kk = entry if uniform[p] else entry[0]
            held += m * value[kk]
            held_slope += m * slope[kk]
        return held, held_slope

    while True:
        if track:
            snapshots.append(copy_state((
                den, value, slope, population, next_class, cls, bound, alive, dropped,
                short_until, order, reasons, round_no, k)))
            round_fail: float | int = NEVER
        if not alive:
            break
        round_no += 1
        best = None
        best_rho = ZERO
        priced: dict[str, tuple] = {}
        for p in sorted(alive, key=lambda q: (bound[q][0], key[q])):
            if best is not None and bound[p][0] > best_rho:
                break
            result = price(p)
            if result is None or not result[0]:
                alive.discard(p)
                if result is not None:
                    bound[p] = result[1:3]
                    dropped.add(p)
                held = Fraction(money(p)[0], den)
                reasons[p] = Reason(
                    REJECTED,
                    f"in round {round_no} its supporters had {held} left, it costs {cost[p]}",
                    {"round": round_no, "supporters_money": held, "cost": cost[p]},
                )
                continue
            priced[p] = result
            rho = result[1]
            bound[p] = result[1:3]
            if best is None or rho < best_rho or (rho == best_rho and key[p] < key[best]):
                best, best_rho = p, rho
        if best is None:
            break
        _, rho, rho_slope, poor, entries, left, weight, left_slope = priced[best]
        alive.discard(best)
        order.append(best)
        reasons[best] = Reason(
            SELECTED,
            f"round {round_no}: cheapest for its supporters, {rho} per unit of utility",
            {"round": round_no, "price_per_utility": rho},
        )
        if track:
            for q in alive:
                fail = holds_until(k, bound[q][0] - rho, bound[q][1] - rho_slope,
                                   key[q] < key[best])
                round_fail = min(round_fail, fail)
            # Those who pay all they have must stay short of their share (the others only
            # get richer relative to it as k grows: their condition cannot fail).
            for b, kk, w, _m in entries[:poor]:
                fail = holds_until(k, left * w - b * weight, left_slope * w - slope[kk] * weight,
                                   True)
                round_fail = min(round_fail, fail)
            for q in dropped:
                # Not chosen while unaffordable or while its bound stays above the winner's.
                # (Shortcuts compare with this round's conditions only, so that the round's
                # first failing k is never overstated: resuming a later run relies on it.)
                beaten = (bound[q][0] - rho, bound[q][1] - rho_slope, key[q] < key[best])
                known = round_fail
                if beaten[0] > 0 and holds_until(k, *beaten) > known:
                    continue  # the bound alone covers the interval known so far
                # Money only shrinks from round to round, so an earlier "still short until"
                # stays true (at worst understating this round's limit, which is safe);
                # refresh it only when it could decide the next step.
                if short_until.get(q, k) <= min(known, next_k):
                    held, held_slope = money(q)
                    short_until[q] = holds_until(k, whole_cost(q) - held, -held_slope, True)
                round_fail = min(round_fail, either_holds(k, short_until[q], beaten))
            round_fails.append(round_fail)
            next_k = min(next_k, round_fail)
        tallies.clear()
        # Payments: rich supporters pay left * w / weight each, in units of 1/den. Enlarge den
        # so that this (and its slope) is whole.
        grow = weight // math.gcd(left, left_slope, weight)
        if grow > 1:
            den *= grow
            for kk in value:
                value[kk] *= grow
                slope[kk] *= grow
            left *= grow
            left_slope *= grow
        moved: dict[tuple[int, int], int] = {}  # (class, weight) -> new class
        made: dict[tuple[int, int], int] = {}  # new (value, slope) -> class: equal budgets merge
        for j, (_b, kk, w, _m) in enumerate(entries):
            if j < poor:
                budget = (0, 0)
            else:
                budget = (value[kk] - left * w // weight, slope[kk] - left_slope * w // weight)
            if budget == (0, 0):
                moved[(kk, w)] = BROKE
                continue
            new = made.get(budget)
            if new is None:
                new = made[budget] = next_class
                next_class += 1
                value[new], slope[new] = budget
                population[new] = 0
            moved[(kk, w)] = new
        weights_best = None if uniform[best] else weights[best]
        for i, g in enumerate(supporters[best]):
            old = cls[g]
            if old == BROKE:
                continue
            new = moved[(old, 1 if weights_best is None else weights_best[i])]
            cls[g] = new
            population[old] -= 1
            if population[old] == 0:
                del population[old], value[old], slope[old]
            if new != BROKE:
                population[new] += 1
    if track:
        for q in dropped:  # the run ends because nothing left is affordable: must stay so
            held, held_slope = money(q)
            round_fail = min(round_fail, holds_until(k, whole_cost(q) - held, -held_slope, True))
        round_fails.append(round_fail)
        next_k = min(next_k, round_fail)
    total = sum((cost[p] for p in order), ZERO)
    return Run(order, total, reasons, next_k, k, snapshots, round_fails)


def copy_state(state: tuple) -> tuple:
    (den, value, slope, population, next_class, cls, bound, alive, dropped, short_until,
     order, reasons, round_no, k) = state
    return (den, dict(value), dict(slope), dict(population), next_class, list(cls),
            dict(bound), set(alive), set(dropped), dict(short_until), list(order),
            dict(reasons), round_no, k)
