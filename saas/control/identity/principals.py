"""The signed-in person behind a request, as the platform core's `Principal`.

The core asks the app for it (`saas.core.auth.register_person_loader`); `init_app` registers
`person_principal` there. At a portal, the portal's session cookie names the person and their
roles in that tenant (and they are residents there); on the hub's host, the hub session names
their platform-wide roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import g, request
from sqlalchemy import select

from saas.control.identity.models import PortalSession
from saas.control.identity.sessions import (
    HUB_COOKIE,
    PORTAL_COOKIE,
    hub_session_for_cookie,
    portal_session_for_cookie,
    voucher_of,
)
from saas.core.accounts.models import Role, RoleGrant
from saas.core.auth import Principal, register_person_loader
from saas.core.tenancy.context import db_session

if TYPE_CHECKING:
    from flask import Flask


def portal_session_of_request(tenant_id: int) -> PortalSession | None:
    """The live portal session of this request's cookie at the portal of `tenant_id`."""
    return portal_session_for_cookie(db_session(), tenant_id, request.cookies.get(PORTAL_COOKIE))


def person_principal() -> Principal | None:
    """The person signed in at this request's portal (or, on the hub's host, at the hub);
    None when no live session names one."""
    tenant = g.get("tenant")
    session = db_session()
    if tenant is not None:
        portal = portal_session_of_request(tenant.id)
        if portal is None:
            return None
        account_id, tenant_id, acr, hub_sid = portal.account_id, tenant.id, portal.acr, portal.hub_sid
    else:
        hub = hub_session_for_cookie(session, request.cookies.get(HUB_COOKIE))
        if hub is None:
            return None
        account_id, tenant_id, acr, hub_sid = hub.account_id, None, hub.acr, hub.sid
    voucher = voucher_of(session, hub_sid)
    grants = session.scalars(
        select(RoleGrant.role).where(
            RoleGrant.account_id == account_id,
            RoleGrant.tenant_id.is_(None) if tenant_id is None else RoleGrant.tenant_id == tenant_id,
        )
    ).all()
    roles = set(grants) | ({Role.RESIDENT} if tenant_id is not None else set())
    return Principal(
        f"account:{account_id}",
        f"account {account_id}",
        frozenset(roles),
        tenant_id,
        acr,
        issuer=voucher.issuer if voucher else None,
        national_identity=(voucher.issuer, voucher.subject) if voucher and voucher.national else None,
        account_id=account_id,
    )


def init_app(app: Flask) -> None:
    register_person_loader(app, person_principal)
