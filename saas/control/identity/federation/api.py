"""Administration API of the federation.

Ministry admins register the national IdP and approve municipalities' IdPs under
/api/v1/identity-providers; a municipality's admin registers its own IdP (pending until the
ministry approves it) and tests it under /t/<slug>/api/v1/identity-providers. Thin views over
`saas.control.identity.federation.services`; client secrets go in, never out.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from saas.control.identity.errors import SignInRefused
from saas.control.identity.federation.schemas import ProbeSchema, ProviderCreateSchema, ProviderSchema
from saas.control.identity.federation.services import (
    do_approve_provider,
    do_register_provider,
    probe_provider,
    provider_by_key,
    providers,
    tenant_slug_of,
)
from saas.control.identity.models import IdentityProvider
from saas.control.identity.sealing import SecretBox
from saas.control.identity.signin.upstream import callback_url
from saas.core.accounts.models import Role
from saas.core.auth import actor, person, require_platform_role, require_tenant_role
from saas.core.settings import current_settings
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint

BEARER: list[dict[str, Any]] = [{"bearer": []}]

ministry_blp = Blueprint(
    "identity_providers",
    __name__,
    url_prefix="/api/v1/identity-providers",
    description="Identity providers of the federation: the national IdP and municipalities' own.",
)
tenant_blp = tenant_blueprint(
    "tenant_identity_providers",
    __name__,
    url_prefix="/identity-providers",
    description="This municipality's own identity provider (approved by the ministry).",
)


def _shown(provider: IdentityProvider) -> dict[str, Any]:
    return {
        **{c: getattr(provider, c) for c in ProviderSchema().fields if hasattr(provider, c)},
        "tenant": tenant_slug_of(db_session(), provider),
        "callback_url": callback_url(current_settings().hub_url, provider),
    }


def _register(body: dict[str, Any], *, tenant_id: int | None, by_ministry: bool) -> dict[str, Any]:
    # A ProviderRefused is a 422, a ProviderConflict a 409 (saas.core.refusals).
    provider = do_register_provider(
        db_session(),
        SecretBox(current_settings()),
        tenant_id=tenant_id,
        by_ministry=by_ministry,
        actor=actor(),
        **body,
    )
    return _shown(provider)


def _probe(provider: IdentityProvider) -> dict[str, Any]:
    from saas.control.identity.federation import probe_limit
    from saas.core.extensions import queues

    # One person is one caller, whichever of their credentials they use.
    probe_limit.check(queues.connection, idp_key=provider.key, caller=person() or actor())
    try:
        return probe_provider(provider)
    except SignInRefused as error:
        # The IdP, not this request, is at fault; still a 4xx: nothing here failed.
        abort(422, message=f"The IdP is not usable: {error}")


def _provider(key: str, *, tenant_id: int | None = None, any_scope: bool = False) -> IdentityProvider:
    """The IdP `key` in the given scope; 404 for one of another tenant, as for a missing one."""
    provider = provider_by_key(db_session(), key)
    if provider is None or (not any_scope and provider.tenant_id != tenant_id):
        abort(404, message=f"No identity provider {key!r} here.")
    return provider


@ministry_blp.route("")
class Providers(MethodView):
    @require_platform_role(Role.MINISTRY_ADMIN)
    @ministry_blp.doc(security=BEARER)
    @ministry_blp.response(200, ProviderSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every IdP of the federation, national and municipal, with its status."""
        return [_shown(p) for p in providers(db_session())]

    @require_platform_role(Role.MINISTRY_ADMIN)
    @ministry_blp.doc(security=BEARER)
    @ministry_blp.arguments(ProviderCreateSchema)
    @ministry_blp.response(201, ProviderSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a national IdP (approved at once; may grant ministry admin and auditor)."""
        return _register(body, tenant_id=None, by_ministry=True)


@ministry_blp.route("/<string:key>")
class ProviderDetail(MethodView):
    @require_platform_role(Role.MINISTRY_ADMIN)
    @ministry_blp.doc(security=BEARER)
    @ministry_blp.response(200, ProviderSchema)
    def get(self, key: str) -> dict[str, Any]:
        return _shown(_provider(key, any_scope=True))


@ministry_blp.route("/<string:key>/approve", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@ministry_blp.doc(security=BEARER)
@ministry_blp.response(200, ProviderSchema)
def approve(key: str) -> dict[str, Any]:
    """Approve a municipality's IdP: its people can then sign in at that portal."""
    _provider(key, any_scope=True)
    return _shown(do_approve_provider(db_session(), key, actor=actor()))


@ministry_blp.route("/<string:key>/test", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@ministry_blp.doc(security=BEARER)
@ministry_blp.response(200, ProbeSchema)
def test_provider(key: str) -> dict[str, Any]:
    """Read the IdP's discovery document and say what the hub would use."""
    return _probe(_provider(key, any_scope=True))


@tenant_blp.route("")
class TenantProviders(MethodView):
    @require_tenant_role(Role.TENANT_ADMIN)
    @tenant_blp.doc(security=BEARER)
    @tenant_blp.response(200, ProviderSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """This municipality's own IdPs."""
        return [_shown(p) for p in providers(db_session(), tenant_id=current_tenant().id)]

    @require_tenant_role(Role.TENANT_ADMIN)
    @tenant_blp.doc(security=BEARER)
    @tenant_blp.arguments(ProviderCreateSchema)
    @tenant_blp.response(201, ProviderSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register this municipality's IdP; it waits for the ministry's approval. Its role
        mapping may grant roles in this municipality only."""
        return _register(body, tenant_id=current_tenant().id, by_ministry=False)


@tenant_blp.route("/<string:key>")
class TenantProviderDetail(MethodView):
    @require_tenant_role(Role.TENANT_ADMIN)
    @tenant_blp.doc(security=BEARER)
    @tenant_blp.response(200, ProviderSchema)
    def get(self, key: str) -> dict[str, Any]:
        return _shown(_provider(key, tenant_id=current_tenant().id))


@tenant_blp.route("/<string:key>/test", methods=["POST"])
@require_tenant_role(Role.TENANT_ADMIN)
@tenant_blp.doc(security=BEARER)
@tenant_blp.response(200, ProbeSchema)
def tenant_test_provider(key: str) -> dict[str, Any]:
    """Test this municipality's IdP: read its discovery document."""
    return _probe(_provider(key, tenant_id=current_tenant().id))


def init_app(api: Any) -> None:
    api.register_blueprint(ministry_blp)
    api.register_blueprint(tenant_blp)
