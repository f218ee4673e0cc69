from __future__ import annotations

import marshmallow as ma

from saas.core.api.schemas import InputSchema

STAFF_ROLES = ("tenant_admin", "staff", "officer", "committee_member")


class MemberSchema(InputSchema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.Email(required=True)
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(STAFF_ROLES))
    invited_at = ma.fields.DateTime(dump_only=True)
    accepted_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class InvitationSchema(MemberSchema):
    invitation_code = ma.fields.String(dump_only=True)


class InvitationViewSchema(ma.Schema):
    email = ma.fields.String(metadata={"description": "The invited e-mail: accept signed in with it"})
    role = ma.fields.String()
    display_name = ma.fields.String()
    invited_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    accepted_at = ma.fields.DateTime(allow_none=True)
    status = ma.fields.String(metadata={"description": "pending | accepted | expired"})
    sign_in_url = ma.fields.String(metadata={"description": "Where the invited person signs in first"})
