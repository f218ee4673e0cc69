"""The marshmallow schema every PB template file must satisfy.

Everything a resident sees is a :class:`LocalizedText` (``{ko: ..., en: ...}``, both required
and non-empty), so a template cannot ship a Korean-only or English-only text. Cross-field
rules (shares add up to 1, the ballot has the parameters its type needs, quotas fit in the
seats, placeholders agree between languages) are checked in ``validates_schema`` hooks and
reported against the field they concern.
"""

from __future__ import annotations

import string
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

LANGUAGES = ("ko", "en")
KEY = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be a lower-case key (a-z, 0-9, _)")
COLOUR = validate.Regexp(r"^#[0-9A-Fa-f]{6}$", error="must be a colour like #1F6FB2")
SCOPES = ("citywide", "district", "dong")
BALLOT_TYPES = ("approval", "knapsack", "cumulative", "ranked")
COUNTING_RULES = ("greedy", "greedy-threshold", "mes", "blended")
MES_COMPLETIONS = ("none", "add1", "add1u", "utilitarian")
TIE_BREAKS = (
    "votes_desc",
    "cost_asc",
    "cost_desc",
    "committee_score_desc",
    "submitted_at_asc",
    "lottery",
)
SEXES = ("male", "female")
REQUIRED_PAGES = ("how_it_works", "privacy")


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as e:
        raise ValidationError(f"unbalanced braces in a {{placeholder}}: {e}") from e


class Strict(Schema):
    class Meta:
        # marshmallow 4 raises on unknown fields by default; stated here because a typo in a
        # template key must fail loudly rather than silently fall back to a default.
        unknown = "raise"


class LocalizedText(Strict):
    """A resident-visible text in Korean and English."""

    ko = fields.String(required=True, validate=validate.Length(min=1))
    en = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _same_placeholders(self, data: dict[str, str], **_: Any) -> None:
        ko, en = _placeholders(data["ko"]), _placeholders(data["en"])
        if ko != en:
            raise ValidationError(
                f"placeholders differ between languages: ko {sorted(ko)}, en {sorted(en)}", "en"
            )


def _text(**kw: Any) -> fields.Nested:
    return fields.Nested(LocalizedText, required=True, **kw)


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


class Counting(Strict):
    rule = fields.String(required=True, validate=validate.OneOf(COUNTING_RULES))
    threshold = fields.Float(validate=validate.Range(min=0, max=1))
    completion = fields.String(validate=validate.OneOf(MES_COMPLETIONS))
    fill = fields.Boolean()
    vote_weight = fields.Float(validate=validate.Range(min=0, max=1))
    committee_weight = fields.Float(validate=validate.Range(min=0, max=1))

    @validates_schema
    def _rule_parameters(self, data: dict[str, Any], **_: Any) -> None:
        rule = data["rule"]
        needs = {
            "greedy": set(),
            "greedy-threshold": {"threshold"},
            "mes": {"completion"},
            "blended": {"vote_weight", "committee_weight"},
        }[rule]
        allowed = needs | ({"fill"} if rule == "mes" else set())
        errors: dict[str, str] = {}
        for f in sorted(needs - data.keys()):
            errors[f] = f"required by counting rule {rule!r}"
        for f in sorted(data.keys() - allowed - {"rule"}):
            errors[f] = f"not a parameter of counting rule {rule!r}"
        if rule == "blended" and not errors:
            if abs(data["vote_weight"] + data["committee_weight"] - 1) > 1e-9:
                errors["committee_weight"] = "vote_weight + committee_weight must be 1"
        if errors:
            raise ValidationError(errors)


class Ballot(Strict):
    type = fields.String(required=True, validate=validate.OneOf(BALLOT_TYPES))
    k = fields.Integer(strict=True, validate=validate.Range(min=1))
    min_k = fields.Integer(strict=True, validate=validate.Range(min=1))
    points = fields.Integer(strict=True, validate=validate.Range(min=1))
    max_points_per_project = fields.Integer(strict=True, validate=validate.Range(min=1))
    min_spend_share = fields.Float(validate=validate.Range(min=0, max=1))
    max_rank = fields.Integer(strict=True, validate=validate.Range(min=1))
    counting = fields.Nested(Counting, required=True)
    tie_break = fields.List(
        fields.String(validate=validate.OneOf(TIE_BREAKS)),
        required=True,
        validate=validate.Length(min=1),
    )
    instructions = _text()

    @validates_schema
    def _type_parameters(self, data: dict[str, Any], **_: Any) -> None:
        kind = data["type"]
        needs, optional = {
            "approval": ({"k"}, {"min_k"}),
            "knapsack": (set(), {"min_spend_share"}),
            "cumulative": ({"points"}, {"max_points_per_project"}),
            "ranked": ({"max_rank"}, set()),
        }[kind]
        params = {"k", "min_k", "points", "max_points_per_project", "min_spend_share", "max_rank"}
        errors: dict[str, str] = {}
        for f in sorted(needs - data.keys()):
            errors[f] = f"required by ballot type {kind!r}"
        for f in sorted((data.keys() & params) - needs - optional):
            errors[f] = f"not a parameter of ballot type {kind!r}"
        if "min_k" in data and "k" in data and data["min_k"] > data["k"]:
            errors["min_k"] = "must not exceed k"
        if "max_points_per_project" in data and "points" in data:
            if data["max_points_per_project"] > data["points"]:
                errors["max_points_per_project"] = "must not exceed points"
        if len(set(data["tie_break"])) != len(data["tie_break"]):
            errors["tie_break"] = "lists a tie-break twice"
        elif data["tie_break"][-1] != "lottery":
            errors["tie_break"] = "must end with 'lottery' so that every tie is broken"
        if errors:
            raise ValidationError(errors)


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
