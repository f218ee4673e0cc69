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


HEX = r"^#[0-9a-fA-F]{6}$"


class LogoTextSchema(InputSchema):
    ko = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=60))
    en = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=60))


class BrandingSchema(InputSchema):
    """A portal's look. Colours are checked for WCAG AA contrast (4.5:1) before saving."""

    primary_color = ma.fields.String(required=True, validate=ma.validate.Regexp(HEX))
    accent_color = ma.fields.String(required=True, validate=ma.validate.Regexp(HEX))
    logo_text = ma.fields.Nested(LogoTextSchema, required=True)
    # The platform serves every asset itself: a logo is a path on this portal (or data: URI).
    logo_url = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=ma.validate.Regexp(r"^(/[A-Za-z0-9._~/-]{1,500}|data:image/(png|svg\+xml|jpeg);base64,[A-Za-z0-9+/=]{1,200000})$"),
    )
    default_language = ma.fields.String(load_default="ko", validate=ma.validate.OneOf(["ko", "en"]))
