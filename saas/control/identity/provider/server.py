"""The hub as an OpenID provider for the portals (Authlib's authorization server).

Authorization code with PKCE (S256, required of every client, confidential or not) is the
only grant; ID tokens carry the portal's tenant and the hub session id (`sid`) that
back-channel logout refers to. Codes are single use: redeeming one deletes it first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import current_app
from sqlalchemy import delete, select

from saas.control.identity.models import HubAccessToken, HubAuthorizationCode, HubSession
from saas.control.identity.provider.clients import CLIENT_PREFIX, PortalClient, portal_client
from saas.control.identity.provider.keys import SIGNING_ALG, signing_key
from saas.control.identity.sealing import SecretBox
from saas.control.identity.sessions import remember_portal
from saas.core import clock
from saas.core.settings import current_settings
from saas.core.tenancy.context import db_session

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_SECONDS = 300


@dataclass(frozen=True)
class HubUser:
    """The person behind a hub session, as Authlib's `grant_user`."""

    hub_session_id: int
    account_id: int
    sid: str
    acr: str | None
    auth_time: int

    @classmethod
    def of(cls, hub: HubSession) -> HubUser:
        return cls(hub.id, hub.account_id, hub.sid, hub.acr, hub.auth_time)

    def get_user_id(self) -> int:
        return self.account_id


class SignedInPerson(Protocol):
    """What an ID token says of the person a code was issued to."""

    @property
    def auth_time(self) -> int: ...

    @property
    def acr(self) -> str | None: ...


UserT = TypeVar("UserT", bound=SignedInPerson)


@dataclass(frozen=True)
class IssuedCode(Generic[UserT]):
    """A redeemed code, as Authlib's AuthorizationCodeMixin."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    user: UserT  # HubUser here; the development IdP's people there (auth_time and acr both)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.user.auth_time

    def get_acr(self) -> str | None:
        return self.user.acr

    def get_amr(self) -> None:
        return None


class PortalCodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        session = db_session()
        user: HubUser = request.user
        client: PortalClient = request.client
        data = request.payload.data
        session.add(
            HubAuthorizationCode(
                code=code,
                client_id=client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope or "openid",
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data.get("code_challenge_method", "S256"),
                hub_session_id=user.hub_session_id,
                auth_time=user.auth_time,
            )
        )
        # This portal now has a session from this hub session: it is owed a back-channel logout.
        remember_portal(session, user.hub_session_id, client.tenant_id)
        session.commit()

    def query_authorization_code(self, code: object, client: PortalClient) -> IssuedCode[HubUser] | None:
        """Deletes the code as it reads it, so a replay (even a concurrent one) finds nothing."""
        if not isinstance(code, str) or len(code) > 128:
            return None
        session = db_session()
        row = session.execute(
            delete(HubAuthorizationCode)
            .where(HubAuthorizationCode.code == code)
            .returning(HubAuthorizationCode)
        ).scalar_one_or_none()
        session.commit()
        if row is None or row.client_id != client.client_id:
            return None
        if clock.now() - row.created_at > CODE_LIFETIME:
            return None
        hub = session.scalar(
            select(HubSession).where(HubSession.id == row.hub_session_id, HubSession.ended_at.is_(None))
        )
        if hub is None:
            return None  # the person signed out since: the code is dead
        return IssuedCode(
            row.code,
            row.client_id,
            row.redirect_uri,
            row.scope,
            row.nonce,
            row.code_challenge,
            row.code_challenge_method,
            HubUser.of(hub),
        )

    def delete_authorization_code(self, authorization_code: IssuedCode[HubUser]) -> None:
        pass  # already deleted when it was read

    def authenticate_user(self, authorization_code: IssuedCode[HubUser]) -> HubUser:
        return authorization_code.user


class RequiredPkce(CodeChallenge):
    """PKCE with S256 for every portal: Authlib requires it of public clients only."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge (S256).", redirect_uri=redirect_uri
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is accepted.", redirect_uri=redirect_uri
            )
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: IssuedCode[Any]) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: IssuedCode[Any]) -> str:
        return authorization_code.code_challenge_method


class PortalOpenIDCode(OpenIDCode):
    def __init__(self) -> None:
        super().__init__(require_nonce=True)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return (
            db_session().scalar(
                select(HubAuthorizationCode.code).where(
                    HubAuthorizationCode.client_id == request.payload.client_id,
                    HubAuthorizationCode.nonce == nonce,
                )
            )
            is not None
        )

    def _key(self) -> Any:
        return signing_key(db_session(), SecretBox(current_settings()))

    def resolve_client_private_key(self, client: PortalClient) -> Any:
        return self._key()

    def get_client_algorithm(self, client: PortalClient) -> str:
        return SIGNING_ALG

    def get_encode_header(self, client: PortalClient) -> dict[str, str]:
        return {"alg": SIGNING_ALG, "kid": self._key().kid, "typ": "JWT"}

    def get_client_claims(self, client: PortalClient) -> dict[str, Any]:
        return {"iss": current_settings().hub_url, "aud": [client.client_id]}

    def get_authorization_code_claims(self, authorization_code: IssuedCode[HubUser]) -> dict[str, Any]:
        claims = super().get_authorization_code_claims(authorization_code)
        claims["sid"] = authorization_code.user.sid
        claims["tenant"] = authorization_code.client_id[len(CLIENT_PREFIX) :]
        return claims

    def generate_user_info(self, user: HubUser, scope: str) -> UserInfo:
        return UserInfo(sub=str(user.account_id))


def _query_client(client_id: str) -> PortalClient | None:
    return portal_client(db_session(), current_settings(), client_id)


def _save_token(token: dict[str, Any], request: Any) -> None:
    session = db_session()
    session.add(
        HubAccessToken(
            token_hash=hashlib.sha256(token["access_token"].encode()).hexdigest(),
            client_id=request.client.client_id,
            hub_session_id=request.user.hub_session_id,
            scope=token.get("scope", ""),
            expires_in=int(token.get("expires_in", ACCESS_TOKEN_SECONDS)),
        )
    )
    session.commit()


SERVER_EXTENSION = "chamyeo.authorization_server"


def init_server(app: Any) -> AuthorizationServer:
    """Create the app's authorization server and keep it on the app (each app its own)."""
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": ACCESS_TOKEN_SECONDS})
    server = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(PortalCodeGrant, [RequiredPkce(), PortalOpenIDCode()])
    app.extensions[SERVER_EXTENSION] = server
    return server


def authorization_server() -> AuthorizationServer:
    """The authorization server of the app serving this request."""
    return current_app.extensions[SERVER_EXTENSION]


def access_token_owner(token: str) -> tuple[HubAccessToken, HubSession] | None:
    """The live token and hub session behind a userinfo bearer token."""
    if not token or len(token) > 200:
        return None
    session = db_session()
    row = session.get(HubAccessToken, hashlib.sha256(token.encode()).hexdigest())
    if row is None or row.created_at.timestamp() + row.expires_in < clock.timestamp():
        return None
    hub = session.scalar(
        select(HubSession).where(HubSession.id == row.hub_session_id, HubSession.ended_at.is_(None))
    )
    return (row, hub) if hub is not None else None
