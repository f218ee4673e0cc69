"""One pass of the Method of Equal Shares, in exact integers.

Every voter starts with the same endowment. In each round the project that its supporters can
buy at the lowest price per unit of utility, rho, is bought: supporter i pays
min(budget_i, rho * u_i). Ties go to the tie-breaking chain. Rounds stop when no remaining
project can be paid for by its supporters.

Speed comes from structure; every decision is exact (a tie decided in floating point can
flip):

- money is kept as integers over a common denominator D, enlarged only when a purchase needs
  it; each class keeps its budget in units of 1/D of the round it was born in, so a larger
  D costs nothing until a budget is read (`mes_budgets`);
- a float copy of every budget orders the classes and settles the comparisons that are clear
  by more than its error bound; the close ones are decided on the exact values. Passes that
  need no tracking bound each candidate's rho in floats and price exactly only the projects
  whose bounds reach the best one's;
- voters with identical utilities form a group; groups holding the same budget form a
  *class*; voters with nothing left drop out, since they pay nothing and never change a
  price. Which class each group is in is a numpy array: tallying a project's supporters and
  moving the buyers of a project to their new classes are array operations;
- a project's rho is recomputed only when a lower bound on it (its last known rho: budgets
  only shrink) could still beat the best project of the round.

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
from typing import Any, NamedTuple

import numpy as np

from tenants.counting.mes_budgets import BROKE, FIRST, Budgets
from tenants.counting.mes_prepare import ZERO, Prepared
from tenants.counting.outcome import REJECTED, SELECTED, Reason

NEVER = math.inf
FLOAT_SLACK = 1e-10  # relative: covers float rounding in sums of up to millions of terms
DROP, CLOSE = "drop", "close"  # what float bounds on a price can say besides the bounds
TALLY_RATIO = 4  # tally supporters by class while there are at most this many classes per group


class FloatSplit(NamedTuple):
    """A project's supporters with money left, by float budget per unit of utility."""

    ids: np.ndarray  # classes (or groups), poorest first
    codes: np.ndarray | None  # weight codes; None when every supporter weighs the same
    heads: np.ndarray  # voters per entry, as integers
    heads_f: np.ndarray  # and as floats
    held_f: np.ndarray  # each entry's budget, a float in currency
    w_f: np.ndarray | float  # each entry's weight as a float (1.0 when uniform)
    paid_before: np.ndarray  # what all poorer entries hold
    weight_from: np.ndarray  # the weight of this entry and all richer ones
    pays_share: np.ndarray  # would pay rho * u if all poorer ones pay all they hold
    total: float  # all the supporters hold


@dataclass
class Run:
    order: list[str]
    total_cost: Fraction
    reasons: dict[str, Reason]
    next_k: float | int  # the smallest later k at which this run could decide differently
    k: int = 0
    snapshots: list = field(default_factory=list)
    round_fails: list = field(default_factory=list)


def below(x) -> float:
    """A float no larger than x."""
    return math.nextafter(float(x), -math.inf)


def holds_until(k: int, val: int, slp: int, strict: bool) -> float | int:
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
            previous: Run | None = None, explain: bool = True) -> Run:
    """One MES pass with endowment B/n + k. With `track`, also find `next_k`.

    `previous`, a tracked run whose `next_k` is this k, lets the pass resume at the first
    round whose decision may change: the rounds before it decide as before, and their state,
    affine in k, is moved to this k instead of being recomputed. Without `explain`, rejected
    projects get no reason (a reason states their supporters' money, which costs a sum).
    """
    cost, key, unit, unit_f = prep.cost, prep.key, prep.unit, prep.unit_f
    rank = prep.rank
    supporters, heads, heads_float = prep.supporters, prep.heads, prep.heads_f
    weight_codes, weight_values, weight_floats, sort_factors = (
        prep.weight_codes, prep.weight_values, prep.weight_floats, prep.sort_factors)
    snapshots: list[tuple] = []  # state at the start of each round (tracking only)
    round_fails: list[float | int] = []  # per round: first k where a decision may change
    if previous is None:
        # Slopes stay 0 unless tracking.
        budgets = Budgets(prep.denominator, prep.base + k, prep.denominator if track else 0)
        cls = np.full(len(prep.counts), FIRST, dtype=np.int64)  # each group's class
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
        (budgets, cls, bound, alive, dropped, short_until, order, reasons, round_no,
         taken_at) = copy_state(previous.snapshots[at])
        shift = k - taken_at  # a snapshot may come from a run before `previous`
        budgets.shift(shift)
        bound = {p: (v + s * shift, s) for p, (v, s) in bound.items()}
        # A project found unaffordable at the snapshot's k may be affordable at this k: back
        # into the running (its bound stays valid; if still unaffordable it drops again).
        alive |= dropped
        dropped = set()
    next_k: float | int = min(round_fails, default=NEVER)
    # Float lower bounds on every project's rho: they order the search and stop it.
    approx = {p: below(v) for p, (v, _s) in bound.items()}

    def whole_cost(p: str) -> int:
        c = cost[p]
        return c.numerator * (budgets.den // c.denominator)

    tallies: dict[str, tuple] = {}  # classes_of, valid until the next purchase

    def classes_of(p: str) -> tuple:
        """p's supporters with money left: classes, weight codes (None when uniform) and
        head counts (as integers and as floats), as arrays. Groups in the same class are
        tallied together while there are few classes for the supporters; once there are
        many (most classes hold a group or two after some rounds), tallying over every
        class number costs more than it saves and each group is an entry of its own."""
        if p in tallies:
            return tallies[p]
        ids = cls[supporters[p]]
        codes = weight_codes.get(p)
        if budgets.size <= TALLY_RATIO * len(ids):
            n = 1 if codes is None else len(weight_values[p])
            by_key = np.bincount(ids if codes is None else ids * n + codes, weights=heads_float[p])
            found = np.flatnonzero(by_key[FIRST * n:]) + FIRST * n  # BROKE left out
            heads_f = by_key[found]
            tally = (found // n if n > 1 else found, None if codes is None else found % n,
                     heads_f.astype(np.int64), heads_f)
        else:
            live = ids != BROKE
            if live.all():
                tally = (ids, codes, heads[p], heads_float[p])
            else:
                tally = (ids[live], None if codes is None else codes[live], heads[p][live],
                         heads_float[p][live])
        tallies[p] = tally
        return tally

    def money(p: str) -> tuple[int, int]:
        ids, _codes, heads_of, _ = classes_of(p)
        if not ids.size:
            return 0, 0
        m = heads_of.astype(object)
        values, slopes = budgets.exact(ids, slopes=track)
        return int((m * values).sum()), int((m * slopes).sum()) if track else 0

    def priced(p: str, affordable: bool, poor: int, entries: tuple, left: int, weight: int,
               left_slope: int) -> tuple:
        """(affordable, rho or its lower bound, its slope, poor count, entries, A, R, A slope).

        Entries: p's supporters by class (numbers, weight codes, head counts), those who pay
        all they hold first, with their exact budgets and slopes."""
        scale = budgets.den * weight * unit[p]
        return (affordable, left / scale, Fraction(left_slope) / scale, poor, entries, left,
                weight, left_slope)

    splits: dict[str, FloatSplit | None] = {}  # float_split, valid until the next purchase

    def float_split(p: str) -> FloatSplit | None:
        """p's supporters with money left, sorted by float budget per unit of utility, and who
        would pay all they hold (None if nobody has money left). Estimating and pricing the
        same project in a round share it."""
        if p in splits:
            return splits[p]
        ids, codes, m, heads_f = classes_of(p)
        split = None
        if ids.size:
            held_f = budgets.approx[ids]
            if codes is None:
                ranked = np.argsort(held_f)
                w_f = 1.0
            else:
                w_all = weight_floats[p][codes]
                ranked = np.argsort(held_f / w_all)
                codes, w_f = codes[ranked], w_all[ranked]
            ids, m, heads_f, held_f = ids[ranked], m[ranked], heads_f[ranked], held_f[ranked]
            weights_f = heads_f if codes is None else heads_f * w_f
            money_f = heads_f * held_f
            paid_before = np.cumsum(money_f) - money_f
            weight_from = weights_f.sum() - (np.cumsum(weights_f) - weights_f)
            pays_share = (float(cost[p]) - paid_before) * w_f <= held_f * weight_from
            split = FloatSplit(ids, codes, m, heads_f, held_f, w_f, paid_before, weight_from,
                               pays_share, float(paid_before[-1] + money_f[-1]))
        splits[p] = split
        return split

    def price(p: str):
        """Price p from the float budgets, checked exactly; None if no supporter has money
        left; (False, None) if it is clearly unaffordable in a pass that needs no bound."""
        split = float_split(p)
        if split is None:  # every supporter is broke, for good
            return None
        w_f: Any  # an array whenever codes is not None (FloatSplit.w_f)
        ids, codes, m, heads_f, held_f, w_f, _, _, pays_share, total = split
        poor = int(pays_share.argmax())
        if not pays_share[poor]:
            if not track and total + budgets.margin * heads_f.sum() < float(cost[p]):
                return (False, None)  # the bound is not needed: no run resumes from this one
            return exact_price(p)
        values, slopes = budgets.exact(ids[:poor], slopes=track)
        heads_poor = m[:poor].astype(object)
        paid = int((heads_poor * values).sum()) if poor else 0
        # One weight for all, or arrays of them parallel to ids.
        w: Any
        w_poor: Any
        w_rich: Any
        if codes is None:
            w = w_poor = w_rich = 1
            weight = int(m[poor:].sum())
        else:
            w = weight_values[p][codes]
            w_poor, w_rich = w[:poor], w_f[poor:]
            weight = int((w[poor:] * m[poor:]).sum())
        left = whole_cost(p) - paid
        # The split holds exactly if the poor cannot pay rho * u and the others can; the
        # float copy settles the others but for those within its error of rho.
        if poor and not np.all(values * weight < left * w_poor):
            return exact_price(p)
        rho_f = left / (budgets.den * weight)
        near = np.flatnonzero(held_f[poor:] < rho_f * (1 + 1e-12) * w_rich + budgets.margin)
        if near.size:
            near += poor
            rich, _ = budgets.exact(ids[near], slopes=False)
            if not np.all(rich * weight >= left * (1 if codes is None else w[near])):
                return exact_price(p)
        left_slope = -int((heads_poor * slopes).sum()) if track and poor else 0
        return priced(p, True, poor, (ids, codes, m, values, slopes), left, weight, left_slope)

    def estimate(p: str):
        """Float bounds (lo, hi) on p's rho, each rigorous: lo from the any-split bound with
        the float copies' error taken off, hi checked by its supporters being able to pay
        the cost at that price. None if no supporter has money left; DROP if p is clearly
        unaffordable; CLOSE if the floats cannot tell."""
        split = float_split(p)
        if split is None:
            return None
        _, _, _, heads_f, held_f, w_f, paid_before, weight_from, pays_share, total = split
        cost_f = float(cost[p])
        slack = budgets.margin * heads_f.sum() + FLOAT_SLACK * (cost_f + total)
        if total + slack < cost_f:
            return DROP
        poor = int(pays_share.argmax())
        if total - slack < cost_f or not pays_share[poor]:
            return CLOSE
        paid = paid_before[poor]
        per_rho = weight_from[poor] * unit_f[p]
        err = budgets.margin * heads_f[:poor].sum() + FLOAT_SLACK * (cost_f + paid)
        lo = (cost_f - paid - err) / per_rho * (1 - FLOAT_SLACK)
        # Wide enough for the check below to pass with every budget taken `margin` lower.
        gap = slack / per_rho
        hi = (cost_f - paid) / per_rho + 2 * gap
        # Paying min(budget, hi * utility) each, supporters raise at least the cost: rho <= hi.
        raised = (heads_f * np.minimum(held_f - budgets.margin, hi * unit_f[p] * w_f)).sum()
        if raised * (1 - FLOAT_SLACK) < cost_f * (1 + FLOAT_SLACK):
            return CLOSE
        return lo, hi

    def exact_price(p: str):
        """Price p on exact budgets alone (close calls, and bounds for tracking)."""
        cd = whole_cost(p)
        ids, codes, m, _ = classes_of(p)
        b, b_slopes = budgets.exact(ids)
        w: Any  # None when every supporter weighs the same, else an array parallel to ids
        if codes is None:
            w = None
            by_need = b
        else:
            w = weight_values[p][codes]
            by_need = b * sort_factors[p][codes]
        ranked = np.argsort(by_need, kind="stable")
        ids, m, b, b_slopes = ids[ranked], m[ranked], b[ranked], b_slopes[ranked]
        if codes is not None:
            codes, w = codes[ranked], w[ranked]
        held = m.astype(object) * b
        weights_of = m.astype(object) if w is None else w * m
        paid_before = np.cumsum(held) - held
        weight_from = int(weights_of.sum()) - (np.cumsum(weights_of) - weights_of)
        # The first class that can pay rho * u when all before it pay what they hold.
        hits = np.flatnonzero((cd - paid_before) * (1 if w is None else w) <= b * weight_from)
        affordable = bool(hits.size)
        # Unaffordable: the bound splits before the richest class.
        poor = int(hits[0]) if affordable else len(ids) - 1
        paid, weight = int(paid_before[poor]), int(weight_from[poor])
        left_slope = -int((m[:poor].astype(object) * b_slopes[:poor]).sum()) if poor else 0
        entries = (ids, codes, m, b[:poor], b_slopes[:poor])
        return priced(p, affordable, poor, entries, cd - paid, weight, left_slope)

    def reject(p: str, round_no: int, offer: tuple | None) -> None:
        """p is out: unaffordable (offer: what pricing it found) or its supporters broke."""
        alive.discard(p)
        if offer is not None:
            dropped.add(p)
            if offer[1] is not None:
                bound[p] = offer[1:3]
                approx[p] = below(offer[1])
        if explain:
            held = Fraction(money(p)[0], budgets.den)
            reasons[p] = Reason(
                REJECTED, f"in round {round_no} its supporters had {held} left, it costs {cost[p]}",
                {"round": round_no, "supporters_money": held, "cost": cost[p]},
            )

    def choose_exactly(round_no: int) -> tuple:
        """The round's winner and its offer, every candidate priced exactly (tracked runs
        need each price as an affine bound)."""
        best, best_rho, offers = None, ZERO, {}
        for p in sorted(alive, key=lambda q: (approx[q], rank[q])):
            if best is not None and bound[p][0] > best_rho:
                if approx[p] > best_rho:
                    break  # so are all after it
                continue
            offer = price(p)
            if offer is None or not offer[0]:
                reject(p, round_no, offer)
                continue
            offers[p] = offer
            rho = offer[1]
            bound[p] = offer[1:3]
            approx[p] = below(rho)
            if best is None or rho < best_rho or (rho == best_rho and key[p] < key[best]):
                best, best_rho = p, rho
        return best, (None if best is None else offers[best])

    def choose_screened(round_no: int) -> tuple:
        """The round's winner and its offer, from float bounds on each candidate's rho: only
        the projects whose bounds reach the lowest upper bound are priced exactly."""
        best_hi: Fraction | float = math.inf  # the lowest upper bound on a rho so far
        reach: dict[str, tuple] = {}  # candidate -> (lower bound, upper bound, exact offer)
        for p in sorted(alive, key=lambda q: (approx[q], rank[q])):
            if approx[p] > best_hi:
                break  # so are all after it
            found = estimate(p)
            if found is CLOSE:
                offer = price(p)
                if offer is None or not offer[0]:
                    reject(p, round_no, offer)
                    continue
                lo = hi = offer[1]
                approx[p] = below(lo)
            elif found is None or found is DROP:
                reject(p, round_no, None if found is None else (False, None))
                continue
            else:
                (lo, hi), offer = found, None
                approx[p] = lo
            reach[p] = (lo, hi, offer)
            best_hi = min(best_hi, hi)
        offers: dict[str, tuple] = {}
        for p, (lo, _hi, offer) in reach.items():
            if lo <= best_hi:
                chosen = offer or price(p)
                if chosen is None or not chosen[0]:  # the float bounds said otherwise
                    raise RuntimeError(f"MES: float bounds found {p!r} affordable, exact not")
                offers[p] = chosen
        best = min(offers, key=lambda p: (offers[p][1], key[p]), default=None)
        return best, (None if best is None else offers[best])

    lookup = np.zeros(0, dtype=np.int64)  # (class, weight code) -> new class, per purchase
    round_fail: float | int = NEVER  # the first k at which this round decides otherwise
    while True:
        if track:
            snapshots.append(copy_state((
                budgets, cls, bound, alive, dropped, short_until, order, reasons, round_no, k)))
            round_fail = NEVER
        if not alive:
            break
        round_no += 1
        best, offer = (choose_exactly if track else choose_screened)(round_no)
        if best is None:
            break
        _, rho, rho_slope, poor, entries, left, weight, left_slope = offer
        alive.discard(best)
        order.append(best)
        reasons[best] = Reason(
            SELECTED,
            f"round {round_no}: cheapest for its supporters, {rho} per unit of utility",
            {"round": round_no, "price_per_utility": rho},
        )
        ids, codes, _m, poor_values, poor_slopes = entries
        if track:
            for q in alive:
                fail = holds_until(k, bound[q][0] - rho, bound[q][1] - rho_slope,
                                   key[q] < key[best])
                round_fail = min(round_fail, fail)
            # Those who pay all they have must stay short of their share (the others only
            # get richer relative to it as k grows: their condition cannot fail).
            for j in range(poor):
                w = 1 if codes is None else weight_values[best][codes[j]]
                fail = holds_until(k, left * w - poor_values[j] * weight,
                                   left_slope * w - poor_slopes[j] * weight, True)
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
        splits.clear()
        # Payments: rich supporters pay share * w each, share = left / weight in units of
        # 1/den. Enlarge den so that this (and its slope) is whole.
        grow = weight // math.gcd(left, left_slope, weight)
        rich = ids[poor:]
        w_f: Any  # None, or the float weights parallel to w
        if codes is None:
            n = 1
            keys = rich
            w, w_f = None, None
        else:
            n = len(weight_values[best])
            keys = rich * n + codes[poor:]
            w, w_f = weight_values[best][codes[poor:]], weight_floats[best][codes[poor:]]
        # Each rich (class, weight) moves to a class of its own; the poor, and the rich left
        # with exactly nothing, go to BROKE, the lookup's default. Entries may repeat a
        # (class, weight): `first` keeps one of each. The lookup is all BROKE between rounds.
        if len(lookup) < budgets.size * n:
            lookup = np.zeros(2 * budgets.size * n, dtype=np.int64)
        slots = np.arange(len(keys))
        lookup[keys] = slots
        first = np.flatnonzero(lookup[keys] == slots)
        if len(first) < len(keys):
            keys, rich = keys[first], rich[first]
            if w is not None:
                w, w_f = w[first], w_f[first]
        born = budgets.pay(grow, left * grow // weight, left_slope * grow // weight, rich, w, w_f)
        maybe_empty = np.flatnonzero(budgets.approx[born] <= budgets.margin)
        if maybe_empty.size:
            values, slopes = budgets.exact(born[maybe_empty])
            empty = maybe_empty[np.equal(values, 0) & np.equal(slopes, 0)]
            born[empty] = BROKE
        lookup[keys] = born
        buyers = supporters[best]
        was = cls[buyers]
        cls[buyers] = lookup[was if codes is None else was * n + weight_codes[best]]
        lookup[keys] = BROKE
    if track:
        for q in dropped:  # the run ends because nothing left is affordable: must stay so
            held, held_slope = money(q)
            round_fail = min(round_fail, holds_until(k, whole_cost(q) - held, -held_slope, True))
        round_fails.append(round_fail)
        next_k = min(next_k, round_fail)
    total = sum((cost[p] for p in order), ZERO)
    return Run(order, total, reasons, next_k, k, snapshots, round_fails)


def copy_state(state: tuple) -> tuple:
    budgets, cls, bound, alive, dropped, short_until, order, reasons, round_no, k = state
    return (budgets.copy(), cls.copy(), dict(bound), set(alive), set(dropped),
            dict(short_until), list(order), dict(reasons), round_no, k)
