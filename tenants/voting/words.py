"""The ballot pages' words for what the voting services say in structure: where a selection
stands, why a project cannot be added, and each refusal, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from saas.core.refusals import Invalid, Refusal, TooMany, Unavailable
from saas.core.web.i18n import _, won
from tenants.voting import selection as sel
from tenants.voting.refusals import (
    AlreadyVoted,
    BallotRuleBroken,
    ChoiceUnreadable,
    NotEligible,
    NotVerifiedEnough,
    VotingClosed,
)


def channel(name: str | None) -> str:
    return {"online": _("online"), "onsite": _("on site"), "paper": _("on paper")}.get(
        name or "", _("another channel")
    )


def summary(standing: sel.Standing) -> str:
    """What is left, always shown beside the ballot."""
    kind, left, total = standing.kind, max(standing.left, 0), standing.total
    if kind == "knapsack":
        return _("%(left)s left of %(total)s", left=won(left), total=won(total))
    if kind == "approval":
        return _("%(left)s of %(total)s choices left", left=left, total=total)
    if kind == "cumulative":
        return _("%(left)s of %(total)s points left", left=left, total=total)
    return _("%(left)s of %(total)s ranks left", left=left, total=total)


def room(standing: sel.Standing, project_id: int) -> str | None:
    """Why the project cannot be added, or None when it can (or is chosen)."""
    r = standing.rooms[project_id]
    if r.can_add or (r.value and standing.kind != "cumulative"):
        return None
    if r.reason == sel.BUDGET:
        return _("Costs %(cost)s, %(left)s left", cost=won(r.cost), left=won(r.left))
    if r.reason == sel.PICKS:
        return _("You have chosen %(k)s projects, the most this ballot takes", k=standing.total)
    if r.reason == sel.POINTS:
        return _("No points left") if not r.value else None
    if r.reason == sel.CAP:
        return _("At most %(cap)s points for one project", cap=r.max_value)
    if r.reason == sel.RANKS:
        return _("Every rank is given")
    return None


def _rule(rule: str, rules: Mapping[str, Any], standing: sel.Standing | None = None) -> str:
    if rule == "budget":
        if standing is not None:
            return _(
                "Your selection costs %(used)s, over the budget of %(total)s.",
                used=won(standing.used),
                total=won(standing.total),
            )
        return _("Your selection is over the budget.")
    if rule == "min_spend_share":
        if standing is not None:
            return _("Use at least %(minimum)s of the budget.", minimum=won(standing.minimum))
        return _("Use more of the budget.")
    if rule == "k":
        return _("Choose at most %(k)s projects.", k=rules.get("k"))
    if rule == "min_k":
        return _("Choose at least %(n)s projects.", n=rules.get("min_k"))
    if rule == "points":
        return _("Give at most %(n)s points in all.", n=rules.get("points"))
    if rule == "max_points_per_project":
        return _("Give a project at most %(n)s points.", n=rules.get("max_points_per_project"))
    if rule == "ranks":
        return _("Rank the chosen projects 1, 2, 3, … without gaps or repeats.")
    if rule == "max_rank":
        return _("Rank at most %(n)s projects.", n=rules.get("max_rank"))
    if rule == "one_dong":
        return _(
            "Your selections are in two neighbourhoods; you vote in the one you live in. "
            "Open its ballot and review from there."
        )
    if rule == "not_on_ballot":
        return _("A project you chose is not on your ballot.")
    if rule == "duplicate":
        return _("A project is chosen twice.")
    if rule in ("approval", "knapsack"):
        return _("This ballot takes no points.")
    return _("Choose at least one project.")


def problem(standing: sel.Standing, rules: Mapping[str, Any]) -> str:
    """Why the selection cannot be cast as it is."""
    return _rule(standing.problem or "empty", rules, standing)


def refusal(error: Refusal, rules: Mapping[str, Any]) -> str:
    """A refusal of the voting services as a sentence for the reader."""
    if isinstance(error, VotingClosed):
        return _("Voting is closed: your ballot was not recorded.")
    if isinstance(error, AlreadyVoted):
        return _(
            "You have already voted in this cycle (%(channel)s). One ballot per person is counted.",
            channel=channel(error.channel),
        )
    if isinstance(error, NotEligible):
        if error.reason == "too_young":
            return _("Voters must be at least %(age)s in %(year)s.", age=error.limit, year=error.year)
        if error.reason == "too_old":
            return _("Voters must be at most %(age)s in %(year)s.", age=error.limit, year=error.year)
        return _("This cycle is not open to voters on that basis.")
    if isinstance(error, NotVerifiedEnough):
        return _(
            "Voting online here needs a sign-in verified by the national identity provider. "
            "Sign in again that way, or vote on site."
        )
    if isinstance(error, BallotRuleBroken):
        return _rule(error.rule, rules)
    if isinstance(error, ChoiceUnreadable):
        return field_reason(error)
    if isinstance(error, TooMany):
        return _("Too many checks from here. Try again in %(seconds)s seconds.", seconds=error.retry_after)
    if isinstance(error, Unavailable):
        return _("This is unavailable for a moment. Try again.")
    if isinstance(error, Invalid) and error.field == "code":
        return _("A receipt code has 20 letters and digits, in groups of four.")
    return _("This could not be done. Check your ballot and try again.")


def field_reason(error: ChoiceUnreadable) -> str:
    if error.field == "basis":
        return _("Choose on what basis you vote.")
    if error.field == "birth_year":
        return _("Give your year of birth (four digits).")
    if error.reason == "out_of_range":
        return _("At most %(limit)s.", limit=error.limit)
    if error.reason == "not_on_ballot":
        return _("This project is not on this ballot.")
    return _("Enter a whole number.")


def field_errors(error: Refusal) -> dict[str, list[str]]:
    """The refused field and why, for the form (`errors` of the form macros)."""
    if isinstance(error, ChoiceUnreadable) and error.field:
        return {error.field: [field_reason(error)]}
    if isinstance(error, Invalid) and error.field == "code":
        return {"code": [refusal(error, {})]}
    return {}


def standing_json(standing: sel.Standing, rules: Mapping[str, Any], *, saved: bool) -> dict[str, Any]:
    """Where a selection stands, for the script: the summary, the problem, and per project
    whether it is disabled and why (the same words as the page without JavaScript)."""
    state = ""
    if standing.chosen:
        state = _("Not yet submitted") + (" · " + _("Kept on this site") if saved else "")
    return {
        "saved": saved,
        "state": state,
        "summary": summary(standing),
        "left": standing.left,
        "complete": standing.complete,
        "problem": None if standing.complete else problem(standing, rules),
        "projects": {
            str(pid): {
                "value": r.value,
                "disabled": not r.can_add and not r.value,
                "max": r.max_value,
                "why": room(standing, pid),
            }
            for pid, r in standing.rooms.items()
        },
    }
