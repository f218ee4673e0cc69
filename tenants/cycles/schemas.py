from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema

MAX_WON = 10**13  # ten trillion won: above any municipal budget


class PhaseSchema(ma.Schema):
    key = ma.fields.String()
    position = ma.fields.Integer()
    name_ko = ma.fields.String()
    name_en = ma.fields.String()
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()
    opened_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)


class EnvelopeSchema(ma.Schema):
    id = ma.fields.Integer()
    key = ma.fields.String()
    scope = ma.fields.String()
    area_code = ma.fields.String(allow_none=True)
    name_ko = ma.fields.String()
    name_en = ma.fields.String()
    budget = ma.fields.Integer()


class CycleSchema(ma.Schema):
    id = ma.fields.Integer()
    name_ko = ma.fields.String()
    name_en = ma.fields.String()
    fiscal_year = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "draft, the open phase's key, or closed"})
    is_frozen = ma.fields.Boolean()
    voting_opened_at = ma.fields.DateTime(allow_none=True)
    ballot = ma.fields.Dict()
    eligibility = ma.fields.Dict()
    channels = ma.fields.Dict()
    phases = ma.fields.List(ma.fields.Nested(PhaseSchema))
    envelopes = ma.fields.List(ma.fields.Nested(EnvelopeSchema))


class CycleCreateSchema(InputSchema):
    name_ko = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    fiscal_year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(2000, 2100))
    starts_on = ma.fields.Date(required=True)
    total_budget = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, MAX_WON))


class PhaseChangeSchema(InputSchema):
    to = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 64),
        metadata={"description": "The phase to open: the next one, or 'closed'"},
    )


class EnvelopeUpdateSchema(InputSchema):
    budget = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, MAX_WON))
    name_ko = ma.fields.String(validate=ma.validate.Length(1, 200))
    name_en = ma.fields.String(validate=ma.validate.Length(1, 200))


class BallotRulesSchema(InputSchema):
    ballot = ma.fields.Dict(required=True, metadata={"description": "As the templates' `ballot`"})
