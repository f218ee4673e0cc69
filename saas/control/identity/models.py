"""The identity federation's control-plane tables.

Upstream identity providers (the national IdP, each municipality's own), the identities they
vouch for, sign-in flows in progress, the hub's sessions and the portals that took part in
them, the hub's signing keys and the codes and tokens it issues to portals, and the portals'
own sessions.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from saas.core.db import ControlBase, stamped


class ProviderStatus(enum.StrEnum):
    PENDING = "pending"  # registered by a tenant admin, waiting for the ministry
    APPROVED = "approved"
    DISABLED = "disabled"


class IdentityProvider(ControlBase):
    """An upstream OpenID provider. `tenant_id` NULL: the national IdP, configured by the
    ministry; otherwise a municipality's own directory, whose claims grant roles in that
    tenant only."""

    __tablename__ = "identity_providers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # in the callback URL
    display_name: Mapped[str] = mapped_column(String(200))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # One issuer, one registration: (issuer, subject) must name one person in one scope.
    issuer: Mapped[str] = mapped_column(String(500), unique=True)
    metadata_url: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(200), default="openid email profile")
    role_claim: Mapped[str | None] = mapped_column(String(100))
    role_mapping: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)  # claim value -> role
    status: Mapped[ProviderStatus] = mapped_column(
        Enum(ProviderStatus, name="identity_provider_status", values_callable=lambda e: [m.value for m in e])
    )
    is_development: Mapped[bool] = mapped_column(Boolean, default=False)
    discovery: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # cached metadata document
    created_at: Mapped[datetime] = stamped()
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExternalIdentity(ControlBase):
    """A person as one upstream IdP knows them. Never matched by e-mail."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    acr: Mapped[str | None] = mapped_column(String(200))  # assurance of the last sign-in
    created_at: Mapped[datetime] = stamped()
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInFlow(ControlBase):
    """One authorization request in flight (hub → upstream, or portal → hub), single use.

    `browser_hash` binds it to the browser that started it, so a state value carried to
    another browser (or made up) signs no one in."""

    __tablename__ = "sign_in_flows"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # upstream | portal
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    return_to: Mapped[str] = mapped_column(Text)
    # Set when a signed-in person adds an identity: the new one joins this account.
    link_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = stamped()
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HubSession(ControlBase):
    """A person signed in at the hub: one per browser, shared by every portal (SSO)."""

    __tablename__ = "hub_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)  # the `sid` claim portals see
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # of the browser cookie
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    upstream_sid: Mapped[str | None] = mapped_column(String(255), index=True)
    upstream_id_token: Mapped[str | None] = mapped_column(Text)  # hint for upstream logout
    acr: Mapped[str | None] = mapped_column(String(200))
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = stamped()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HubSessionPortal(ControlBase):
    """A portal that received a sign-in from a hub session: it gets a back-channel logout."""

    __tablename__ = "hub_session_portals"

    hub_session_id: Mapped[int] = mapped_column(
        ForeignKey("hub_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)


class HubSigningKey(ControlBase):
    """A key the hub signs ID and logout tokens with; the newest unretired one signs, and
    retired ones stay in the JWKS for a grace period so tokens already issued still verify."""

    __tablename__ = "hub_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_jwk_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = stamped()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HubAuthorizationCode(ControlBase):
    """A code the hub issued to a portal; deleted when redeemed, so a replay finds nothing."""

    __tablename__ = "hub_authorization_codes"

    code: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    hub_session_id: Mapped[int] = mapped_column(ForeignKey("hub_sessions.id", ondelete="CASCADE"))
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = stamped()


class HubAccessToken(ControlBase):
    """An access token for the hub's userinfo endpoint (stored as its SHA-256)."""

    __tablename__ = "hub_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    hub_session_id: Mapped[int] = mapped_column(ForeignKey("hub_sessions.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(200))
    expires_in: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = stamped()


class PortalSession(ControlBase):
    """A person signed in at one portal, from a hub ID token; ended by the portal's logout or
    by the hub's back-channel logout for `hub_sid`."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    hub_sid: Mapped[str] = mapped_column(String(64), index=True)
    id_token: Mapped[str] = mapped_column(Text)  # hint for RP-initiated logout
    acr: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = stamped()
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsumedLogoutToken(ControlBase):
    """The `jti` of every back-channel logout token accepted, so none is accepted twice."""

    __tablename__ = "consumed_logout_tokens"

    issuer: Mapped[str] = mapped_column(String(500), primary_key=True)
    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
