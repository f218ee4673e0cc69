"""Refusals: what an action answers when the request cannot be done as asked.

Every layer raises these (or a family of its own that subclasses them); nothing catches
them to translate. They reach a person in two places only: the API's error handler
(`saas.core.api.errors`, the JSON body `{"code", "status", "message", "errors"?}` with
`status`) and the command line (`saas.cli`, one line and an exit status). Anything that is
not a refusal (a `KeyError` of a bug, say) is a 500 there, never a 4xx.
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request refused for a reason the caller can act on. `message` is what a person reads;
    `errors` names the inputs at fault (`{"field": ["why"]}`), when any are; `field` is the
    shorthand for one input at fault, with the message as its reason."""

    status = 400
    # The message is a lowercase fragment (as the command line prints it); the API sends it
    # as a sentence (first letter up, a full stop).
    fragment = False

    def __init__(
        self, message: str = "", errors: dict[str, Any] | None = None, *, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if errors is None and field is not None:
            errors = {field: [message]}
        self.errors = errors

    def __str__(self) -> str:
        return self.message

    @property
    def public_message(self) -> str:
        """The message as the API sends it."""
        return as_sentence(self.message) if self.fragment else self.message

    @property
    def headers(self) -> dict[str, str]:
        """Headers the answer carries (none, unless a subclass says so)."""
        return {}


class Malformed(Refusal):
    """The request is not what this endpoint reads (a webhook that is no signed event)."""

    status = 400


class Forbidden(Refusal):
    """The caller may not take this action, whatever the state (a credential that cannot
    tell who the person is, a sign-in of too low an assurance)."""

    status = 403


class NotFound(Refusal, LookupError):
    """What the request names does not exist, or is not the caller's to see (the same answer:
    "missing" and "not yours" look alike). A `LookupError` too, for callers that ask only
    whether a lookup failed."""

    status = 404


class Conflict(Refusal):
    """The action does not fit the current state (phase, frozen cycle, already voted, a name
    taken)."""

    status = 409


class Gone(Refusal):
    """What the request names existed but is over for good (an expired invitation)."""

    status = 410


class Invalid(Refusal):
    """The request breaks a rule (an invalid ballot, an unknown category, a bad slug)."""

    status = 422


class TooMany(Refusal):
    """The caller asked too often; `retry_after` seconds from now it may ask again."""

    status = 429

    def __init__(self, message: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class Unavailable(Refusal):
    """A service the action needs does not answer now; the same request may work later."""

    status = 503


def as_sentence(text: str) -> str:
    """`text` with its first letter up and a full stop at its end."""
    return f"{text[:1].upper()}{text[1:]}" + ("" if text.endswith(".") else ".")
