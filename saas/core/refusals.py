"""Refusals: what an action answers when the request cannot be done as asked.

Every layer raises these (or a family of its own that subclasses them); nothing catches
them to translate. They reach a person in two places only: the API's error handler
(`saas.core.api.errors`, the JSON body `{"code", "status", "message", "errors"?}` with
`status`) and the command line (`saas.cli`, one line and an exit status). Anything that is
not a refusal (a `KeyError` of a bug, say) is a 500 there, never a 4xx.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class Message(str):
    """A sentence marked for translation where it is written (as gettext_noop marks one), with
    its parameters. As a `str` it is the English sentence (`msgid % params`): what the API's
    JSON body, the command line and the logs say, unchanged. A page renders it again in the
    reader's language from `msgid` and `params` (`saas.core.web.i18n.translated`), so the
    domain needs no request, no locale and no Babel to say it.

    A parameter is a plain value, a `datetime` (English: `2027-03-01 09:00 UTC`; a page: the
    local date and time of its language) or another `Message` (translated in turn)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, **params: Any) -> Message:
        text = msgid % {name: _english(value) for name, value in params.items()} if params else msgid
        made = super().__new__(cls, text)
        made.msgid = msgid
        made.params = params
        return made

    def __reduce__(self) -> Any:
        return (_message, (self.msgid, self.params))


def _message(msgid: str, params: dict[str, Any]) -> Message:
    return Message(msgid, **params)


def _english(value: Any) -> Any:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return value


def N_(msgid: str, **params: Any) -> Message:  # noqa: N802 - the marker pybabel extracts
    """Mark `msgid` (an English sentence with `%(name)s` placeholders) for the catalogues of the
    package it is written in; see `Message`."""
    return Message(msgid, **params)


class Refusal(Exception):
    """A request refused for a reason the caller can act on. `message` is what a person reads
    (a `Message` when it has a translation for pages, see `N_`);
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
