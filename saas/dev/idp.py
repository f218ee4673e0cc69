"""The development identity provider: a small OpenID provider of our own (Authlib's
authorization server) under /dev-idp/<realm>/, registered only when CHAMYEO_ENV is
`development` (see `init_app`), so that `chamyeo up` signs people in as each demo role
without any external IdP.

Each realm is a separate issuer: `national` stands for the national IdP (ministry admin,
auditor, residents), and a tenant's slug for that municipality's own directory (its staff).
The hub reaches it over HTTP through the same relying-party code as any upstream IdP; no
password is asked — every page says it is for development only.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Blueprint, Response, jsonify, request
from joserfc.jwk import ECKey, KeySet

from saas.control.identity.provider.clients import CodeFlowClient
from saas.control.identity.provider.server import IssuedCode, RequiredPkce
from saas.core import clock
from saas.core.settings import Settings, current_settings
from saas.core.tenancy.slugs import is_valid_slug

NATIONAL = "national"
CLIENT_ID = "chamyeo-hub"
SIGNING_ALG = "ES256"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
CODE_SECONDS = 60
VERIFIED = "urn:chamyeo:acr:verified"
BASIC = "urn:chamyeo:acr:basic"
BANNER = "DEVELOPMENT IDENTITY PROVIDER — for local development only, never in production · 개발용"


@dataclass(frozen=True)
class DemoPerson:
    login: str
    name: str
    roles: tuple[str, ...]  # values of the `roles` claim, mapped by the hub's registration
    acr: str


NATIONAL_PEOPLE = (
    DemoPerson("ministry-admin", "행정안전부 관리자 (ministry admin)", ("ministry-admin",), VERIFIED),
    DemoPerson("auditor", "감사관 (auditor)", ("auditor",), VERIFIED),
    DemoPerson("resident", "주민 김민지 (resident, verified)", (), VERIFIED),
    DemoPerson("resident-unverified", "주민 박서준 (resident, not verified)", (), BASIC),
    # More verified residents, so that the demo's cycle in voting can take several online votes.
    DemoPerson("resident-2", "주민 이서연 (resident, verified)", (), VERIFIED),
    DemoPerson("resident-3", "주민 최도윤 (resident, verified)", (), VERIFIED),
    DemoPerson("resident-4", "주민 정하린 (resident, verified)", (), VERIFIED),
    DemoPerson("resident-5", "주민 강지호 (resident, verified)", (), VERIFIED),
    DemoPerson("resident-6", "주민 윤수아 (resident, verified)", (), VERIFIED),
)
MUNICIPAL_PEOPLE = (
    DemoPerson("tenant-admin", "구청 관리자 (tenant admin)", ("pb-admin",), BASIC),
    DemoPerson("staff", "주무관 (staff)", ("pb-staff",), BASIC),
    DemoPerson("officer", "예산 담당관 (officer)", ("pb-officer",), BASIC),
    DemoPerson("committee-member", "주민참여위원 (committee member)", ("pb-committee",), BASIC),
)
# How the hub maps these claims: through the normal registration, so the national realm can
# grant only platform roles and a municipal realm only roles in its own tenant.
NATIONAL_ROLE_MAPPING = {"ministry-admin": "ministry_admin", "auditor": "auditor"}
MUNICIPAL_ROLE_MAPPING = {
    "pb-admin": "tenant_admin",
    "pb-staff": "staff",
    "pb-officer": "officer",
    "pb-committee": "committee_member",
}


def people_of(realm: str) -> tuple[DemoPerson, ...]:
    return NATIONAL_PEOPLE if realm == NATIONAL else MUNICIPAL_PEOPLE


def issuer_of(hub_url: str, realm: str) -> str:
    return f"{hub_url}/dev-idp/{realm}"


def provider_key(realm: str) -> str:
    """The key of the realm's registration at the hub (and so of its callback URL)."""
    return f"dev-{realm}"


def client_secret(settings: Settings) -> str:
    """The hub's secret at this IdP; derived, so the IdP and the registration agree unstored."""
    key = (settings.identity_encryption_key or settings.secret_key).encode()
    return hmac.new(key, b"development idp client\x00", hashlib.sha256).hexdigest()


def signing_key(settings: Settings) -> ECKey:
    """A P-256 key derived from the secret key: every web worker signs with the same key and
    nothing is stored (a development convenience; production IdPs are never ours)."""
    seed = hmac.new(settings.secret_key.encode(), b"development idp key\x00", hashlib.sha256).digest()
    scalar = int.from_bytes(seed, "big") % P256_ORDER or 1
    private = ec.derive_private_key(scalar, ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = hashlib.sha256(pem).hexdigest()[:16]
    return ECKey.import_key(pem, parameters={"kid": kid, "use": "sig", "alg": SIGNING_ALG})


def _realm() -> str:
    return (request.view_args or {}).get("realm", "")


def _redis() -> Any:
    from saas.core.extensions import queues

    return queues.connection


@dataclass(frozen=True)
class DevClient(CodeFlowClient):
    """The hub, registered at one realm with its one exact callback."""

    realm: str
    redirect_uri: str
    client_secret: str
    client_id: str = CLIENT_ID

    @property
    def redirect_uris(self) -> list[str]:
        return [self.redirect_uri]

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in {"openid", "profile", "email", "roles"})


@dataclass(frozen=True)
class DevUser:
    realm: str
    person: DemoPerson
    auth_time: int

    @property
    def subject(self) -> str:
        # Distinct per realm, so a municipal realm's staff never collide with national people.
        return self.person.login if self.realm == NATIONAL else f"{self.person.login}@{self.realm}"

    @property
    def acr(self) -> str:
        return self.person.acr

    @property
    def email(self) -> str:
        """A made-up address per person and realm. A portal's tenant admin has the address the
        demo names as that municipality's admin (`admin@<slug>.example.kr`), so the portal's
        invitation can be accepted by signing in as them."""
        if self.realm != NATIONAL and self.person.login == "tenant-admin":
            return f"admin@{self.realm}.example.kr"
        return f"{self.person.login}@{self.realm}.example.kr"

    def get_user_id(self) -> str:
        return self.subject


def _code_key(code: str) -> str:
    return "dev-idp:code:" + hashlib.sha256(code.encode()).hexdigest()


class DevCodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        # In Redis, not in a process: gunicorn's workers share the codes; single use by GETDEL.
        user: DevUser = request.user
        data = request.payload.data
        record = {
            "client_id": request.client.client_id,
            "redirect_uri": request.payload.redirect_uri,
            "scope": request.payload.scope or "openid",
            "nonce": data.get("nonce"),
            "code_challenge": data["code_challenge"],
            "code_challenge_method": data.get("code_challenge_method", "S256"),
            "realm": user.realm,
            "login": user.person.login,
            "auth_time": user.auth_time,
        }
        _redis().set(_code_key(code), json.dumps(record), ex=CODE_SECONDS)

    def query_authorization_code(self, code: object, client: DevClient) -> IssuedCode[DevUser] | None:
        if not isinstance(code, str) or len(code) > 128:
            return None
        pipe = _redis().pipeline()
        pipe.get(_code_key(code))
        pipe.delete(_code_key(code))
        raw, _ = pipe.execute()
        if raw is None:
            return None
        record = json.loads(raw)
        person = _person(record["realm"], record["login"])
        if record["client_id"] != client.client_id or record["realm"] != client.realm or person is None:
            return None
        return IssuedCode(
            code,
            record["client_id"],
            record["redirect_uri"],
            record["scope"],
            record["nonce"],
            record["code_challenge"],
            record["code_challenge_method"],
            DevUser(record["realm"], person, record["auth_time"]),
        )

    def delete_authorization_code(self, authorization_code: IssuedCode[DevUser]) -> None:
        pass  # deleted as it was read

    def authenticate_user(self, authorization_code: IssuedCode[DevUser]) -> DevUser:
        return authorization_code.user


class DevOpenIDCode(OpenIDCode):
    def __init__(self) -> None:
        super().__init__(require_nonce=True)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False  # codes are single use already; a development IdP keeps no nonce log

    def resolve_client_private_key(self, client: DevClient) -> Any:
        return signing_key(current_settings())

    def get_client_algorithm(self, client: DevClient) -> str:
        return SIGNING_ALG

    def get_encode_header(self, client: DevClient) -> dict[str, str]:
        kid = signing_key(current_settings()).kid
        assert kid is not None  # signing_key names every key it derives
        return {"alg": SIGNING_ALG, "kid": kid, "typ": "JWT"}

    def get_client_claims(self, client: DevClient) -> dict[str, Any]:
        return {"iss": issuer_of(current_settings().hub_url, client.realm), "aud": [client.client_id]}

    def generate_user_info(self, user: DevUser, scope: str) -> UserInfo:
        return UserInfo(
            sub=user.subject, name=user.person.name, email=user.email, roles=list(user.person.roles)
        )


def _person(realm: str, login: object) -> DemoPerson | None:
    return next((p for p in people_of(realm) if p.login == login), None)


def _query_client(client_id: str) -> DevClient | None:
    realm = _realm()
    if client_id != CLIENT_ID or not (realm == NATIONAL or is_valid_slug(realm)):
        return None
    settings = current_settings()
    return DevClient(
        realm=realm,
        redirect_uri=f"{settings.hub_url}/identity/callback/{provider_key(realm)}",
        client_secret=client_secret(settings),
    )


server = AuthorizationServer(query_client=_query_client, save_token=lambda token, request: None)
server.register_grant(DevCodeGrant, [RequiredPkce(), DevOpenIDCode()])
bp = Blueprint("dev_idp", __name__, url_prefix="/dev-idp")


def _page(title: str, body: str) -> Response:
    return Response(
        "<!DOCTYPE html><html lang=ko><head><meta charset=utf-8>"
        f"<title>[DEV] {html.escape(title)}</title></head><body>"
        f'<p role="alert" style="background:#b00020;color:#fff;padding:.5em;font-weight:bold">'
        f"{html.escape(BANNER)}</p><h1>{html.escape(title)}</h1>{body}</body></html>",
        mimetype="text/html",
    )


@bp.get("/")
def index() -> Response:
    """How to sign in: start at a portal, choose a development realm, pick a demo person."""
    from saas.dev.idp_registration import registered_realms

    hub = current_settings().hub_url
    realms = [r for r in registered_realms() if r != NATIONAL]
    links = "".join(
        f'<li><a href="{hub}/t/{html.escape(r)}/auth/login?next=/auth/me">{html.escape(r)}</a></li>'
        for r in realms
    )
    return _page(
        "Development sign-in",
        "<p>Open a portal's sign-in page, choose a <em>development</em> identity provider, "
        "then the demo person to be:</p>"
        f"<ul>{links or '<li>no demo portal is registered</li>'}</ul>"
        "<p>National realm: ministry admin, auditor, residents (platform roles from the "
        "ministry's configuration). A portal's own realm: tenant admin, staff, officer, "
        "committee member (roles in that portal only). Any national person is a resident "
        "at the portal they sign in to.</p>",
    )


@bp.get("/<realm>/.well-known/openid-configuration")
def discovery(realm: str) -> Response:
    issuer = issuer_of(current_settings().hub_url, realm)
    return jsonify(
        issuer=issuer,
        authorization_endpoint=f"{issuer}/authorize",
        token_endpoint=f"{issuer}/token",
        jwks_uri=f"{issuer}/jwks",
        response_types_supported=["code"],
        grant_types_supported=["authorization_code"],
        code_challenge_methods_supported=["S256"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=[SIGNING_ALG],
        token_endpoint_auth_methods_supported=["client_secret_basic"],
        scopes_supported=["openid", "profile", "email", "roles"],
        acr_values_supported=[VERIFIED, BASIC],
        authorization_response_iss_parameter_supported=True,
        x_chamyeo_development_only=True,
    )


@bp.get("/<realm>/jwks")
def jwks(realm: str) -> Response:
    return jsonify(KeySet([signing_key(current_settings())]).as_dict(private=False))


@bp.get("/<realm>/authorize")
def authorize(realm: str) -> Response:
    """Without `login`: the page of demo people; with it: sign that person in (no password)."""
    person = _person(realm, request.args.get("login"))
    user = DevUser(realm, person, int(clock.timestamp())) if person is not None else None
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    if user is None:
        query = request.args.to_dict()
        items = "".join(
            f'<li><a data-login="{html.escape(p.login)}" '
            f'href="?{html.escape(urlencode({**query, "login": p.login}))}">{html.escape(p.name)}</a></li>'
            for p in people_of(realm)
        )
        return _page(f"Sign in as a demo person ({realm})", f"<ul>{items}</ul>")
    response = server.create_authorization_response(grant_user=user, grant=grant)
    if response.location:  # RFC 9207, as the hub expects of every IdP that advertises it
        response.location = add_params_to_uri(
            response.location, {"iss": issuer_of(current_settings().hub_url, realm)}
        )
    return response


@bp.post("/<realm>/token")
def token(realm: str) -> Response:
    return server.create_token_response()


def init_app(app: Any) -> None:
    """Serve the development IdP — only in development; elsewhere it does not exist."""
    settings: Settings = app.config["CHAMYEO_SETTINGS"]
    if settings.environment != "development":
        return
    server.init_app(app)
    app.register_blueprint(bp)
