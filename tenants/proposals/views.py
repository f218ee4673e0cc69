"""Proposals, their supports, comments, moderation and review; ballot projects."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from saas.core.accounts.models import Role
from saas.core.auth import actor, holds_tenant_role, require_tenant_role
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.cycles.services import cycle_or_404
from tenants.errors import Invalid, NotFound
from tenants.proposals import services
from tenants.proposals.models import Comment, Project, Proposal
from tenants.proposals.schemas import (
    CommentInputSchema,
    CommentSchema,
    ModerationSchema,
    ProjectInputSchema,
    ProjectSchema,
    ProposalInputSchema,
    ProposalSchema,
    ReviewSchema,
)

blp = tenant_blueprint(
    "proposals",
    __name__,
    url_prefix="/cycles/<id:cycle_id>",
    description="Proposals, review and ballot projects.",
)
STAFF = (Role.TENANT_ADMIN, Role.STAFF)
EVERYONE = (*STAFF, Role.OFFICER, Role.COMMITTEE_MEMBER, Role.RESIDENT)
SECURED: dict[str, Any] = {"security": [{"bearer": []}]}



@blp.route("/proposals")
class Proposals(MethodView):
    @blp.response(200, ProposalSchema(many=True))
    def get(self, cycle_id: int) -> list[Proposal]:
        """The cycle's proposals (public; hidden ones only for staff)."""
        cycle_or_404(db_session(), cycle_id)
        statement = select(Proposal).where(Proposal.cycle_id == cycle_id).order_by(Proposal.id)
        if not holds_tenant_role(*STAFF):
            statement = statement.where(Proposal.hidden_reason.is_(None))
        return list(db_session().scalars(statement))

    @blp.doc(**SECURED)
    @blp.arguments(ProposalInputSchema)
    @blp.response(201, ProposalSchema)
    @require_tenant_role(*EVERYONE)
    def post(self, fields: dict[str, Any], cycle_id: int) -> Proposal:
        """Submit a proposal online, or (staff) enter one from paper, a counter or a meeting."""
        channel = fields.pop("channel")
        proposer_name = fields.pop("proposer_name", None)
        if channel == "online":
            proposer, entered_by = actor(), None
        elif not holds_tenant_role(*STAFF):
            raise Invalid(
                "Only staff enter proposals from offline channels.", errors={"channel": ["online only"]}
            )
        elif not proposer_name:
            raise Invalid("Name the resident who made the proposal.", errors={"proposer_name": ["required"]})
        else:
            proposer, entered_by = proposer_name, actor()
        return services.do_submit_proposal(
            db_session(),
            current_tenant(),
            cycle_id,
            fields,
            proposer=proposer,
            channel=channel,
            entered_by=entered_by,
            actor=actor(),
        )


@blp.route("/proposals/<id:proposal_id>")
class ProposalDetail(MethodView):
    @blp.response(200, ProposalSchema)
    def get(self, cycle_id: int, proposal_id: int) -> Proposal:
        """One proposal (public)."""
        proposal = services.proposal_or_404(db_session(), cycle_id, proposal_id)
        if proposal.hidden_reason is not None and not holds_tenant_role(*STAFF):
            raise NotFound(f"Cycle {cycle_id} has no proposal {proposal_id}.")
        return proposal


@blp.route("/proposals/<id:proposal_id>/supports")
class Supports(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, ProposalSchema)
    @require_tenant_role(*EVERYONE)
    def post(self, cycle_id: int, proposal_id: int) -> Proposal:
        """Support a proposal (once per person)."""
        return services.do_support(db_session(), cycle_id, proposal_id, supporter=actor())


@blp.route("/proposals/<id:proposal_id>/comments")
class Comments(MethodView):
    @blp.response(200, CommentSchema(many=True))
    def get(self, cycle_id: int, proposal_id: int) -> list[Comment]:
        """Visible comments (public)."""
        services.proposal_or_404(db_session(), cycle_id, proposal_id)
        return list(
            db_session().scalars(
                select(Comment)
                .where(Comment.proposal_id == proposal_id, Comment.hidden_reason.is_(None))
                .order_by(Comment.id)
            )
        )

    @blp.doc(**SECURED)
    @blp.arguments(CommentInputSchema)
    @blp.response(201, CommentSchema)
    @require_tenant_role(*EVERYONE)
    def post(self, fields: dict[str, str], cycle_id: int, proposal_id: int) -> Comment:
        """Comment on a proposal."""
        return services.do_comment(db_session(), cycle_id, proposal_id, author=actor(), body=fields["body"])


@blp.route("/proposals/<id:proposal_id>/moderation")
class Moderation(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(ModerationSchema)
    @blp.response(200, ProposalSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int, proposal_id: int) -> Proposal:
        """Hide a proposal or a comment with a reason, or show it again (null reason)."""
        services.do_moderate(
            db_session(),
            current_tenant(),
            cycle_id,
            proposal_id,
            comment_id=fields.get("comment_id"),
            hidden_reason=fields["hidden_reason"],
            actor=actor(),
        )
        return services.proposal_or_404(db_session(), cycle_id, proposal_id)


@blp.route("/proposals/<id:proposal_id>/review")
class Review(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(ReviewSchema)
    @blp.response(200, ReviewSchema)
    @require_tenant_role(*STAFF)
    def put(self, fields: dict[str, Any], cycle_id: int, proposal_id: int):
        """Record the feasibility review: legal check, cost estimate, decision and reason."""
        return services.do_review(
            db_session(), current_tenant(), cycle_id, proposal_id, fields, actor=actor()
        )


@blp.route("/projects")
class Projects(MethodView):
    @blp.response(200, ProjectSchema(many=True))
    def get(self, cycle_id: int) -> list[Project]:
        """The ballot projects of the cycle (public)."""
        cycle_or_404(db_session(), cycle_id)
        return list(
            db_session().scalars(select(Project).where(Project.cycle_id == cycle_id).order_by(Project.code))
        )

    @blp.doc(**SECURED)
    @blp.arguments(ProjectInputSchema)
    @blp.response(201, ProjectSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int) -> Project:
        """Shortlist a feasible proposal onto an envelope's ballot, or add one (409 once voting opens)."""
        proposal_id = fields.pop("proposal_id", None)
        return services.do_add_project(
            db_session(), current_tenant(), cycle_id, fields, proposal_id=proposal_id, actor=actor()
        )


@blp.route("/projects/<id:project_id>")
class ProjectDetail(MethodView):
    @blp.doc(**SECURED)
    @blp.response(204)
    @require_tenant_role(*STAFF)
    def delete(self, cycle_id: int, project_id: int) -> None:
        """Take a project off the ballot (409 once voting opened)."""
        services.do_remove_project(db_session(), current_tenant(), cycle_id, project_id, actor=actor())
