"""The portal's home page (/t/<slug>/, and / on the tenant's own hosts)."""

from __future__ import annotations

from saas.core.tenancy.context import db_session
from saas.core.web.pages import page_blueprint, render_page
from tenants.portal.home import home_of_portal

bp = page_blueprint("portal_pages", __name__)


@bp.get("/")
def home() -> str:
    return render_page("portal/home.html", home=home_of_portal(db_session()))
