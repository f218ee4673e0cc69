"""The tenants API (/api/v1/tenants, /regions, /templates, /jobs): the tenant registry,
provisioning, lifecycle and shared templates, beside the actions it calls
(`provisioning.lifecycle`, `provisioning.archive`).

Ministry admins do everything; auditors read. Each view is schema in, one service call,
schema out; services own their transactions and audit events, and enqueue their jobs after
their commit.
"""

from __future__ import annotations

import tempfile
from typing import Any

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from provisioning import archive, jobs, lifecycle
from provisioning.schemas import (
    DeleteSchema,
    ImportFileSchema,
    IssuedInvitationSchema,
    JobSchema,
    ReasonSchema,
    RegionPageSchema,
    RegionQuerySchema,
    TemplateDiffSchema,
    TemplateSchema,
    TemplateSummarySchema,
    TemplateUpgradeSchema,
    TenantCreateSchema,
    TenantDetailSchema,
    TenantDomainsSchema,
    TenantListQuerySchema,
    TenantSchema,
    VersionQuerySchema,
)
from provisioning.templates import get_template, list_templates
from saas.core.accounts.models import Role
from saas.core.auth import actor, require_platform_role
from saas.core.extensions import db, queues
from saas.core.registry.models import Tenant
from saas.core.settings import current_settings
from saas.core.tenancy.context import db_session, forget_cached_tenants

# One blueprint for the whole control plane (tenants, templates, jobs): the app registers
# this module's `blp` only. Roles are checked before the body is validated, so a caller
# without the role learns nothing from validation errors.
blp = Blueprint(
    "tenants",
    __name__,
    url_prefix="/api/v1",
    description="Municipal portals: the tenant registry, provisioning and shared templates.",
)

READERS = (Role.MINISTRY_ADMIN, Role.AUDITOR)
BEARER: list[dict[str, Any]] = [{"bearer": []}]


def _detail(slug: str) -> dict[str, Any]:
    return lifecycle.tenant_detail(db_session(), slug, settings=current_settings())


@blp.route("/tenants")
class Tenants(MethodView):
    @require_platform_role(*READERS)
    @blp.doc(security=BEARER)
    @blp.arguments(TenantListQuerySchema, location="query")
    @blp.response(200, TenantSchema(many=True))
    def get(self, query: dict[str, Any]) -> list[Tenant]:
        """List tenants, optionally by status."""
        statement = select(Tenant).order_by(Tenant.slug)
        if "status" in query:
            statement = statement.where(Tenant.status == query["status"])
        return list(db_session().scalars(statement))

    @require_platform_role(Role.MINISTRY_ADMIN)
    @blp.doc(security=BEARER)
    @blp.arguments(TenantCreateSchema)
    @blp.response(202, TenantDetailSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a municipality's portal and start provisioning it; poll the job."""
        tenant = lifecycle.do_register_tenant(
            db_session(),
            slug=body["slug"],
            region_code=body["region"],
            template=body["template"],
            name=body.get("name"),
            domains=body["domains"],
            admin_email=body.get("admin_email"),
            queue=queues.get("provisioning"),
            platform_domain=current_settings().platform_domain,
            actor=actor(),
        )
        return _detail(tenant.slug)


@blp.route("/tenants/<tenant_slug:slug>")
class TenantDetail(MethodView):
    @require_platform_role(*READERS)
    @blp.doc(security=BEARER)
    @blp.response(200, TenantDetailSchema)
    def get(self, slug: str) -> dict[str, Any]:
        """Show one tenant: status, provisioning steps, template version, URLs."""
        return _detail(slug)

    @require_platform_role(Role.MINISTRY_ADMIN)
    @blp.doc(security=BEARER)
    @blp.arguments(DeleteSchema)
    @blp.response(204)
    def delete(self, body: dict[str, Any], slug: str) -> None:
        """Delete the tenant, its schema and its data, irreversibly; `confirm` repeats the slug."""
        lifecycle.do_delete_tenant_irreversibly(
            db_session(), slug, confirm=body["confirm"], actor=actor()
        )
        forget_cached_tenants()


@blp.route("/tenants/<string:slug>/domains", methods=["PUT"])
@require_platform_role(Role.MINISTRY_ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(TenantDomainsSchema)
@blp.response(200, TenantSchema)
def put_domains(body: dict[str, Any], slug: str) -> Tenant:
    """Replace a portal's custom domains (none under the platform's own domain; each one
    tenant's only). Audited."""
    tenant = lifecycle.do_set_tenant_domains(
        db_session(), slug, body["domains"], platform_domain=current_settings().platform_domain, actor=actor()
    )
    forget_cached_tenants()
    return tenant


@blp.route("/tenants/<string:slug>/invitation", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@blp.doc(security=BEARER)
@blp.response(201, IssuedInvitationSchema)
def issue_invitation(slug: str) -> dict[str, Any]:
    """Issue the municipal admin's invitation (again): a new one-time code, shown once, for
    the person named at creation to accept at the portal. Audited."""
    return lifecycle.do_issue_admin_invitation(db.engine, slug, actor=actor())


def _status_view(action: Any, summary: str) -> Any:
    @require_platform_role(Role.MINISTRY_ADMIN)
    @blp.doc(security=BEARER, summary=summary)
    @blp.arguments(ReasonSchema)
    @blp.response(200, TenantSchema)
    def view(body: dict[str, Any], slug: str) -> Tenant:
        tenant = action(db_session(), slug, actor=actor(), reason=body.get("reason"))
        forget_cached_tenants()
        return tenant

    return view


blp.add_url_rule(
    "/tenants/<tenant_slug:slug>/suspend",
    "suspend",
    _status_view(lifecycle.do_suspend_tenant, "Stop serving a portal (data kept)"),
    methods=["POST"],
)
blp.add_url_rule(
    "/tenants/<tenant_slug:slug>/resume",
    "resume",
    _status_view(lifecycle.do_resume_tenant, "Serve a suspended portal again"),
    methods=["POST"],
)


@blp.route("/tenants/<tenant_slug:slug>/retry", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@blp.doc(security=BEARER)
@blp.response(202, TenantDetailSchema)
def retry(slug: str) -> dict[str, Any]:
    """Resume a failed provisioning at the step that failed."""
    lifecycle.do_retry_provisioning(db_session(), slug, queue=queues.get("provisioning"), actor=actor())
    return _detail(slug)


@blp.route("/tenants/<tenant_slug:slug>/export", methods=["GET"])
@blp.doc(
    security=BEARER,
    responses={"200": {"description": "The export (gzip'd tar)", "content": {"application/gzip": {}}}},
)
@require_platform_role(Role.MINISTRY_ADMIN)
def export(slug: str) -> Any:
    """Download the tenant's data and control-plane rows, restorable with import."""
    # Spooled: small tenants stay in memory, big ones go to disk, neither blocks on the client.
    spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)
    archive.export_tenant(db.engine, slug, spool, actor=actor())
    spool.seek(0)
    return send_file(spool, mimetype="application/gzip", as_attachment=True, download_name=f"{slug}.tar.gz")


@blp.route("/tenants/import", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(ImportFileSchema, location="files")
@blp.response(201, TenantDetailSchema)
def import_(files: dict[str, Any]) -> dict[str, Any]:
    """Restore a tenant from an export (multipart field `file`)."""
    restored = archive.import_tenant(db.engine, files["file"].stream, actor=actor())
    return _detail(restored["slug"])


@blp.route("/tenants/<tenant_slug:slug>/template-diff", methods=["GET"])
@require_platform_role(*READERS)
@blp.doc(security=BEARER)
@blp.arguments(VersionQuerySchema, location="query")
@blp.response(200, TemplateDiffSchema)
def template_diff(query: dict[str, Any], slug: str) -> dict[str, Any]:
    """Preview what a newer version of its template (default: the latest) changes for a tenant."""
    return lifecycle.template_diff_for_tenant(db_session(), slug, query.get("version"))


@blp.route("/tenants/<tenant_slug:slug>/template-upgrade", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(VersionQuerySchema)
@blp.response(200, TemplateUpgradeSchema)
def template_upgrade(body: dict[str, Any], slug: str) -> dict[str, Any]:
    """Apply a newer template version: new phases, categories, pages; new settings."""
    result = lifecycle.do_upgrade_tenant_template(
        db.engine, slug, version=body.get("version"), actor=actor()
    )
    forget_cached_tenants()
    return result


@blp.route("/regions", methods=["GET"])
@require_platform_role(*READERS)
@blp.doc(security=BEARER, tags=["regions"])
@blp.arguments(RegionQuerySchema, location="query")
@blp.response(200, RegionPageSchema)
def regions_(query: dict[str, Any]) -> dict[str, Any]:
    """The official municipalities a portal can be onboarded for, matching `q` (Korean or
    English name, or code prefix), in code order, each with its portal if it has one."""
    return lifecycle.find_regions(
        db_session(), query.get("q"), limit=query["limit"], offset=query["offset"]
    )


@blp.route("/templates", methods=["GET"])
@require_platform_role(*READERS)
@blp.doc(security=BEARER, tags=["templates"])
@blp.response(200, TemplateSummarySchema(many=True))
def templates() -> list[Any]:
    """The shared PB templates and their versions."""
    return list_templates()


@blp.route("/templates/<string:name>", methods=["GET"])
@require_platform_role(*READERS)
@blp.doc(security=BEARER, tags=["templates"])
@blp.arguments(VersionQuerySchema, location="query")
@blp.response(200, TemplateSchema)
def template(query: dict[str, Any], name: str) -> Any:
    """One template version (default: the latest), as data."""
    return get_template(name, query.get("version"))


@blp.route("/jobs/<string:job_id>", methods=["GET"])
@require_platform_role(*READERS)
@blp.doc(security=BEARER, tags=["jobs"])
@blp.response(200, JobSchema)
def job(job_id: str) -> dict[str, Any]:
    """A provisioning job: its state, its result, and its tenant's status."""
    found = jobs.describe_job(queues.connection, job_id)
    found["tenant"] = db_session().scalar(select(Tenant).where(Tenant.slug == found["slug"]))
    return found
