"""The format of a PB template file: the marshmallow schema every template must satisfy.

Everything a resident sees is a :class:`LocalizedText` (``{ko: ..., en: ...}``, both required
and non-empty), so a template cannot ship a Korean-only or English-only text. Cross-field
rules (shares add up to 1, the ballot has the parameters its type needs, quotas fit in the
seats, placeholders agree between languages) are checked in ``validates_schema`` hooks and
reported against the field they concern.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

# The ballot rules belong to the PB domain (a cycle's rules are validated there too); a
# template states them in the same types.
from tenants.voting.ballot_rules import Ballot, Strict
from tenants.voting.ballot_rules import localized_text as _text

LANGUAGES = ("ko", "en")
KEY = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be a lower-case key (a-z, 0-9, _)")
COLOUR = validate.Regexp(r"^#[0-9A-Fa-f]{6}$", error="must be a colour like #1F6FB2")
SCOPES = ("citywide", "district", "dong")
SEXES = ("male", "female")
REQUIRED_PAGES = ("how_it_works", "privacy")


class Phase(Strict):
    key = fields.String(required=True, validate=KEY)
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=730))
    name = _text()
    description = _text()


class Envelope(Strict):
    key = fields.String(required=True, validate=KEY)
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    share = fields.Float(required=True, validate=validate.Range(min=0, max=1, min_inclusive=False))
    name = _text()


class Eligibility(Strict):
    residents = fields.Boolean(required=True)
    workers = fields.Boolean(required=True)
    students = fields.Boolean(required=True)
    min_age = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=120))
    max_age = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=120)
    )
    # `online_requires_national_idp`: online votes only from people signed in through the
    # national IdP. `online_acr`: the assurance levels (`acr`), one of which the sign-in of an
    # online vote must carry; without it, a cycle requiring the national IdP asks for its
    # verified level (tenants.voting.rules.online_acr_values). Checked on every online vote.
    online_requires_national_idp = fields.Boolean(required=True)
    online_acr = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(min=1)
    )
    summary = _text()

    @validates_schema
    def _ages(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("max_age") is not None and data["max_age"] < data["min_age"]:
            raise ValidationError("must not be below min_age", "max_age")
        if not (data["residents"] or data["workers"] or data["students"]):
            raise ValidationError("at least one of residents, workers, students", "residents")


class Channels(Strict):
    online = fields.Float(required=True, validate=validate.Range(min=0))
    onsite = fields.Float(required=True, validate=validate.Range(min=0))
    paper = fields.Float(required=True, validate=validate.Range(min=0))

    @validates_schema
    def _some_channel(self, data: dict[str, float], **_: Any) -> None:
        if not any(data.values()):
            raise ValidationError("at least one channel must have a weight above 0", "online")


class Category(Strict):
    key = fields.String(required=True, validate=KEY)
    name = _text()


class Role(Strict):
    key = fields.String(required=True, validate=KEY)
    name = _text()
    seats = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class AgeBandQuota(Strict):
    min_age = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    max_age = fields.Integer(load_default=None, allow_none=True, strict=True)
    min_seats = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))

    @validates_schema
    def _band(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("max_age") is not None and data["max_age"] < data["min_age"]:
            raise ValidationError("must not be below min_age", "max_age")


class ReservedSeats(Role):
    """Seats set aside for a group (same fields as a role: key, name, seats)."""


class Quotas(Strict):
    min_per_sex = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    age_bands = fields.List(fields.Nested(AgeBandQuota), required=True)
    reserved = fields.List(fields.Nested(ReservedSeats), load_default=list)


class Committee(Strict):
    key = fields.String(required=True, validate=KEY)
    level = fields.String(required=True, validate=validate.OneOf(("city", "dong")))
    name = _text()
    seats = fields.Integer(required=True, strict=True, validate=validate.Range(min=3, max=200))
    term_months = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    selection = fields.String(
        required=True, validate=validate.OneOf(("lottery", "appointed", "lottery_and_appointed"))
    )
    roles = fields.List(fields.Nested(Role), required=True, validate=validate.Length(min=1))
    quotas = fields.Nested(Quotas, required=True)

    @validates_schema
    def _seats_fit(self, data: dict[str, Any], **_: Any) -> None:
        seats = data["seats"]
        q = data["quotas"]
        errors: dict[str, str] = {}
        if sum(r["seats"] for r in data["roles"]) > seats:
            errors["roles"] = f"role seats add up to more than the {seats} seats"
        if 2 * q["min_per_sex"] > seats:
            errors["quotas"] = f"min_per_sex for both sexes exceeds the {seats} seats"
        elif sum(b["min_seats"] for b in q["age_bands"]) > seats:
            errors["quotas"] = f"age-band minimums add up to more than the {seats} seats"
        elif sum(r["seats"] for r in q["reserved"]) > seats:
            errors["quotas"] = f"reserved seats add up to more than the {seats} seats"
        if errors:
            raise ValidationError(errors)


class Page(Strict):
    key = fields.String(required=True, validate=KEY)
    title = _text()
    body = _text()


class Notification(Strict):
    subject = _text()
    body = _text()


class Branding(Strict):
    primary_color = fields.String(required=True, validate=COLOUR)
    accent_color = fields.String(required=True, validate=COLOUR)
    logo_text = _text()


def _unique_keys(items: list[dict[str, Any]], what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["key"] in seen:
            raise ValidationError({i: {"key": [f"duplicate {what} key {item['key']!r}"]}})
        seen.add(item["key"])


class TemplateSchema(Strict):
    """One PB template (one version of it)."""

    name = fields.String(required=True, validate=KEY)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    title = _text()
    description = _text()
    languages = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)), required=True)
    default_language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    phases = fields.List(fields.Nested(Phase), required=True, validate=validate.Length(min=2))
    envelopes = fields.List(fields.Nested(Envelope), required=True, validate=validate.Length(min=1))
    ballot = fields.Nested(Ballot, required=True)
    eligibility = fields.Nested(Eligibility, required=True)
    channels = fields.Nested(Channels, required=True)
    categories = fields.List(
        fields.Nested(Category), required=True, validate=validate.Length(min=1)
    )
    committees = fields.List(
        fields.Nested(Committee), required=True, validate=validate.Length(min=1)
    )
    pages = fields.List(fields.Nested(Page), required=True)
    notifications = fields.Dict(
        keys=fields.String(validate=KEY), values=fields.Nested(Notification), required=True
    )
    branding = fields.Nested(Branding, required=True)

    @validates_schema
    def _whole_template(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, Any] = {}
        if sorted(data["languages"]) != sorted(LANGUAGES) or len(data["languages"]) != 2:
            errors["languages"] = [f"must list exactly {', '.join(LANGUAGES)}"]
        for field, what in [
            ("phases", "phase"),
            ("envelopes", "envelope"),
            ("categories", "category"),
            ("committees", "committee"),
            ("pages", "page"),
        ]:
            try:
                _unique_keys(data[field], what)
            except ValidationError as e:
                errors[field] = e.messages
        if "voting" not in {p["key"] for p in data["phases"]}:
            errors.setdefault("phases", ["must include a phase with key 'voting'"])
        total = sum(e["share"] for e in data["envelopes"])
        if abs(total - 1) > 1e-9:
            errors.setdefault("envelopes", [f"shares add up to {total:g}, not 1"])
        missing = [p for p in REQUIRED_PAGES if p not in {p["key"] for p in data["pages"]}]
        if missing:
            errors.setdefault("pages", [f"missing required page(s): {', '.join(missing)}"])
        dong_scope = any(e["scope"] == "dong" for e in data["envelopes"])
        dong_committee = any(c["level"] == "dong" for c in data["committees"])
        if dong_scope and not dong_committee:
            errors.setdefault("committees", ["dong envelopes need a dong-level committee"])
        if errors:
            raise ValidationError(errors)


def field_path(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten marshmallow's nested error messages into ``(dotted.path, message)`` pairs."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "" if key == "_schema" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.extend(field_path(value, path))
    elif isinstance(messages, list):
        for m in messages:
            out.extend(field_path(m, prefix))
    else:
        out.append((prefix or "(template)", str(messages)))
    return out
