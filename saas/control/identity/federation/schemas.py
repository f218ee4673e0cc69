"""Schemas of the identity administration API. Client secrets are accepted, never shown."""

from __future__ import annotations

import marshmallow as ma

from saas.control.identity.federation.services import KEY_PATTERN
from saas.control.identity.models import ProviderStatus
from saas.core.accounts.models import Role
from saas.core.api.schemas import InputSchema

# The metadata URL is the issuer plus /.well-known/openid-configuration (35 characters),
# stored in 500: the issuer may take the rest.
ISSUER_MAX = 460


def _openid_scope(value: str) -> None:
    if "openid" not in value.split():
        raise ma.ValidationError("The scopes must include openid.")


class ProviderCreateSchema(InputSchema):
    key = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(KEY_PATTERN, error="2-40 characters: a-z, 0-9 and '-', a letter first."),
        metadata={"description": "Names the IdP in its callback URL: /identity/callback/<key>"},
    )
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    issuer = ma.fields.Url(
        required=True,
        schemes={"https", "http"},
        require_tld=False,
        validate=ma.validate.Length(max=ISSUER_MAX),
        metadata={
            "description": "Its discovery document is read at <issuer>/.well-known/openid-configuration"
        },
    )
    client_id = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    client_secret = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(1, 500), metadata={"writeOnly": True}
    )
    scopes = ma.fields.String(
        load_default="openid email profile",
        validate=[ma.validate.Length(1, 200), _openid_scope],
        metadata={
            "description": "Space-separated OAuth scopes; they must include openid",
            "pattern": r"(^|\s)openid(\s|$)",
        },
    )
    role_claim = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 100))
    role_mapping = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(1, 100)),
        values=ma.fields.String(validate=ma.validate.OneOf([role.value for role in Role])),
        load_default=dict,
        validate=ma.validate.Length(max=50),
        metadata={"description": "Claim value -> role; roles of the IdP's own scope only"},
    )


class ProviderSchema(ma.Schema):
    key = ma.fields.String()
    display_name = ma.fields.String()
    tenant = ma.fields.String(allow_none=True, metadata={"description": "null: the national IdP"})
    issuer = ma.fields.String()
    metadata_url = ma.fields.String()
    client_id = ma.fields.String()
    scopes = ma.fields.String()
    role_claim = ma.fields.String(allow_none=True)
    role_mapping = ma.fields.Dict()
    status = ma.fields.Enum(ProviderStatus, by_value=True)
    is_development = ma.fields.Boolean()
    callback_url = ma.fields.String(metadata={"description": "Register this redirect URI at the IdP"})
    created_at = ma.fields.DateTime()
    approved_at = ma.fields.DateTime(allow_none=True)


class ProbeSchema(ma.Schema):
    """What the hub would use of the IdP's discovery document."""

    issuer = ma.fields.String()
    authorization_endpoint = ma.fields.String()
    token_endpoint = ma.fields.String()
    jwks_uri = ma.fields.String()
    end_session_endpoint = ma.fields.String(allow_none=True)
    iss_parameter = ma.fields.Boolean()
    backchannel_logout = ma.fields.Boolean()
