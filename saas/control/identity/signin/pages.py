"""A portal's own sign-in and sign-out pages (/t/<slug>/signin, /t/<slug>/signout), branded
with the municipality's look, over the portal's OpenID sign-in at /t/<slug>/auth/...

The sign-in page names the identity providers this portal offers; signing in goes through
/t/<slug>/auth/login (the portal's sign-in through the hub), which comes back to `next`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from saas.control.identity.signin.services import offered_providers
from saas.core.settings import current_settings
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.web.pages import page_blueprint, render_page, signed_in

bp = page_blueprint("identity_pages", __name__)


def _safe_next(value: object) -> str:
    """A path of this portal (never another site): `/`, `/proposals/new`, ..."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:2000]
    return "/"


@bp.get("/signin")
def signin() -> str:
    tenant = current_tenant()
    return_to = _safe_next(request.args.get("next"))
    providers = offered_providers(db_session(), current_settings(), tenant.id)
    login_url = f"/t/{tenant.slug}/auth/login?{urlencode({'next': return_to})}"
    return render_page(
        "identity/signin.html",
        providers=providers,
        login_url=login_url,
        return_to=return_to,
        already=signed_in() is not None,
    )


@bp.post("/signout")
def signout() -> WerkzeugResponse:
    # The CSRF check ran before this view (page_blueprint); the portal's logout then ends the
    # portal's session and asks the hub to end the rest.
    return redirect(f"/t/{current_tenant().slug}/auth/logout", code=303)
