"""The steps that turn a registered tenant into a serving portal.

Each step runs in one transaction that also marks the step done, so a step is applied
exactly once however often the job is retried, and a crash mid-step rolls the step back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from migrations.runner import create_tenant_schema_in_transaction, head_statements
from provisioning.templates import get_template
from saas import regions
from saas.core import clock
from saas.core.audit import services as audit
from saas.core.registry.models import Tenant, TenantStatus
from saas.core.tenancy.slugs import schema_for
from tenants.people.models import Member
from tenants.portal.models import Category, District, Page, PhasePlan, PortalSetting


@dataclass(frozen=True)
class StepContext:
    engine: Engine
    slug: str
    tenant_id: int


def create_schema(ctx: StepContext, session: Session) -> None:
    """Create `t_<slug>` at the tenant head by replaying the captured head DDL."""
    revision, statements = head_statements(ctx.engine)
    connection = session.connection()
    exists = connection.scalar(text("SELECT to_regnamespace(:s)"), {"s": schema_for(ctx.slug)})
    if exists is None:
        create_tenant_schema_in_transaction(connection, ctx.slug, statements)
    session.execute(update(Tenant).where(Tenant.id == ctx.tenant_id).values(schema_revision=revision))


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], key: str) -> int:
    """Insert the rows whose key is new; returns how many were inserted."""
    if not rows:
        return 0
    result = session.execute(
        insert(model).values(rows).on_conflict_do_nothing(index_elements=[key]).returning(getattr(model, key))
    )
    return len(result.all())


def apply_template(ctx: StepContext, session: Session) -> None:
    """Copy the template's phases, categories, pages and settings and the official list of
    the municipality's dongs into the tenant schema (existing rows are kept)."""
    tenant = session.get(Tenant, ctx.tenant_id)
    assert tenant is not None
    template = get_template(tenant.template_name, tenant.template_version)
    write_template(session, tenant, template.data, template.version, replace_settings=False)


def write_template(
    session: Session, tenant: Tenant, data: dict[str, Any], version: int, *, replace_settings: bool
) -> dict[str, int]:
    """Write template `data` into the tenant schema `session` is bound to. Rows the tenant
    already has (same key) are kept, since its admins may have edited them; portal settings
    are overwritten when `replace_settings` (a template upgrade). Returns rows added per kind."""
    added: dict[str, int] = {}
    added["phases"] = _upsert(
        session,
        PhasePlan,
        [
            {
                "key": p["key"],
                "position": i,
                "name_ko": p["name"]["ko"],
                "name_en": p["name"]["en"],
                "default_days": p["days"],
            }
            for i, p in enumerate(data["phases"])
        ],
        "key",
    )
    added["categories"] = _upsert(
        session,
        Category,
        [
            {"key": c["key"], "name_ko": c["name"]["ko"], "name_en": c["name"]["en"], "position": i}
            for i, c in enumerate(data["categories"])
        ],
        "key",
    )
    added["pages"] = _upsert(
        session,
        Page,
        [
            {
                "key": p["key"],
                "title_ko": p["title"]["ko"],
                "title_en": p["title"]["en"],
                "body_ko": p["body"]["ko"],
                "body_en": p["body"]["en"],
            }
            for p in data["pages"]
        ],
        "key",
    )
    added["districts"] = _upsert(
        session,
        District,
        [
            {"code": d.adm_code10, "name_ko": d.name_ko, "name_en": d.name_en, "kind": d.emd_type}
            for d in regions.dongs(tenant.region_code)
        ],
        "code",
    )
    settings = {
        "template": {"name": tenant.template_name, "version": version},
        "languages": data["languages"],
        "default_language": data["default_language"],
        "envelopes": data["envelopes"],
        "ballot": data["ballot"],
        "eligibility": data["eligibility"],
        "channels": data["channels"],
        "committees": data["committees"],
        "notifications": data["notifications"],
    }
    rows = [{"key": k, "value": v} for k, v in settings.items()]
    if replace_settings:
        statement = insert(PortalSetting).values(rows)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["key"], set_={"value": statement.excluded.value, "updated_at": clock.now()}
            )
        )
        added["settings"] = len(rows)
    else:
        added["settings"] = _upsert(session, PortalSetting, rows, "key")
    return added


def invite_admin(ctx: StepContext, session: Session) -> None:
    """Invite the municipal admin named at creation (once). The code made here is shown to no
    one: the ministry hands the person a code of their own with POST
    /api/v1/tenants/{slug}/invitation, which replaces it."""
    tenant = session.get(Tenant, ctx.tenant_id)
    assert tenant is not None
    if not tenant.admin_email:
        return
    if session.scalar(select(Member.id).where(Member.email == tenant.admin_email)) is not None:
        return
    code = secrets.token_urlsafe(24)
    session.add(
        Member(
            email=tenant.admin_email,
            display_name=tenant.admin_email,
            role="tenant_admin",
            invitation_hash=hashlib.sha256(code.encode()).hexdigest(),
        )
    )
    session.flush()
    audit.record(
        session,
        actor="system",
        action="member.invite",
        tenant_slug=ctx.slug,
        target=f"member:{tenant.admin_email}",
        data={"role": "tenant_admin"},
    )


def open_billing(ctx: StepContext, session: Session) -> None:
    """Subscribe the tenant to the default plan through Stripe (see `saas.control.billing`)."""
    from saas.control.billing import gateway
    from saas.control.billing.services.subscriptions import open_billing as subscribe

    subscribe(session, gateway.current, ctx.tenant_id)


def activate(ctx: StepContext, session: Session) -> None:
    session.execute(
        update(Tenant)
        .where(Tenant.id == ctx.tenant_id)
        .values(status=TenantStatus.ACTIVE, current_step=None, last_error=None)
    )
    audit.record(session, actor="system", action="tenant.activate", tenant_slug=ctx.slug)


Step = Callable[[StepContext, Session], None]

# In order; "activate" stays last, since it is what makes the portal serve.
STEPS: tuple[tuple[str, Step], ...] = (
    ("create_schema", create_schema),
    ("apply_template", apply_template),
    ("invite_admin", invite_admin),
    ("open_billing", open_billing),
    ("activate", activate),
)
STEP_NAMES = tuple(name for name, _ in STEPS)
