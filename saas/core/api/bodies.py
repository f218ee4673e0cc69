"""The JSON request body, checked once for every route before any view or schema sees it.

Hostile shapes are refused here, in one place, so a new route inherits the refusals:
nesting deeper than `MAX_JSON_DEPTH` (the parser would recurse until RecursionError), lone
surrogates such as "\\ud800" (valid JSON escapes, but no UTF-8 can carry them, so the
database driver fails on them), integers too long for Python to read (over 4300 digits:
ValueError), NaN, Infinity and floats that overflow to it (not JSON) answer 400; NUL
characters (PostgreSQL text cannot hold them) answer 422, as the input schemas do.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class HostileBody(ValueError):
    """A body that is JSON but must not reach a view; `status` is the answer's."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def load_json_body(raw: bytes | str) -> Any:
    """Parse a request body as JSON and check its shape (see the module's docstring).

    Raises json.JSONDecodeError / UnicodeDecodeError for what is not JSON, HostileBody for
    what is JSON but refused."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise HostileBody(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except (HostileBody, json.JSONDecodeError):
        raise
    except ValueError:
        # Python refuses to read integers of more than 4300 digits (a denial-of-service guard).
        raise HostileBody("The JSON body holds a number too long to read.") from None
    # The walk is needed only where the text could hold what it refuses: a lone surrogate or a
    # NUL reaches a string only as a \u escape (the parser refuses raw control characters, and
    # UTF-8 cannot carry surrogates), and no value nests deeper than its opening brackets.
    if "\\u" in text or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        check_json_shape(data)
    return data


def _refuse_constant(name: str) -> Any:
    raise HostileBody(f"{name} is not JSON: numbers are finite.")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise HostileBody("The JSON body holds a number too large for a double.")
    return value


def check_json_shape(data: Any) -> None:
    """Refuse deep nesting, lone surrogates and NUL characters in a parsed JSON value
    (iteratively: the value may be as deep as the parser allowed)."""
    nul = False
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= MAX_JSON_DEPTH:
                raise HostileBody(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
            for key, item in value.items():
                nul = _check_text(key) or nul
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_JSON_DEPTH:
                raise HostileBody(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            nul = _check_text(value) or nul
    if nul:
        raise HostileBody("Text may not contain NUL (U+0000) characters.", status=422)


def _check_text(text: str) -> bool:
    """Raise for a lone surrogate; whether `text` holds a NUL character."""
    if not text.isascii() and _SURROGATE.search(text):
        raise HostileBody("The JSON body holds a lone surrogate (such as \\ud800), which is no character.")
    return "\x00" in text


def is_json_body(request: Any) -> bool:
    return request.is_json and bool(request.content_length or request.headers.get("Transfer-Encoding"))


def refuse_hostile_json_body() -> None:
    """A `before_request` hook: parse the JSON body once and refuse hostile shapes with the
    API's JSON error. Bodies that are not JSON at all are left to the route (400 from its
    parser, or its own reading such as the Stripe webhook's)."""
    from flask import request
    from flask_smorest import abort

    if not is_json_body(request):
        return
    try:
        load_json_body(request.get_data(cache=True))
    except HostileBody as error:
        errors = {"json": [error.message]}
        abort(error.status, message=error.message, errors=errors)
    except (ValueError, UnicodeDecodeError):
        return  # not JSON: the route's parser answers 400
