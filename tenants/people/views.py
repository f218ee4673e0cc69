"""The portal's staff: list and invite (municipal admins)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from saas.core.accounts.models import Account, Role
from saas.core.auth import actor, current_principal, require_tenant_role
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.people import services
from tenants.people.models import Member
from tenants.people.schemas import InvitationSchema, InvitationViewSchema, MemberSchema

blp = tenant_blueprint("people", __name__, url_prefix="/members", description="Municipal staff of a portal.")


@blp.route("")
class Members(MethodView):
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, MemberSchema(many=True))
    @require_tenant_role(Role.TENANT_ADMIN)
    def get(self) -> list[Member]:
        """Everyone with a role in this portal."""
        return list(db_session().scalars(select(Member).order_by(Member.email)))

    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(MemberSchema)
    @blp.response(201, InvitationSchema)
    @require_tenant_role(Role.TENANT_ADMIN)
    def post(self, fields: dict[str, Any]) -> Member:
        """Invite a person; the answer carries the invitation code, shown only this once."""
        try:
            member, code = services.do_invite_member(db_session(), current_tenant(), actor=actor(), **fields)
        except services.AlreadyMember:
            abort(409, message=f"{fields['email']} is already a member of this portal.")
        member.invitation_code = code  # type: ignore[attr-defined]  # in this answer only
        return member


@blp.route("/<id:member_id>")
class MemberDetail(MethodView):
    @blp.doc(security=[{"bearer": []}])
    @blp.response(200, MemberSchema)
    @require_tenant_role(Role.TENANT_ADMIN)
    def get(self, member_id: int) -> Member:
        """One member."""
        member = db_session().get(Member, member_id)
        if member is None:
            abort(404, message="There is no such member.")
        return member


invitations = tenant_blueprint(
    "invitations",
    __name__,
    url_prefix="/invitations",
    description="Accepting an invitation to a portal's staff (the municipal admin's, made at provisioning, "
    "or one a tenant admin sent).",
)
CODE = "/<string(maxlength=100):code>"


def _sign_in_url(code: str) -> str:
    return f"/t/{current_tenant().slug}/auth/login?next=/api/v1/invitations/{code}"


@invitations.route(CODE)
class Invitation(MethodView):
    @invitations.response(200, InvitationViewSchema)
    def get(self, code: str) -> dict[str, Any]:
        """What the invitation offers, to whoever holds its code (the code is the secret)."""
        return {**services.describe_invitation(db_session(), code), "sign_in_url": _sign_in_url(code)}


@invitations.route(f"{CODE}/accept")
class AcceptInvitation(MethodView):
    @invitations.response(200, MemberSchema)
    def post(self, code: str) -> Member:
        """Accept the invitation, signed in at this portal (through the hub) as the invited
        person: the account then holds the invitation's role here. Once; 410 when expired."""
        principal = current_principal()
        if principal is None or principal.account_id is None or not principal.actor.startswith("account:"):
            abort(
                401,
                message=f"Sign in at this portal as the invited person first: {_sign_in_url(code)}",
            )
        email = db_session().scalar(select(Account.email).where(Account.id == principal.account_id))
        return services.do_accept_invitation(
            db_session(),
            current_tenant(),
            code,
            account_id=principal.account_id,
            account_email=email,
            actor=principal.actor,
        )
