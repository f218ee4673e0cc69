"""Control-plane API of the tenant registry (ministry admins; auditors read)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from saas.accounts.models import Role
from saas.auth import require_platform_role
from saas.registry.models import Tenant
from saas.registry.schemas import TenantListQuerySchema, TenantSchema
from saas.tenancy.context import db_session

blp = Blueprint(
    "tenants",
    __name__,
    url_prefix="/api/v1/tenants",
    description="Municipal portals: the registry of tenants.",
)


def tenant_or_404(slug: str) -> Tenant:
    tenant = db_session().scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        abort(404, message=f"There is no tenant {slug!r}.")
    return tenant


@blp.route("")
class Tenants(MethodView):
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(TenantListQuerySchema, location="query")
    @blp.response(200, TenantSchema(many=True))
    @require_platform_role(Role.MINISTRY_ADMIN, Role.AUDITOR)
    def get(self, query: dict[str, Any]) -> list[Tenant]:
        """List tenants, optionally by status."""
        statement = select(Tenant).order_by(Tenant.slug)
        if "status" in query:
            statement = statement.where(Tenant.status == query["status"])
        return list(db_session().scalars(statement))


@blp.route("/<string:slug>")
class TenantDetail(MethodView):
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, TenantSchema)
    @require_platform_role(Role.MINISTRY_ADMIN, Role.AUDITOR)
    def get(self, slug: str) -> Tenant:
        """Show one tenant."""
        return tenant_or_404(slug)
