"""The invitation page (/t/<slug>/invitations/<code>): what an invitation to a portal's staff
offers, and accepting it, signed in as the invited person."""

from __future__ import annotations

from werkzeug.wrappers import Response

from saas.core.auth import current_principal
from saas.core.refusals import Refusal
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.web.i18n import _
from saas.core.web.pages import (
    flash_ok,
    page_blueprint,
    redirect_after_post,
    refused,
    render_page,
    sign_in_required,
    sign_in_url,
)
from tenants.people import services

bp = page_blueprint("people_pages", __name__, url_prefix="/invitations")
CODE = "/<string(maxlength=100):code>"


def _page(code: str) -> dict[str, object]:
    return {
        "invitation": services.describe_invitation(db_session(), code),
        "code": code,
        "sign_in": sign_in_url(f"/invitations/{code}"),
    }


@bp.get(CODE)
def invitation(code: str) -> str:
    return render_page("people/invitation.html", **_page(code))


@bp.post(CODE)
@sign_in_required
def accept(code: str) -> Response | tuple[str, int]:
    principal = current_principal()
    assert principal is not None and principal.account_id is not None  # sign_in_required
    session = db_session()
    try:
        services.do_accept_invitation(
            session,
            current_tenant(),
            code,
            account_id=principal.account_id,
            account_email=services.email_of_account(session, principal.account_id),
            actor=principal.actor,
        )
    except Refusal as refusal:
        session.rollback()
        return refused(refusal, "people/invitation.html", **_page(code))
    flash_ok(_("Welcome: you now work on this portal."))
    return redirect_after_post("portal_pages.home")
