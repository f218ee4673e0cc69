"""Results: count, publish, verify by recount; pabulib export and import."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from saas.core.accounts.models import Role
from saas.core.auth import actor, holds_tenant_role, require_tenant_role
from saas.core.refusals import NotFound
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.cycles.services import cycle_or_404
from tenants.results import services
from tenants.results.models import Result
from tenants.results.published import BALLOTS_WITH_RESULTS
from tenants.results.schemas import (
    ExportQuerySchema,
    ImportedSchema,
    ImportSchema,
    ResultSchema,
    VerificationSchema,
)

blp = tenant_blueprint("results", __name__, description="Counting, publishing and verifying results.")
STAFF = (Role.TENANT_ADMIN, Role.STAFF)
SECURED: dict[str, Any] = {"security": [{"bearer": []}]}


@blp.route("/cycles/<id:cycle_id>/results")
class Results(MethodView):
    @blp.response(200, ResultSchema(many=True))
    def get(self, cycle_id: int) -> list[Result]:
        """Published results with a reason for every project (staff also see unpublished counts)."""
        cycle_or_404(db_session(), cycle_id)
        results = services.latest_results(db_session(), cycle_id)
        return results if holds_tenant_role(*STAFF) else [r for r in results if r.published_at]

    @blp.doc(**SECURED)
    @blp.response(201, ResultSchema(many=True))
    @require_tenant_role(*STAFF)
    def post(self, cycle_id: int) -> list[Result]:
        """Count every envelope with the cycle's rule (results phase)."""
        return services.do_count(db_session(), current_tenant(), cycle_id, actor=actor())


@blp.route("/cycles/<id:cycle_id>/results/publish")
class Publish(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, ResultSchema(many=True))
    @require_tenant_role(Role.TENANT_ADMIN)
    def post(self, cycle_id: int) -> list[Result]:
        """Publish the counted results; funded projects become execution items."""
        return services.do_publish(db_session(), current_tenant(), cycle_id, actor=actor())


@blp.route("/cycles/<id:cycle_id>/results/verify")
class Verify(MethodView):
    @blp.response(200, VerificationSchema(many=True))
    def post(self, cycle_id: int) -> list[dict[str, Any]]:
        """Recount from the stored ballots and compare hashes (anyone may ask)."""
        return services.verify(db_session(), current_tenant(), cycle_id)


@blp.route("/cycles/<id:cycle_id>/pabulib")
class Export(MethodView):
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, query: dict[str, str], cycle_id: int) -> Response:
        """One envelope of the cycle as a pabulib .pb file (anonymous ballots; public once published)."""
        published = any(r.published_at for r in services.latest_results(db_session(), cycle_id))
        if not published and not holds_tenant_role(*STAFF):
            raise NotFound(BALLOTS_WITH_RESULTS)
        text = services.export_pabulib(db_session(), current_tenant(), cycle_id, query["envelope"])
        filename = f"{current_tenant().slug}_{cycle_id}_{query['envelope']}.pb"
        return Response(
            text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )


@blp.route("/cycles/import")
class Import(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(ImportSchema)
    @blp.response(201, ImportedSchema)
    @require_tenant_role(Role.TENANT_ADMIN)
    def post(self, body: dict[str, Any]) -> dict[str, int]:
        """Import a historic cycle from a pabulib file."""
        text = body.pop("pabulib")
        cycle = services.do_import_pabulib(db_session(), current_tenant(), text, actor=actor(), **body)
        return {"cycle_id": cycle.id}
