"""Every error is JSON `{"code", "status", "message", "errors"?}` with the right status.

This is the one place where a refusal (`saas.core.refusals`) becomes an HTTP answer; any
other exception is a 500 whose body names no detail of it (the traceback goes to the log)."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask_smorest import Api
from flask_smorest.error_handler import ErrorSchema as SmorestErrorSchema
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from saas.core.refusals import Refusal

log = logging.getLogger(__name__)

# A sentence for each status a client can meet without a message of our own.
DEFAULT_MESSAGES = {
    400: "The request is malformed.",
    401: "Authentication is required: send 'Authorization: Bearer <token>'.",
    403: "Your role does not allow this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    409: "The request conflicts with the current state.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "The request did not pass validation; see 'errors'.",
    500: "Something went wrong on our side; the error was logged.",
    503: "The service is not available right now.",
}


class ErrorSchema(SmorestErrorSchema):
    code = ma.fields.Integer(metadata={"description": "HTTP status code"})
    status = ma.fields.String(metadata={"description": "HTTP status name"})
    message = ma.fields.String(metadata={"description": "What was wrong, in a sentence"})
    errors = ma.fields.Dict(metadata={"description": "Field-by-field problems, when validation failed"})


class ChamyeoApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app: Any, *args: Any, **kwargs: Any) -> None:
        self.documented_fields: dict[tuple[str, str], str] = {}
        super().init_app(app, *args, **kwargs)

    def document_field(self, component: str, prop: str, name: str, schema: Any) -> None:
        """Document `component.prop` (a free-form dict in its schema, validated in full by
        its service) with the marshmallow `schema` the service applies, as component `name`."""
        self.spec.components.schema(name, schema=schema)
        self.documented_fields[(component, prop)] = name

    def openapi_document(self) -> dict[str, Any]:
        """The OpenAPI document as served (see saas/core/api/openapi.py)."""
        from saas.core.api.openapi import truthful_document

        return truthful_document(self.spec.to_dict(), self._app, self.documented_fields)

    def _openapi_json(self) -> Any:
        from flask import current_app, json

        return current_app.response_class(
            json.dumps(self.openapi_document(), indent=2, sort_keys=False), mimetype="application/json"
        )

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()
        self._app.register_error_handler(Refusal, self.handle_refusal)
        self._app.register_error_handler(Exception, self.handle_unexpected_exception)

    def handle_refusal(self, error: Refusal) -> tuple[dict[str, Any], int, dict]:
        """A refusal as its status, its message and the inputs at fault."""
        from flask_smorest import abort

        kwargs: dict[str, Any] = {"message": error.public_message}
        if error.errors is not None:
            kwargs["errors"] = error.errors
        if error.headers:
            kwargs["headers"] = error.headers
        try:
            abort(error.status, **kwargs)
        except HTTPException as http_error:
            return self.handle_http_exception(http_error)
        raise AssertionError("abort returned")  # pragma: no cover - abort always raises

    def handle_http_exception(self, error: HTTPException) -> tuple[dict[str, Any], int, dict]:
        payload, status, headers = super().handle_http_exception(error)
        payload.setdefault("message", _message_for(error))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # RFC 9110: a 405 says which methods the resource takes.
            headers = {**headers, "Allow": ", ".join(sorted(error.valid_methods))}
        return payload, status, headers

    def handle_unexpected_exception(self, error: Exception) -> tuple[dict[str, Any], int, dict]:
        if isinstance(error, HTTPException):
            return self.handle_http_exception(error)
        log.exception("unhandled error")
        return self.handle_http_exception(InternalServerError())


def refuse_nul_in_url() -> None:
    """PostgreSQL text cannot hold NUL characters: refuse them in paths and query strings."""
    from flask import request
    from flask_smorest import abort

    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        abort(400, message="The URL may not contain NUL (U+0000) characters.")


def _message_for(error: HTTPException) -> str:
    code = error.code or 500
    if code in DEFAULT_MESSAGES and code >= 500:
        return DEFAULT_MESSAGES[code]
    description = error.description or ""
    # werkzeug's own descriptions are long and generic; ours are shorter.
    if description and description != type(error).description:
        return description
    return DEFAULT_MESSAGES.get(code, error.name)
