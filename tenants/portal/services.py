"""Actions on a portal's own content. Each owns its transaction and writes the audit event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.core.audit import services as audit
from saas.core.tenancy.context import TenantRef
from tenants.portal.models import Page, PortalSetting


def setting(session: Session, key: str, default: Any = None) -> Any:
    row = session.get(PortalSetting, key)
    return default if row is None else row.value


def page_by_key(session: Session, key: str) -> Page | None:
    return session.scalar(select(Page).where(Page.key == key))


def do_save_page(
    session: Session, tenant: TenantRef, key: str, fields: dict[str, str], *, actor: str
) -> Page:
    """Create or replace the page `key` of this portal."""
    page = page_by_key(session, key)
    created = page is None
    if page is None:
        page = Page(key=key, **fields)
        session.add(page)
    else:
        for name, value in fields.items():
            setattr(page, name, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="page.create" if created else "page.update",
        tenant_slug=tenant.slug,
        target=f"page:{key}",
        data={"title_ko": fields["title_ko"]},
    )
    session.commit()
    return page


def do_save_branding(
    session: Session, tenant: TenantRef, fields: dict[str, Any], *, actor: str
) -> dict[str, Any]:
    """Replace the portal's branding (name, logo, colours, default language), after checking
    that every colour pair the pages show reaches WCAG AA (4.5:1).

    Raises Invalid naming each failing pair ("text #777777 on background #ffffff: 4.48:1,
    needs 4.5:1"). Commits; the tenant lookups of every process forget the old branding."""
    from saas.core.refusals import Invalid
    from saas.core.registry.models import Tenant
    from saas.core.tenancy.context import forget_cached_tenants
    from saas.core.web.branding import contrast_failures

    failures = contrast_failures(fields)
    if failures:
        raise Invalid("; ".join(failures), {"branding": failures})
    row = session.get(Tenant, tenant.id)
    if row is None:  # pragma: no cover - the request entered this tenant
        raise RuntimeError("the request's tenant is gone")
    row.branding = dict(fields)
    audit.record(
        session,
        actor=actor,
        action="branding.update",
        tenant_slug=tenant.slug,
        target="branding",
        data=fields,
    )
    session.commit()
    forget_cached_tenants()
    return dict(row.branding)
