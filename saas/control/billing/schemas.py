"""Request and response schemas of the billing API."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from saas.core.api.schemas import InputSchema

WON: dict[str, Any] = {"validate": ma.validate.Range(min=0, max=10**15), "strict": True}
CODE: dict[str, Any] = {"validate": ma.validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$")}


class BillingPlanCreateSchema(InputSchema):
    code = ma.fields.String(required=True, **CODE)
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    amount = ma.fields.Integer(required=True, **WON)
    interval = ma.fields.String(required=True, validate=ma.validate.OneOf(["month", "year"]))
    is_default = ma.fields.Boolean(load_default=False)


class BillingPlanSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    amount = ma.fields.Integer()
    interval = ma.fields.String()
    currency = ma.fields.String()
    is_default = ma.fields.Boolean()
    stripe_price_id = ma.fields.String(allow_none=True)


class SubsidyTierSchema(InputSchema):
    tier = ma.fields.String(required=True, validate=ma.validate.Length(1, 32))
    rate_bp = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, 10000))
    min_pct = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, 100))
    max_pct = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 101))


class SubsidyEligibilitySchema(InputSchema):
    basic_local_gov_only = ma.fields.Boolean()
    max_fiscal_independence_pct = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 101))
    region_prefixes = ma.fields.List(ma.fields.String(validate=ma.validate.Regexp(r"^\d{2,5}$")))


class SubsidyProgramCreateSchema(InputSchema):
    code = ma.fields.String(required=True, **CODE)
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    fiscal_year = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(2000, 2100))
    budget = ma.fields.Integer(required=True, **WON)
    tiers = ma.fields.List(
        ma.fields.Nested(SubsidyTierSchema), required=True, validate=ma.validate.Length(1, 20)
    )
    eligibility = ma.fields.Nested(SubsidyEligibilitySchema, load_default=dict)


class SubsidyRateVersionSchema(InputSchema):
    effective_from = ma.fields.Date(required=True)
    tiers = ma.fields.List(
        ma.fields.Nested(SubsidyTierSchema), required=True, validate=ma.validate.Length(1, 20)
    )


class SubsidyTierAssignSchema(InputSchema):
    tenant = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[a-z][a-z0-9_]{1,38}$"))
    valid_from = ma.fields.Date(required=True)
    tier = ma.fields.String(validate=ma.validate.Length(1, 32))
    evidence = ma.fields.String(validate=ma.validate.Length(1, 2000))


class SubsidyAmountsSchema(ma.Schema):
    budget = ma.fields.Integer()
    available = ma.fields.Integer()
    reserved = ma.fields.Integer()
    applied = ma.fields.Integer()
    billed = ma.fields.Integer()
    settled = ma.fields.Integer()


class TenantSubsidySchema(SubsidyAmountsSchema):
    tenant_id = ma.fields.Integer()
    slug = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)


class SubsidyProgramSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    fiscal_year = ma.fields.Integer()
    eligibility = ma.fields.Dict()
    amounts = ma.fields.Nested(SubsidyAmountsSchema)
    tenants = ma.fields.List(ma.fields.Nested(TenantSubsidySchema))
    alerts = ma.fields.List(ma.fields.Dict())


class LedgerExportQuerySchema(InputSchema):
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))
    period_from = ma.fields.Date(metadata={"description": "First day, Korean calendar (Asia/Seoul)"})
    period_to = ma.fields.Date(metadata={"description": "Last day, Korean calendar (Asia/Seoul)"})


class LedgerVerifySchema(ma.Schema):
    program_id = ma.fields.Integer()
    entries = ma.fields.Integer()
    ok = ma.fields.Boolean()
    first_broken_id = ma.fields.Integer(allow_none=True)
    problem = ma.fields.String(allow_none=True)


class BillingInvoiceSchema(ma.Schema):
    stripe_invoice_id = ma.fields.String()
    number = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    period_start = ma.fields.Date(allow_none=True)
    period_end = ma.fields.Date(allow_none=True)
    gross = ma.fields.Integer()
    subsidy = ma.fields.Integer()
    net = ma.fields.Integer()


class StripeWebhookAnswerSchema(ma.Schema):
    received = ma.fields.String()
    duplicate = ma.fields.Boolean()


class BillingPlanQuerySchema(InputSchema):
    interval = ma.fields.String(validate=ma.validate.OneOf(["month", "year"]))


class SubsidyProgramQuerySchema(InputSchema):
    fiscal_year = ma.fields.Integer(validate=ma.validate.Range(2000, 2100))


class BillingInvoiceQuerySchema(InputSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(["draft", "open", "paid", "void", "uncollectible"]))


class StripeSignatureHeaderSchema(InputSchema):
    signature = ma.fields.String(
        data_key="Stripe-Signature", required=True, validate=ma.validate.Length(1, 2000)
    )
