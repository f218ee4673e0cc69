"""Billing API: the ministry's plans and subsidy programs, auditors' exports and verify,
each municipality's invoices, and the Stripe webhook. Views are thin: schema in, one
service call, schema out."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from saas.control.billing import gateway as billing_gateway
from saas.control.billing import jobs, schemas, webhooks
from saas.control.billing.models import Plan, SubsidyProgram
from saas.control.billing.services import ledger, programs, reports, subscriptions
from saas.core.accounts.models import Role
from saas.core.auth import actor, require_platform_role, require_tenant_role
from saas.core.extensions import queues
from saas.core.registry.models import Tenant
from saas.core.settings import current_settings
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint

BEARER: list[dict[str, Any]] = [{"bearer": []}]
READERS = (Role.MINISTRY_ADMIN, Role.AUDITOR)

control_blp = Blueprint(
    "billing",
    __name__,
    url_prefix="/api/v1/billing",
    description="Plans, subsidy programs and the subsidy ledger.",
)
tenant_blp = tenant_blueprint(
    "portal_billing",
    __name__,
    url_prefix="/billing",
    description="A municipality's invoices: gross, subsidy and net.",
)
webhook_blp = Blueprint(
    "stripe_webhook",
    __name__,
    url_prefix="/billing",
    description="Stripe webhook endpoint (signed by Stripe, no bearer token).",
)


def _program_or_404(program_id: int) -> SubsidyProgram:
    program = db_session().get(SubsidyProgram, program_id)
    if program is None:
        abort(404, message=f"There is no subsidy program {program_id}.")
    return program


@control_blp.route("/plans")
class Plans(MethodView):
    @require_platform_role(*READERS)
    @control_blp.doc(security=BEARER)
    @control_blp.arguments(schemas.BillingPlanQuerySchema, location="query")
    @control_blp.response(200, schemas.BillingPlanSchema(many=True))
    def get(self, query: dict[str, Any]) -> list[Plan]:
        """List plans."""
        statement = select(Plan).order_by(Plan.code)
        if "interval" in query:
            statement = statement.where(Plan.interval == query["interval"])
        return list(db_session().scalars(statement))

    @require_platform_role(Role.MINISTRY_ADMIN)
    @control_blp.doc(security=BEARER)
    @control_blp.arguments(schemas.BillingPlanCreateSchema)
    @control_blp.response(201, schemas.BillingPlanSchema)
    def post(self, body: dict[str, Any]) -> Plan:
        """Create a plan (and its Stripe product and price)."""
        return subscriptions.do_create_plan(db_session(), billing_gateway.current(), actor=actor(), **body)


@control_blp.route("/programs")
class Programs(MethodView):
    @require_platform_role(*READERS)
    @control_blp.doc(security=BEARER)
    @control_blp.arguments(schemas.SubsidyProgramQuerySchema, location="query")
    @control_blp.response(200, schemas.SubsidyProgramSchema(many=True))
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Every program with its budget, reserved, applied, billed and settled amounts."""
        return reports.list_programs(db_session(), query.get("fiscal_year"))

    @require_platform_role(Role.MINISTRY_ADMIN)
    @control_blp.doc(security=BEARER)
    @control_blp.arguments(schemas.SubsidyProgramCreateSchema)
    @control_blp.response(201, schemas.SubsidyProgramSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Open a subsidy program for a fiscal year with its budget and tier rates."""
        program = programs.do_create_program(db_session(), actor=actor(), **body)
        return reports.program_view(db_session(), program.id)  # type: ignore[return-value]  # the program exists


@control_blp.route("/programs/<id:program_id>")
class ProgramDetail(MethodView):
    @require_platform_role(*READERS)
    @control_blp.doc(security=BEARER)
    @control_blp.response(200, schemas.SubsidyProgramSchema)
    def get(self, program_id: int) -> dict[str, Any]:
        """A program's amounts, per-tenant subsidies and alerts."""
        view = reports.program_view(db_session(), program_id)
        if view is None:
            abort(404, message=f"There is no subsidy program {program_id}.")
        return view


@control_blp.route("/programs/<id:program_id>/rates", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@control_blp.doc(security=BEARER)
@control_blp.arguments(schemas.SubsidyRateVersionSchema)
@control_blp.response(201, schemas.SubsidyProgramSchema)
def add_rates(body: dict[str, Any], program_id: int) -> dict[str, Any]:
    """A new version of the tier rates from a date on (earlier periods keep the old rates)."""
    _program_or_404(program_id)
    programs.do_add_rate_version(db_session(), program_id, actor=actor(), **body)
    return reports.program_view(db_session(), program_id)  # type: ignore[return-value]  # the program exists


@control_blp.route("/programs/<id:program_id>/tiers", methods=["POST"])
@require_platform_role(Role.MINISTRY_ADMIN)
@control_blp.doc(security=BEARER)
@control_blp.arguments(schemas.SubsidyTierAssignSchema)
@control_blp.response(201, schemas.SubsidyProgramSchema)
def assign_tier(body: dict[str, Any], program_id: int) -> dict[str, Any]:
    """Assign a municipality's tier from a date on (from its fiscal data unless given)."""
    _program_or_404(program_id)
    session = db_session()
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == body.pop("tenant")))
    if tenant_id is None:
        abort(404, message="There is no such tenant.")
    programs.do_assign_tier(session, program_id, tenant_id, actor=actor(), **body)
    return reports.program_view(session, program_id)  # type: ignore[return-value]  # the program exists


@control_blp.route("/programs/<id:program_id>/ledger", methods=["GET"])
@require_platform_role(*READERS)
@control_blp.doc(security=BEARER, responses={"200": {"description": "The ledger as CSV or JSON"}})
@control_blp.arguments(schemas.LedgerExportQuerySchema, location="query")
def export_ledger(query: dict[str, Any], program_id: int) -> Response:
    """Export a program's ledger, one row per line; the same period gives the same bytes."""
    _program_or_404(program_id)
    rows = reports.export_rows(db_session(), program_id, query.get("period_from"), query.get("period_to"))
    if query["format"] == "csv":
        return Response(reports.export_csv(rows), mimetype="text/csv")
    return Response(reports.export_json(rows), mimetype="application/json")


@control_blp.route("/programs/<id:program_id>/verify", methods=["GET"])
@require_platform_role(*READERS)
@control_blp.doc(security=BEARER)
@control_blp.response(200, schemas.LedgerVerifySchema)
def verify_ledger(program_id: int) -> dict[str, Any]:
    """Recompute the hash chain and the invariants; name the first broken entry."""
    _program_or_404(program_id)
    report = ledger.verify(db_session(), program_id)
    return {**report.__dict__, "ok": report.ok}


@tenant_blp.route("/invoices", methods=["GET"])
@require_tenant_role(Role.TENANT_ADMIN, Role.STAFF, Role.OFFICER)
@tenant_blp.doc(security=BEARER)
@tenant_blp.arguments(schemas.BillingInvoiceQuerySchema, location="query")
@tenant_blp.response(200, schemas.BillingInvoiceSchema(many=True))
def tenant_invoices(query: dict[str, Any]) -> list[Any]:
    """This municipality's invoices with gross, ministry subsidy and net (what it pays)."""
    return reports.tenant_invoices(db_session(), current_tenant().id, query.get("status"))


@webhook_blp.route("/stripe/webhook", methods=["POST"])
@webhook_blp.arguments(schemas.StripeSignatureHeaderSchema, location="headers")
@webhook_blp.response(200, schemas.StripeWebhookAnswerSchema)
def stripe_webhook(headers: dict[str, Any]) -> dict[str, Any]:
    """Stripe calls this: the signature is checked on the raw body, the event recorded once
    and processed in the background."""
    secret = current_settings().stripe_webhook_secret
    if not secret:
        abort(404, message="Stripe webhooks are not configured here.")
    event_id, first = webhooks.do_receive(
        db_session(), request.get_data(cache=False), headers["signature"], secret
    )
    if first:
        jobs.enqueue_event(queues.get("billing"), event_id)
    return {"received": event_id, "duplicate": not first}
