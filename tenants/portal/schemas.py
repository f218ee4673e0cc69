from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema


class PortalSchema(ma.Schema):
    slug = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    template = ma.fields.String()
    template_version = ma.fields.Integer()
    branding = ma.fields.Dict()
    languages = ma.fields.List(ma.fields.String())


class DistrictSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name_ko = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    kind = ma.fields.String()


class CategorySchema(ma.Schema):
    key = ma.fields.String()
    name_ko = ma.fields.String()
    name_en = ma.fields.String()
    position = ma.fields.Integer()


class PageSchema(InputSchema):
    key = ma.fields.String(dump_only=True)
    title_ko = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    title_en = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    body_ko = ma.fields.String(required=True, validate=ma.validate.Length(max=100_000))
    body_en = ma.fields.String(required=True, validate=ma.validate.Length(max=100_000))
    updated_at = ma.fields.DateTime(dump_only=True)
