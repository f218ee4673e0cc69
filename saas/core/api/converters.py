"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.routing import BaseConverter, ValidationError

BIGINT_MAX = 2**63 - 1


class IdConverter(BaseConverter):
    """A row id (bigint, ≥ 1). Anything else is no match, so 404, never a database error."""

    regex = r"[1-9][0-9]{0,18}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > BIGINT_MAX:
            raise ValidationError()
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


OPENAPI_ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": BIGINT_MAX}
