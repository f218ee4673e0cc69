"""Refusals a portal action can answer with; views turn them into JSON 4xx."""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(PortalError):
    status = 404


class Forbidden(PortalError):
    """The caller may not take this action, whatever the state (a credential that cannot
    tell who the person is, a sign-in of too low an assurance)."""

    status = 403


class Conflict(PortalError):
    """The action does not fit the current state (phase, frozen cycle, already voted)."""

    status = 409


class Gone(PortalError):
    """What the request names existed but is over for good (an expired invitation)."""

    status = 410


class Invalid(PortalError):
    """The request breaks a rule of the cycle (an invalid ballot, an unknown category)."""

    status = 422


def init_app(app: Any) -> None:
    """Answer every PortalError as the API's JSON error."""
    from flask_smorest import abort
    from werkzeug.exceptions import HTTPException

    from saas.core.extensions import api

    @app.errorhandler(PortalError)
    def _portal_error(error: PortalError):
        kwargs: dict[str, Any] = {"message": error.message}
        if error.errors is not None:
            kwargs["errors"] = error.errors
        try:
            abort(error.status, **kwargs)
        except HTTPException as http_error:
            return api.handle_http_exception(http_error)
