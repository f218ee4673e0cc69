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
