"""Bodies of the tenants API (`provisioning.api`)."""

from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema
from saas.core.registry.models import TenantStatus
from saas.core.tenancy.slugs import SLUG_PATTERN

_STATUSES = [status.value for status in TenantStatus]


class TenantSchema(ma.Schema):
    slug = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    region_code = ma.fields.String()
    status = ma.fields.Enum(TenantStatus, by_value=True)
    template_name = ma.fields.String()
    template_version = ma.fields.Integer()
    schema_revision = ma.fields.String(allow_none=True)
    current_step = ma.fields.String(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    job_id = ma.fields.String(allow_none=True)
    domains = ma.fields.Method("_domains")
    branding = ma.fields.Dict()
    created_at = ma.fields.DateTime()

    def _domains(self, tenant) -> list[str]:
        return [d.domain for d in tenant.domains]


class TenantListQuerySchema(InputSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(_STATUSES))


class StepSchema(ma.Schema):
    step = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending | running | done | failed"})
    attempts = ma.fields.Integer()
    duration_ms = ma.fields.Float(allow_none=True)
    error = ma.fields.String(allow_none=True)


class JobRefSchema(ma.Schema):
    id = ma.fields.String()
    url = ma.fields.String(metadata={"description": "Poll this for the job's state"})


class TenantDetailSchema(ma.Schema):
    """A tenant with its provisioning steps, URLs and (while provisioning) the job to poll."""

    tenant = ma.fields.Nested(TenantSchema)
    steps = ma.fields.List(ma.fields.Nested(StepSchema))
    urls = ma.fields.List(ma.fields.String())
    job = ma.fields.Nested(JobRefSchema, allow_none=True)


class TenantCreateSchema(ma.Schema):
    slug = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            f"^{SLUG_PATTERN}$", error="2-39 characters: a-z first, then a-z, 0-9, _"
        ),
    )
    region = ma.fields.String(
        required=True, metadata={"description": "5-digit 시군구 code (11680) or 10-digit code (1168000000)"}
    )
    template = ma.fields.String(required=True)
    name = ma.fields.String(validate=ma.validate.Length(1, 200))
    domains = ma.fields.List(ma.fields.String(), load_default=list)
    admin_email = ma.fields.Email()


class TenantDomainsSchema(InputSchema):
    domains = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(1, 253)),
        required=True,
        validate=ma.validate.Length(max=20),
        metadata={"description": "Every custom domain of the portal (replaces the list); [] for none"},
    )


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(validate=ma.validate.Length(max=500))


class DeleteSchema(ma.Schema):
    confirm = ma.fields.String(required=True, metadata={"description": "The tenant's slug, typed again"})


class VersionQuerySchema(ma.Schema):
    version = ma.fields.Integer(validate=ma.validate.Range(min=1))


class ImportFileSchema(ma.Schema):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class TemplateSummarySchema(ma.Schema):
    name = ma.fields.String()
    latest_version = ma.fields.Integer()
    versions = ma.fields.List(ma.fields.Integer())
    title = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


class TemplateSchema(ma.Schema):
    name = ma.fields.String()
    version = ma.fields.Integer()
    checksum = ma.fields.String()
    data = ma.fields.Dict()


class TemplateChangeSchema(ma.Schema):
    path = ma.fields.String()
    op = ma.fields.String(metadata={"description": "added | removed | changed"})
    old = ma.fields.Raw()
    new = ma.fields.Raw()


class TemplateDiffSchema(ma.Schema):
    slug = ma.fields.String()
    template = ma.fields.String()
    from_version = ma.fields.Integer()
    to_version = ma.fields.Integer()
    changes = ma.fields.List(ma.fields.Nested(TemplateChangeSchema))


class TemplateUpgradeSchema(ma.Schema):
    slug = ma.fields.String()
    template = ma.fields.String()
    from_version = ma.fields.Integer()
    to_version = ma.fields.Integer()
    added = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class JobSchema(ma.Schema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"description": "queued | started | finished | failed | ..."})
    slug = ma.fields.String(allow_none=True)
    enqueued_at = ma.fields.DateTime(allow_none=True)
    started_at = ma.fields.DateTime(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    result = ma.fields.Dict(allow_none=True)
    tenant = ma.fields.Nested(TenantSchema, allow_none=True)


class RegionQuerySchema(InputSchema):
    q = ma.fields.String(
        validate=ma.validate.Length(1, 50),
        metadata={"description": "Part of the Korean or English name (강남, gangnam), or a code prefix"},
    )
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 1000))


class RegionSchema(ma.Schema):
    code = ma.fields.String(attribute="sgg_code", metadata={"description": "5-digit 시군구 code"})
    code10 = ma.fields.String(attribute="adm_code10", metadata={"description": "10-digit 행정기관코드"})
    name_ko = ma.fields.String()
    full_name_ko = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    sido_name_ko = ma.fields.String()
    unit_type = ma.fields.String()
    population = ma.fields.Integer(allow_none=True)
    portal = ma.fields.String(
        allow_none=True, metadata={"description": "The slug of the municipality's portal, if it has one"}
    )


class RegionPageSchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "How many municipalities match"})
    limit = ma.fields.Integer()
    offset = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(RegionSchema))


class IssuedInvitationSchema(ma.Schema):
    email = ma.fields.String()
    role = ma.fields.String()
    code = ma.fields.String(metadata={"description": "The one-time code, shown only in this answer"})
    expires_at = ma.fields.DateTime()
    view_url = ma.fields.String(metadata={"description": "GET: what the invitation offers"})
    accept_url = ma.fields.String(metadata={"description": "POST, signed in as the invited person"})
