"""What a Method of Equal Shares pass needs that does not depend on the endowment: built
once per election and shared by every pass of the add1 completions (`mes_rounds`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from tenants.counting.election import Election
from tenants.counting.satisfaction import VoterGroups
from tenants.counting.tiebreak import TieKey

ZERO = Fraction(0)


@dataclass
class Prepared:
    """What does not depend on the endowment: built once, shared by every add1 run."""

    counts: list[int]
    unit: dict[str, Fraction]
    unit_f: dict[str, float]
    uniform: dict[str, bool]  # all supporters weigh the same (any approval ballot)
    cost: dict[str, Fraction]
    key: dict[str, tuple]
    rank: dict[str, int]  # each candidate's place in tie-breaking order
    free: list[str]  # cost 0 and wanted: funded before MES starts (as pabutools)
    candidates: list[str]  # cost > 0 and at least one supporter
    unsupported: list[str]
    supporters: dict[str, np.ndarray]  # groups supporting each candidate
    heads: dict[str, np.ndarray]  # parallel to `supporters`: each group's voter count
    heads_f: dict[str, np.ndarray]  # the same as floats
    # Each supporting group's utility is unit[project] * weight (an integer): weight_codes,
    # parallel to `supporters`, index weight_values (absent when uniform: weight 1).
    weight_codes: dict[str, np.ndarray]
    weight_values: dict[str, np.ndarray]  # exact integers (dtype object)
    weight_floats: dict[str, np.ndarray]
    sort_factors: dict[str, np.ndarray]  # budget * factor orders classes by budget / utility
    initial_rho: dict[str, Fraction]
    base: Fraction  # B / n
    denominator: int  # the first D: makes every cost and the base endowment whole


def prepare(election: Election, groups: VoterGroups, key_of: TieKey) -> Prepared:
    counts, scale = groups.counts, groups.scale
    cost = {p: Fraction(pr.cost) for p, pr in election.projects.items()}
    supporters, by_raw = supporters_of(election, groups)
    free, candidates, unsupported = [], [], []
    unit: dict[str, Fraction] = {}
    weight_of: dict[tuple[str, object], int] = {}
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
        total = sum(weight_of[(p, r)] * m for r, m in tally.items()) * unit[p]
        initial_rho[p] = cost[p] / total
    # Each group's utilities by project, needed only when some project weighs them unequally.
    utility_of = ([dict(raw) for raw in groups.raw] if not all(uniform.values()) else [])
    weight_values: dict[str, np.ndarray] = {}
    weight_floats: dict[str, np.ndarray] = {}
    weight_codes: dict[str, np.ndarray] = {}
    sort_factors: dict[str, np.ndarray] = {}
    for p in candidates:
        values = [1] if uniform[p] else sorted({weight_of[(p, r)] for r in by_raw[p]})
        top = math.lcm(*values)
        weight_values[p] = np.array(values, dtype=object)
        weight_floats[p] = np.array(values, dtype=np.float64)
        sort_factors[p] = np.array([top // w for w in values], dtype=object)
        if not uniform[p]:
            code = {w: i for i, w in enumerate(values)}
            weight_codes[p] = np.array(
                [code[weight_of[(p, utility_of[g][p])]] for g in supporters[p].tolist()],
                dtype=np.int64)
    head_count = np.array(counts, dtype=np.int64)
    free.sort(key=key_of)
    n = election.voter_count
    base = Fraction(election.budget) / n if n else ZERO
    denominator = math.lcm(base.denominator, *(c.denominator for c in cost.values()))
    return Prepared(
        counts, unit, {p: float(u) for p, u in unit.items()}, uniform, cost,
        {p: key_of(p) for p in election.projects},
        {p: i for i, p in enumerate(sorted(candidates, key=key_of))},
        free, candidates, unsupported,
        {p: supporters[p] for p in candidates},
        {p: head_count[supporters[p]] for p in candidates},
        {p: head_count[supporters[p]].astype(np.float64) for p in candidates},
        weight_codes, weight_values,
        weight_floats, sort_factors, initial_rho, base, denominator,
    )


def supporters_of(election: Election, groups: VoterGroups) -> tuple[dict, dict]:
    """Each project's supporting groups (ascending array) and its voters by raw utility
    ({raw: head count}), from every (group, project, raw) pair sorted as arrays."""
    projects = list(election.projects)
    number = {p: i for i, p in enumerate(projects)}
    lengths = np.fromiter(map(len, groups.raw), dtype=np.int64, count=len(groups.raw))
    total = int(lengths.sum())
    ids = [p for pairs in groups.raw for p, _ in pairs]
    utilities = [r for pairs in groups.raw for _, r in pairs]
    raws = {r: code for code, r in enumerate(dict.fromkeys(utilities))}  # raw -> its code
    project_of = np.fromiter(map(number.__getitem__, ids), dtype=np.int64, count=total)
    raw_of = np.fromiter(map(raws.__getitem__, utilities), dtype=np.int64, count=total)
    group_of = np.repeat(np.arange(len(groups.raw), dtype=np.int64), lengths)
    ranked = np.argsort(project_of, kind="stable")  # groups stay ascending within a project
    starts = np.searchsorted(project_of[ranked], np.arange(len(projects) + 1))
    supporters = {p: group_of[ranked[starts[i]:starts[i + 1]]] for i, p in enumerate(projects)}
    heads = np.bincount(project_of * len(raws) + raw_of,
                        weights=np.array(groups.counts, dtype=np.float64)[group_of],
                        minlength=len(projects) * len(raws)).reshape(len(projects), len(raws))
    raw_values = list(raws)
    by_raw = {p: {raw_values[j]: int(heads[i, j]) for j in np.flatnonzero(heads[i])}
              for i, p in enumerate(projects)}
    return supporters, by_raw
