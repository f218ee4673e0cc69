"""Execution monitoring of funded projects (public read; staff write)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from saas.core.accounts.models import Role
from saas.core.auth import actor, require_tenant_role
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.cycles.services import cycle_or_404
from tenants.execution import services
from tenants.execution.models import ExecutionUpdate, Milestone
from tenants.execution.schemas import ItemSchema, MilestoneSchema, UpdateSchema

blp = tenant_blueprint(
    "execution",
    __name__,
    url_prefix="/cycles/<id:cycle_id>/execution",
    description="Funded projects as they are carried out.",
)
STAFF = (Role.TENANT_ADMIN, Role.STAFF)
SECURED: dict[str, Any] = {"security": [{"bearer": []}]}


@blp.route("")
class Items(MethodView):
    @blp.response(200, ItemSchema(many=True))
    def get(self, cycle_id: int) -> list[dict[str, Any]]:
        """Every funded project with its status, progress, spend, milestones and updates (public)."""
        cycle_or_404(db_session(), cycle_id)
        return [
            services.item_detail(db_session(), item)
            for item, _ in services.items_of_cycle(db_session(), cycle_id)
        ]


@blp.route("/<id:item_id>")
class Item(MethodView):
    @blp.response(200, ItemSchema)
    def get(self, cycle_id: int, item_id: int) -> dict[str, Any]:
        """One funded project (public)."""
        return services.item_detail(db_session(), services.item_or_404(db_session(), cycle_id, item_id))


@blp.route("/<id:item_id>/updates")
class Updates(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(UpdateSchema)
    @blp.response(201, UpdateSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int, item_id: int) -> ExecutionUpdate:
        """Post a dated progress report (sets progress, spend and status)."""
        return services.do_post_update(
            db_session(), current_tenant(), cycle_id, item_id, fields, actor=actor()
        )


@blp.route("/<id:item_id>/milestones")
class Milestones(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(MilestoneSchema)
    @blp.response(201, MilestoneSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int, item_id: int) -> Milestone:
        """Add a milestone."""
        return services.do_add_milestone(
            db_session(), current_tenant(), cycle_id, item_id, fields, actor=actor()
        )
