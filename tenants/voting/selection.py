"""A voter's selection in one envelope while they make it: what is left (budget, picks,
points, ranks), whether each project can still be added and, if not, why — in structured
form, for the page to word ("costs ₩X, ₩Y left") and the script to mirror. Pure: no
database, no request; the same rules as `rules.validate_ballot`, which has the last word.

Also the form of the page without JavaScript (checkboxes, point inputs, rank selects) read
into the choices the API takes, and a selection written into one URL parameter, so that a
selection made before sign-in comes back after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tenants.voting.refusals import ChoiceUnreadable

__all__ = ["ChoiceUnreadable", "Room", "Standing", "as_choices", "decode", "encode", "parse_form", "standing"]

# Refusal reasons of a project that cannot be added (Room.reason) and of a selection that
# cannot be cast or saved (Standing.problem): the rule names of rules.validate_ballot.
BUDGET, PICKS, POINTS, RANKS, CAP = "budget", "k", "points", "max_rank", "max_points_per_project"
MAX_VALUE = 10_000  # as the API's ChoiceSchema


class Form(Protocol):
    """A form's fields, as werkzeug's MultiDict gives them."""

    def get(self, key: str, /) -> Any: ...
    def getlist(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class Room:
    """One project, given the selection. `value` is what it has (0: not chosen; points or
    rank). `can_add`: it may be chosen (or, cumulative, take one more point); otherwise
    `reason` says which measure ran out, `left` how much of it is left (won, picks, points,
    ranks) and `cost` what the project needs (its cost in won; 1 pick, point or rank)."""

    project_id: int
    value: int
    can_add: bool
    reason: str | None
    cost: int
    left: int
    max_value: int  # the most it may have, the rest of the selection unchanged


@dataclass(frozen=True)
class Standing:
    """The selection of one envelope against its ballot type. `total` is the budget (won),
    k, the points or max_rank; `used` what the selection takes of it, `left` the rest;
    `minimum` what it must reach to be cast (won, or picks; 1 pick otherwise). `problem` is
    the rule the selection breaks now (None: it may be cast; see `over` for the rules no
    adding can fix, which keep it from being saved)."""

    kind: str
    total: int
    used: int
    left: int
    minimum: int
    problem: str | None
    over: bool
    rooms: dict[int, Room]

    @property
    def complete(self) -> bool:
        return self.problem is None

    @property
    def chosen(self) -> dict[int, int]:
        return {pid: room.value for pid, room in self.rooms.items() if room.value}


def standing(
    rules: Mapping[str, Any], budget: int, projects: Iterable[tuple[int, int]], selection: Mapping[int, int]
) -> Standing:
    """Where `selection` ({project id: value}; 0 or absent: not chosen) stands in an envelope
    of `budget` won with `projects` ((id, cost) pairs) under the cycle's ballot `rules`.
    Values of projects not in `projects` are ignored (the page refuses them first)."""
    costs = dict(projects)
    chosen = {pid: v for pid, v in selection.items() if v and pid in costs}
    kind = rules["type"]
    if kind == "knapsack":
        return _knapsack(rules, budget, costs, chosen)
    if kind == "approval":
        return _approval(rules, costs, chosen)
    if kind == "cumulative":
        return _cumulative(rules, costs, chosen)
    if kind == "ranked":
        return _ranked(rules, costs, chosen)
    raise ValueError(f"unknown ballot type {kind!r}")


def _knapsack(
    rules: Mapping[str, Any], budget: int, costs: dict[int, int], chosen: dict[int, int]
) -> Standing:
    spent = sum(costs[p] for p in chosen)
    left = budget - spent
    minimum = int(budget * rules.get("min_spend_share", 0))
    rooms = {}
    for pid, cost in costs.items():
        if pid in chosen:
            rooms[pid] = Room(pid, 1, False, None, cost, max(left, 0), 1)
        else:
            fits = cost <= left
            rooms[pid] = Room(pid, 0, fits, None if fits else BUDGET, cost, max(left, 0), 1 if fits else 0)
    over = left < 0 or any(v != 1 for v in chosen.values())
    problem = (
        BUDGET
        if left < 0
        else "knapsack"
        if over
        else "empty"
        if not chosen
        else "min_spend_share"
        if spent < minimum
        else None
    )
    return Standing("knapsack", budget, spent, left, minimum, problem, over, rooms)


def _approval(rules: Mapping[str, Any], costs: dict[int, int], chosen: dict[int, int]) -> Standing:
    k, min_k = rules["k"], rules.get("min_k", 1)
    left = k - len(chosen)
    rooms = {}
    for pid, cost in costs.items():
        if pid in chosen:
            rooms[pid] = Room(pid, 1, False, None, cost, max(left, 0), 1)
        else:
            rooms[pid] = Room(
                pid, 0, left > 0, None if left > 0 else PICKS, cost, max(left, 0), int(left > 0)
            )
    over = left < 0 or any(v != 1 for v in chosen.values())
    problem = (
        PICKS
        if left < 0
        else "approval"
        if over
        else "empty"
        if not chosen
        else "min_k"
        if len(chosen) < min_k
        else None
    )
    return Standing("approval", k, len(chosen), left, min_k, problem, over, rooms)


def _cumulative(rules: Mapping[str, Any], costs: dict[int, int], chosen: dict[int, int]) -> Standing:
    total, cap = rules["points"], rules.get("max_points_per_project")
    used = sum(chosen.values())
    left = total - used
    rooms = {}
    for pid, cost in costs.items():
        value = chosen.get(pid, 0)
        most = value + max(left, 0)
        if cap is not None:
            most = min(most, cap)
        if left <= 0:
            can, reason = False, POINTS
        elif cap is not None and value >= cap:
            can, reason = False, CAP
        else:
            can, reason = True, None
        rooms[pid] = Room(pid, value, can, reason, cost, max(left, 0), most)
    capped = cap is not None and any(v > cap for v in chosen.values())
    over = left < 0 or capped or any(v < 0 for v in chosen.values())
    problem = POINTS if left < 0 else CAP if capped else "empty" if not chosen else None
    return Standing("cumulative", total, used, left, 1, problem, over, rooms)


def _ranked(rules: Mapping[str, Any], costs: dict[int, int], chosen: dict[int, int]) -> Standing:
    max_rank = rules["max_rank"]
    left = max_rank - len(chosen)
    rooms = {}
    for pid, cost in costs.items():
        value = chosen.get(pid, 0)
        if value:
            rooms[pid] = Room(pid, value, False, None, cost, max(left, 0), max_rank)
        else:
            rooms[pid] = Room(pid, 0, left > 0, None if left > 0 else RANKS, cost, max(left, 0), max_rank)
    ranks = sorted(chosen.values())
    over = left < 0 or any(v > max_rank or v < 1 for v in ranks) or len(set(ranks)) != len(ranks)
    gaps = ranks != list(range(1, len(ranks) + 1))
    problem = RANKS if left < 0 else "ranks" if over or gaps else "empty" if not chosen else None
    return Standing("ranked", max_rank, len(chosen), left, 1, problem, over, rooms)


def as_choices(selection: Mapping[int, int]) -> list[dict[str, int]]:
    """A selection as the API's choices, in project order."""
    return [{"project_id": pid, "value": v} for pid, v in sorted(selection.items()) if v]


def _number(text: Any, field: str, limit: int) -> int:
    text = str(text).strip()
    if not text.isascii() or not text.isdigit():
        raise ChoiceUnreadable(
            f"{field}: {text!r} is not a whole number.", field=field, reason="not_a_number"
        )
    value = int(text) if len(text) <= 19 else limit + 1  # no unbounded int() of a long input
    if value > limit:
        raise ChoiceUnreadable(f"{field}: at most {limit}.", field=field, reason="out_of_range", limit=limit)
    return value


def parse_form(rules: Mapping[str, Any], form: Form, project_ids: Sequence[int]) -> dict[int, int]:
    """The selection a ballot form sends without JavaScript: checkboxes ``project`` (their
    values project ids) for approval and knapsack, ``points-<id>`` inputs for cumulative,
    ``rank-<id>`` selects for ranked (empty or 0: not chosen). Raises ChoiceUnreadable
    naming the field that is not a choice; the rules themselves are `standing`'s to judge."""
    kind, known = rules["type"], set(project_ids)
    selection: dict[int, int] = {}
    if kind in ("approval", "knapsack"):
        for raw in form.getlist("project"):
            pid = _number(raw, "project", 2**63 - 1)
            if pid not in known:
                raise ChoiceUnreadable(
                    f"Project {pid} is not on this ballot.", field="project", reason="not_on_ballot"
                )
            selection[pid] = 1
        return selection
    prefix, limit = ("points", MAX_VALUE) if kind == "cumulative" else ("rank", rules.get("max_rank", 1))
    for pid in project_ids:
        field = f"{prefix}-{pid}"
        raw = form.get(field)
        if raw is None or str(raw).strip() == "":
            continue
        value = _number(raw, field, limit)
        if value:
            selection[pid] = value
    return selection


def encode(selection: Mapping[int, int]) -> str:
    """A selection in one URL parameter: ``12.1-15.3`` (project id, value)."""
    return "-".join(f"{pid}.{v}" for pid, v in sorted(selection.items()) if v)


def decode(text: str, project_ids: Sequence[int]) -> dict[int, int]:
    """The selection `encode` wrote; ChoiceUnreadable (field ``sel``) for anything else, or a
    project not in `project_ids`."""
    known, selection = set(project_ids), {}
    if len(text) > 20_000:
        raise ChoiceUnreadable("The selection is too long.", field="sel", reason="out_of_range")
    for part in filter(None, text.split("-")):
        pid_text, _, value_text = part.partition(".")
        pid = _number(pid_text, "sel", 2**63 - 1)
        value = _number(value_text or "1", "sel", MAX_VALUE)
        if pid not in known:
            raise ChoiceUnreadable(
                f"Project {pid} is not on this ballot.", field="sel", reason="not_on_ballot"
            )
        if value:
            selection[pid] = value
    return selection
