"""The committee API of a cycle: committees, applications, the lottery, members, meetings,
scores and the representativeness report.

Municipal admins and staff manage; residents apply; committee members score and record their
own attendance; anyone reads committees, members (without demographics), the published
lottery record (and re-runs it), meetings with their minutes, and aggregate scores.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from saas.core.accounts.models import Role
from saas.core.auth import actor, holds_tenant_role, require_tenant_role
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.committees import meetings, scores, services
from tenants.committees.models import Applicant, Committee, CommitteeMember, Meeting, Score
from tenants.committees.representativeness import committee_report
from tenants.committees.schemas import (
    ApplicantSchema,
    ApplicationReceiptSchema,
    ApplicationSchema,
    AppointSchema,
    AttendanceSchema,
    CommitteeCreateSchema,
    CommitteeSchema,
    CycleScoreSchema,
    DrawRequestSchema,
    LotterySchema,
    MeetingCreateSchema,
    MeetingSchema,
    MeetingUpdateSchema,
    MemberUpdateSchema,
    ProjectScoreSchema,
    PublicMemberSchema,
    RepresentativenessSchema,
    RosterMemberSchema,
    ScoreInputSchema,
    ScoreReceiptSchema,
    VerifyRequestSchema,
    VerifySchema,
)
from tenants.cycles.services import cycle_or_404

blp = tenant_blueprint(
    "committees",
    __name__,
    url_prefix="/cycles/<id:cycle_id>/committees",
    description="Committees of a cycle: applications, stratified lottery, members, meetings, scores.",
)
STAFF = (Role.TENANT_ADMIN, Role.STAFF)
SECURED: dict[str, Any] = {"security": [{"bearer": []}]}
COMMITTEE = "/<id:committee_id>"
NOT_A_MEMBER = "You hold no seat on this committee."



@blp.route("")
class Committees(MethodView):
    @blp.response(200, CommitteeSchema(many=True))
    def get(self, cycle_id: int) -> list[Committee]:
        """The cycle's committees (public)."""
        session = db_session()
        cycle_or_404(session, cycle_id)
        return list(
            session.scalars(select(Committee).where(Committee.cycle_id == cycle_id).order_by(Committee.id))
        )

    @blp.doc(**SECURED)
    @blp.arguments(CommitteeCreateSchema)
    @blp.response(201, CommitteeSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int) -> Committee:
        """Make a committee from the template's structure (a dong committee names its dong)."""
        return services.do_create_committee(db_session(), current_tenant(), cycle_id, actor=actor(), **fields)


@blp.route("/scores")
class CycleScores(MethodView):
    @blp.response(200, CycleScoreSchema(many=True))
    def get(self, cycle_id: int) -> list[dict[str, Any]]:
        """The committee score of each scored project, 0..1, as the blended counting rule reads it."""
        session = db_session()
        cycle_or_404(session, cycle_id)
        found = services.committee_scores(session, cycle_id)
        return [{"project_id": pid, "score": value} for pid, value in sorted(found.items())]


@blp.route(COMMITTEE)
class CommitteeDetail(MethodView):
    @blp.response(200, CommitteeSchema)
    def get(self, cycle_id: int, committee_id: int) -> Committee:
        """One committee (public)."""
        return services.committee_or_404(db_session(), cycle_id, committee_id)


@blp.route(f"{COMMITTEE}/applications")
class Applications(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, ApplicantSchema(many=True))
    @require_tenant_role(*STAFF)
    def get(self, cycle_id: int, committee_id: int) -> list[Applicant]:
        """Every applicant with their demographics (staff)."""
        session = db_session()
        return services.applicants(session, services.committee_or_404(session, cycle_id, committee_id))

    @blp.doc(**SECURED)
    @blp.arguments(ApplicationSchema)
    @blp.response(201, ApplicationReceiptSchema)
    @require_tenant_role(Role.RESIDENT, *STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int, committee_id: int) -> Applicant:
        """Apply for a seat (residents), or enter a paper application (staff). Needs consent."""
        return services.do_apply(
            db_session(),
            current_tenant(),
            cycle_id,
            committee_id,
            actor=actor(),
            on_behalf=holds_tenant_role(*STAFF),
            **fields,
        )


@blp.route(f"{COMMITTEE}/lottery")
class Lottery(MethodView):
    @blp.response(200, LotterySchema)
    def get(self, cycle_id: int, committee_id: int) -> dict[str, Any]:
        """The published record of the draw: seed, applicant snapshot and hash, seats, shortfalls."""
        return services.published_lottery(services.committee_or_404(db_session(), cycle_id, committee_id))

    @blp.doc(**SECURED)
    @blp.arguments(DrawRequestSchema)
    @blp.response(201, LotterySchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int, committee_id: int) -> dict[str, Any]:
        """Draw the members (once) with the published seed; shortfalls are in the answer."""
        committee = services.do_draw(
            db_session(), current_tenant(), cycle_id, committee_id, seed=fields["seed"], actor=actor()
        )
        return committee.lottery or {}


@blp.route(f"{COMMITTEE}/lottery/verify")
class LotteryVerify(MethodView):
    @blp.arguments(VerifyRequestSchema)
    @blp.response(200, VerifySchema)
    def post(self, fields: dict[str, Any], cycle_id: int, committee_id: int) -> dict[str, Any]:
        """Re-run the draw (public): with the published seed and snapshot, or with others given."""
        session = db_session()
        committee = services.committee_or_404(session, cycle_id, committee_id)
        return services.verify_draw(session, committee, seed=fields["seed"], entries=fields["applicants"])


@blp.route(f"{COMMITTEE}/members")
class Members(MethodView):
    @blp.response(200, PublicMemberSchema(many=True))
    def get(self, cycle_id: int, committee_id: int) -> list[CommitteeMember]:
        """Who sits on the committee (public; no demographics)."""
        session = db_session()
        return services.active_members(session, services.committee_or_404(session, cycle_id, committee_id))

    @blp.doc(**SECURED)
    @blp.arguments(AppointSchema)
    @blp.response(201, RosterMemberSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int, committee_id: int) -> CommitteeMember:
        """Appoint a member, or fill a reserved seat the draw left empty."""
        return services.do_appoint_member(
            db_session(), current_tenant(), cycle_id, committee_id, actor=actor(), **fields
        )


@blp.route(f"{COMMITTEE}/members/roster")
class Roster(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, RosterMemberSchema(many=True))
    @require_tenant_role(*STAFF)
    def get(self, cycle_id: int, committee_id: int) -> list[CommitteeMember]:
        """Active members with consent records and demographics (staff)."""
        session = db_session()
        return services.active_members(session, services.committee_or_404(session, cycle_id, committee_id))


@blp.route(f"{COMMITTEE}/members/<id:member_id>")
class MemberDetail(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(MemberUpdateSchema)
    @blp.response(200, RosterMemberSchema)
    @require_tenant_role(*STAFF)
    def patch(
        self, changes: dict[str, Any], cycle_id: int, committee_id: int, member_id: int
    ) -> CommitteeMember:
        """Give a role (chair, secretary, ...), link a credential, record leaving, or withdraw consent."""
        return services.do_update_member(
            db_session(), current_tenant(), cycle_id, committee_id, member_id, actor=actor(), **changes
        )


@blp.route(f"{COMMITTEE}/representativeness")
class Representativeness(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, RepresentativenessSchema)
    @require_tenant_role(*STAFF, Role.COMMITTEE_MEMBER)
    def get(self, cycle_id: int, committee_id: int) -> dict[str, Any]:
        """Members against the official population by age band and sex, as chart-ready numbers.
        Not public: with names public, small cells could tell a member's age."""
        return committee_report(db_session(), current_tenant(), cycle_id, committee_id)


@blp.route(f"{COMMITTEE}/meetings")
class Meetings(MethodView):
    @blp.response(200, MeetingSchema(many=True))
    def get(self, cycle_id: int, committee_id: int) -> list[Meeting]:
        """The committee's meetings with agenda, attendance, minutes and decisions (public)."""
        return meetings.meetings(db_session(), cycle_id, committee_id)

    @blp.doc(**SECURED)
    @blp.arguments(MeetingCreateSchema)
    @blp.response(201, MeetingSchema)
    @require_tenant_role(*STAFF)
    def post(self, fields: dict[str, Any], cycle_id: int, committee_id: int) -> Meeting:
        """Schedule a meeting with its agenda."""
        return meetings.do_schedule_meeting(
            db_session(), current_tenant(), cycle_id, committee_id, actor=actor(), **fields
        )


@blp.route(f"{COMMITTEE}/meetings/<id:meeting_id>")
class MeetingDetail(MethodView):
    @blp.response(200, MeetingSchema)
    def get(self, cycle_id: int, committee_id: int, meeting_id: int) -> Meeting:
        """One meeting (public)."""
        return meetings.meeting_or_404(db_session(), cycle_id, committee_id, meeting_id)

    @blp.doc(**SECURED)
    @blp.arguments(MeetingUpdateSchema)
    @blp.response(200, MeetingSchema)
    @require_tenant_role(*STAFF)
    def patch(self, changes: dict[str, Any], cycle_id: int, committee_id: int, meeting_id: int) -> Meeting:
        """Change date, place or agenda; record minutes and decisions."""
        return meetings.do_update_meeting(
            db_session(), current_tenant(), cycle_id, committee_id, meeting_id, actor=actor(), **changes
        )


@blp.route(f"{COMMITTEE}/meetings/<id:meeting_id>/attendance")
class Attendance(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(AttendanceSchema)
    @blp.response(200, MeetingSchema)
    @require_tenant_role(*STAFF, Role.COMMITTEE_MEMBER)
    def post(self, fields: dict[str, Any], cycle_id: int, committee_id: int, meeting_id: int) -> Meeting:
        """Record attendance: a member their own, staff anyone's (member_id)."""
        try:
            return meetings.do_record_attendance(
                db_session(),
                current_tenant(),
                cycle_id,
                committee_id,
                meeting_id,
                actor=actor(),
                as_staff=holds_tenant_role(*STAFF),
                **fields,
            )
        except meetings.NotAMember:
            abort(403, message=NOT_A_MEMBER)


@blp.route(f"{COMMITTEE}/scores")
class CommitteeScores(MethodView):
    @blp.response(200, ProjectScoreSchema(many=True))
    def get(self, cycle_id: int, committee_id: int) -> list[dict[str, Any]]:
        """Each project of the cycle: how many members scored it and the mean (public; no
        individual scores)."""
        return scores.project_scores(db_session(), cycle_id, committee_id)


@blp.route(f"{COMMITTEE}/scores/<id:project_id>")
class ProjectScore(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(ScoreInputSchema)
    @blp.response(200, ScoreReceiptSchema)
    @require_tenant_role(Role.COMMITTEE_MEMBER)
    def put(self, fields: dict[str, Any], cycle_id: int, committee_id: int, project_id: int) -> Score:
        """Score a project 0–100 as the member this credential speaks for (until voting opens)."""
        try:
            return scores.do_score(
                db_session(), current_tenant(), cycle_id, committee_id, project_id, actor=actor(), **fields
            )
        except meetings.NotAMember:
            abort(403, message=NOT_A_MEMBER)
