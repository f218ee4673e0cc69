"""The refusals of voting, by what a voter can do about them. Each is the API's refusal of
the same status (409 / 422 / 403) with the same message; a page tells them apart by class,
and words them in the reader's language from their attributes, never from the message."""

from __future__ import annotations

from typing import Any

from saas.core.refusals import Conflict, Forbidden, Invalid


class VotingClosed(Conflict):
    """The cycle is not taking votes (not yet, or no longer: also when voting closed while the
    ballot was being cast). `status_now` is the cycle's phase, when known."""

    def __init__(self, message: str, *, status_now: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.status_now = status_now


class AlreadyVoted(Conflict):
    """The person was struck off this cycle's roll before, on `channel` (online, onsite,
    paper; None when the mark could not be read back)."""

    def __init__(self, message: str, *, channel: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.channel = channel


class NotEligible(Invalid):
    """The voter may not vote in this cycle: `reason` is basis, too_young or too_old, with
    the limit in `limit` (an age) and the year it is counted in (`year`)."""

    def __init__(
        self, message: str, *, reason: str, limit: int | None = None, year: int | None = None, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.reason, self.limit, self.year = reason, limit, year


class NotVerifiedEnough(Forbidden):
    """The sign-in may not vote online in this cycle (not through the national IdP, or at too
    low an assurance): the person should sign in again as asked, or vote on site."""


class BallotRuleBroken(Invalid):
    """The choices break a rule of the ballot: `rule` (k, min_k, budget, min_spend_share,
    points, max_points_per_project, ranks, max_rank, approval, knapsack, empty, not_on_ballot,
    duplicate), in envelope `envelope_id` when the rule is an envelope's."""

    def __init__(self, message: str, *, rule: str, envelope_id: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.rule, self.envelope_id = rule, envelope_id


class ChoiceUnreadable(Invalid):
    """A field of the ballot's form (no-JS page) is not a choice: `reason` is not_a_number,
    out_of_range or not_on_ballot; `field` names the input (``project``, ``points-12``,
    ``rank-12``, ``sel``) and `limit` the largest value it takes, when that is the reason."""

    def __init__(self, message: str, *, field: str, reason: str, limit: int | None = None) -> None:
        super().__init__(message, field=field)
        self.reason, self.limit = reason, limit
