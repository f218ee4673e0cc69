from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema
from tenants.cycles.schemas import MAX_WON
from tenants.execution.models import STATUSES


class MilestoneSchema(InputSchema):
    id = ma.fields.Integer(dump_only=True)
    title_ko = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    title_en = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    due_on = ma.fields.Date(required=True)
    done_on = ma.fields.Date(allow_none=True)


class UpdateSchema(InputSchema):
    id = ma.fields.Integer(dump_only=True)
    posted_on = ma.fields.Date(required=True)
    body_ko = ma.fields.String(required=True, validate=ma.validate.Length(1, 10_000))
    body_en = ma.fields.String(required=True, validate=ma.validate.Length(1, 10_000))
    progress_pct = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, 100))
    spent = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, MAX_WON))
    status = ma.fields.String(load_only=True, validate=ma.validate.OneOf(STATUSES))
    posted_by = ma.fields.String(dump_only=True)


class ItemSchema(ma.Schema):
    id = ma.fields.Integer()
    project = ma.fields.Dict()
    status = ma.fields.String()
    progress_pct = ma.fields.Integer()
    budget = ma.fields.Integer()
    spent = ma.fields.Integer()
    updated_at = ma.fields.DateTime()
    milestones = ma.fields.List(ma.fields.Nested(MilestoneSchema))
    updates = ma.fields.List(ma.fields.Nested(UpdateSchema))
