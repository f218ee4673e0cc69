"""Public portal information and its pages."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import select

from saas.core.accounts.models import Role
from saas.core.auth import actor, require_tenant_role
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.tenancy.web import tenant_blueprint
from tenants.portal import services
from tenants.portal.models import Category, District, Page
from tenants.portal.schemas import BrandingSchema, CategorySchema, DistrictSchema, PageSchema, PortalSchema

blp = tenant_blueprint("portal", __name__, description="A municipality's portal: identity, districts, pages.")

PAGE_KEY = "<string:key>"


@blp.route("/portal")
class Portal(MethodView):
    @blp.response(200, PortalSchema)
    def get(self) -> dict[str, Any]:
        """The portal's name, branding and languages (public)."""
        tenant = current_tenant()
        return {
            "slug": tenant.slug,
            "name": tenant.name,
            "name_en": tenant.name_en,
            "template": tenant.template_name,
            "template_version": tenant.template_version,
            "branding": tenant.branding,
            "languages": services.setting(db_session(), "languages", ["ko", "en"]),
        }


@blp.route("/portal/branding")
class Branding(MethodView):
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(BrandingSchema)
    @blp.response(200, BrandingSchema)
    @require_tenant_role(Role.TENANT_ADMIN)
    def put(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Replace the portal's branding (municipal admins). Colours whose contrast is below
        WCAG AA (4.5:1) are refused with 422 naming the failing pair."""
        return services.do_save_branding(db_session(), current_tenant(), fields, actor=actor())


@blp.route("/districts")
class Districts(MethodView):
    @blp.response(200, DistrictSchema(many=True))
    def get(self) -> list[District]:
        """The municipality's administrative dongs, eups and myeons (public)."""
        return list(db_session().scalars(select(District).order_by(District.code)))


@blp.route("/categories")
class Categories(MethodView):
    @blp.response(200, CategorySchema(many=True))
    def get(self) -> list[Category]:
        """Proposal categories (public)."""
        return list(db_session().scalars(select(Category).order_by(Category.position, Category.key)))


@blp.route("/pages")
class Pages(MethodView):
    @blp.response(200, PageSchema(many=True))
    def get(self) -> list[Page]:
        """Every page of the portal (public)."""
        return list(db_session().scalars(select(Page).order_by(Page.key)))


@blp.route(f"/pages/{PAGE_KEY}")
class PageDetail(MethodView):
    @blp.response(200, PageSchema)
    def get(self, key: str) -> Page:
        """One page (public)."""
        page = services.page_by_key(db_session(), key)
        if page is None:
            abort(404, message=f"There is no page {key!r}.")
        return page

    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(PageSchema)
    @blp.response(200, PageSchema)
    @require_tenant_role(Role.TENANT_ADMIN, Role.STAFF)
    def put(self, fields: dict[str, str], key: str) -> Page:
        """Create or replace a page (municipal admins and staff)."""
        return services.do_save_page(db_session(), current_tenant(), key, fields, actor=actor())
