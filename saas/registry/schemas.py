from __future__ import annotations

import marshmallow as ma

from saas.registry.models import TenantStatus


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
    domains = ma.fields.Method("_domains")
    branding = ma.fields.Dict()
    created_at = ma.fields.DateTime()

    def _domains(self, tenant) -> list[str]:  # noqa: ANN001
        return [d.domain for d in tenant.domains]


class TenantListQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(["provisioning", "active", "suspended", "failed"]))
