from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema


class ResultSchema(ma.Schema):
    envelope_id = ma.fields.Integer()
    envelope_key = ma.fields.String(attribute="envelope.key")
    envelope_name_ko = ma.fields.String(attribute="envelope.name_ko")
    envelope_name_en = ma.fields.String(attribute="envelope.name_en")
    record = ma.fields.Dict(
        metadata={"description": "Rule, parameters, tie-break, input hash, outcome, reasons"}
    )
    input_hash = ma.fields.String()
    result_hash = ma.fields.String()
    counted_at = ma.fields.DateTime()
    published_at = ma.fields.DateTime(allow_none=True)


class VerificationSchema(ma.Schema):
    envelope = ma.fields.String()
    stored_result_hash = ma.fields.String()
    recounted_result_hash = ma.fields.String()
    input_unchanged = ma.fields.Boolean()
    match = ma.fields.Boolean()


class ExportQuerySchema(InputSchema):
    envelope = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))


class ImportSchema(InputSchema):
    name_ko = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    fiscal_year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1990, 2100))
    pabulib = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 20_000_000),
        metadata={"description": "The .pb file's text"},
    )


class ImportedSchema(ma.Schema):
    cycle_id = ma.fields.Integer()
