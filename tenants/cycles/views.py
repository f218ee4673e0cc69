"""Cycles, their phases and envelopes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from saas.core.accounts.models import Role
from saas.core.auth import actor, require_tenant_role
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.cycles import services
from tenants.cycles.models import Cycle
from tenants.cycles.schemas import (
    BallotRulesSchema,
    CycleCreateSchema,
    CycleSchema,
    EnvelopeSchema,
    EnvelopeUpdateSchema,
    PhaseChangeSchema,
)

blp = tenant_blueprint("cycles", __name__, url_prefix="/cycles", description="PB cycles, phases, envelopes.")
STAFF = (Role.TENANT_ADMIN, Role.STAFF)
SECURED: dict[str, Any] = {"security": [{"bearer": []}]}


@blp.route("")
class Cycles(MethodView):
    @blp.response(200, CycleSchema(many=True))
    def get(self) -> list[Cycle]:
        """Every cycle, newest first (public)."""
        return list(db_session().scalars(select(Cycle).order_by(Cycle.id.desc())))

    @blp.doc(**SECURED)
    @blp.arguments(CycleCreateSchema)
    @blp.response(201, CycleSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any]) -> Cycle:
        """Create a cycle from the portal's template: phases, ballot rules, envelopes."""
        return services.do_create_cycle(db_session(), current_tenant(), actor=actor(), **fields)


@blp.route("/<id:cycle_id>")
class CycleDetail(MethodView):
    @blp.response(200, CycleSchema)
    def get(self, cycle_id: int) -> Cycle:
        """One cycle (public)."""
        return services.cycle_or_404(db_session(), cycle_id)


@blp.route("/<id:cycle_id>/phase")
class CyclePhase(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(PhaseChangeSchema)
    @blp.response(200, CycleSchema)
    @require_tenant_role(*STAFF)
    def post(self, change: dict[str, str], cycle_id: int) -> Cycle:
        """Open the next phase (explicit, audit-logged; opening voting freezes the ballot)."""
        return services.do_advance_phase(
            db_session(), current_tenant(), cycle_id, to_phase=change["to"], actor=actor()
        )


@blp.route("/<id:cycle_id>/envelopes/<id:envelope_id>")
class EnvelopeDetail(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(EnvelopeUpdateSchema)
    @blp.response(200, EnvelopeSchema)
    @require_tenant_role(*STAFF)
    def patch(self, changes: dict[str, Any], cycle_id: int, envelope_id: int):
        """Change an envelope's budget or name (refused with 409 once voting opened)."""
        return services.do_update_envelope(
            db_session(), current_tenant(), cycle_id, envelope_id, changes, actor=actor()
        )


@blp.route("/<id:cycle_id>/ballot-rules")
class BallotRules(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(BallotRulesSchema)
    @blp.response(200, CycleSchema)
    @require_tenant_role(*STAFF)
    def put(self, body: dict[str, Any], cycle_id: int) -> Cycle:
        """Replace the ballot rules (refused with 409 once voting opened)."""
        return services.do_update_ballot_rules(
            db_session(), current_tenant(), cycle_id, body["ballot"], actor=actor()
        )
