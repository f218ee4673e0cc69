"""The ballot rules of a cycle: the type of ballot, its parameters, the counting rule and the
tie-breaks, as the PB domain validates them when an officer changes a cycle's rules, and as
every PB template states them (`provisioning.templates.format` builds on these types).

Everything a resident sees is a :class:`LocalizedText` (``{ko: ..., en: ...}``, both required
and non-empty). Unknown keys are refused (`Strict`), and each ballot type and counting rule
takes exactly the parameters it needs.
"""

from __future__ import annotations

import string
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

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


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as e:
        raise ValidationError(f"unbalanced braces in a {{placeholder}}: {e}") from e


class Strict(Schema):
    class Meta:
        # marshmallow 4 raises on unknown fields by default; stated here because a typo in a
        # key (of a template or of a cycle's rules) must fail loudly rather than silently fall
        # back to a default.
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


def localized_text(**kw: Any) -> fields.Nested:
    return fields.Nested(LocalizedText, required=True, **kw)


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
    instructions = localized_text()

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
