"""Base schemas for request input."""

from __future__ import annotations

from typing import Any

import marshmallow as ma


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


class InputSchema(ma.Schema):
    """Every request body and query schema derives from this: PostgreSQL text cannot hold
    NUL characters, so they are refused here with a 422 instead of failing in the database."""

    @ma.pre_load
    def _refuse_nul_characters(self, data: Any, **kwargs: Any) -> Any:
        if _contains_nul(data):
            raise ma.ValidationError("Text may not contain NUL (U+0000) characters.")
        return data

    @ma.pre_load
    def _refuse_numbers_and_strings_for_booleans(self, data: Any, **kwargs: Any) -> Any:
        """A JSON boolean is true or false: marshmallow would also take 0, 1, "yes" or "on",
        which the document (`type: boolean`) does not allow. Query strings (not dicts) keep
        marshmallow's reading of "true"/"false"."""
        if not isinstance(data, dict):
            return data
        errors = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if isinstance(field, ma.fields.Boolean) and key in data:
                value = data[key]
                if not isinstance(value, bool) and not (value is None and field.allow_none):
                    errors[key] = ["Not a valid boolean: send true or false."]
        if errors:
            raise ma.ValidationError(errors)
        return data
