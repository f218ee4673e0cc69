from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema
from tenants.cycles.schemas import MAX_WON
from tenants.proposals.models import CHANNELS

_TEXT = ma.validate.Length(1, 200)
_KEY = ma.validate.Regexp(r"^[a-z][a-z0-9_-]{0,63}$", error="a lowercase key")
_DONG = ma.validate.Regexp(r"^[0-9]{10}$", error="a 10-digit administrative code")


class ProposalSchema(ma.Schema):
    id = ma.fields.Integer()
    cycle_id = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    category_key = ma.fields.String()
    district_code = ma.fields.String(allow_none=True)
    location_text = ma.fields.String(allow_none=True)
    estimated_cost = ma.fields.Integer(allow_none=True)
    channel = ma.fields.String()
    status = ma.fields.String()
    supports = ma.fields.Integer()
    hidden_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class ProposalInputSchema(InputSchema):
    title = ma.fields.String(required=True, validate=_TEXT)
    description = ma.fields.String(required=True, validate=ma.validate.Length(1, 20_000))
    category_key = ma.fields.String(required=True, validate=_KEY)
    district_code = ma.fields.String(validate=_DONG)
    location_text = ma.fields.String(validate=ma.validate.Length(1, 300))
    estimated_cost = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, MAX_WON))
    channel = ma.fields.String(
        load_default="online",
        validate=ma.validate.OneOf(CHANNELS),
        metadata={"description": "online, or paper/counter/meeting entered by staff"},
    )
    proposer_name = ma.fields.String(
        validate=_TEXT, metadata={"description": "For offline channels: the resident proposing"}
    )


class CommentSchema(ma.Schema):
    id = ma.fields.Integer()
    author = ma.fields.String()
    body = ma.fields.String()
    hidden_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class CommentInputSchema(InputSchema):
    body = ma.fields.String(required=True, validate=ma.validate.Length(1, 5_000))


class ModerationSchema(InputSchema):
    hidden_reason = ma.fields.String(
        required=True,
        allow_none=True,
        validate=ma.validate.Length(1, 500),
        metadata={"description": "Why it is hidden; null shows it again"},
    )
    comment_id = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 2**63 - 1))


class ReviewSchema(InputSchema):
    legal_ok = ma.fields.Boolean(required=True)
    cost_estimate = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, MAX_WON))
    feasible = ma.fields.Boolean(required=True)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(1, 5_000))
    reviewer = ma.fields.String(dump_only=True)
    reviewed_at = ma.fields.DateTime(dump_only=True)


class ProjectSchema(ma.Schema):
    id = ma.fields.Integer()
    envelope_id = ma.fields.Integer()
    proposal_id = ma.fields.Integer(allow_none=True)
    code = ma.fields.String()
    title_ko = ma.fields.String()
    title_en = ma.fields.String()
    category_key = ma.fields.String()
    cost = ma.fields.Integer()


class ProjectInputSchema(InputSchema):
    envelope = ma.fields.String(
        required=True, validate=ma.validate.Length(1, 64), metadata={"description": "The envelope's key"}
    )
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]{1,32}$"))
    proposal_id = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 2**63 - 1))
    title_ko = ma.fields.String(validate=_TEXT)
    title_en = ma.fields.String(validate=_TEXT)
    category_key = ma.fields.String(validate=_KEY)
    cost = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, MAX_WON))
