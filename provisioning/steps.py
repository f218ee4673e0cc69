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

from provisioning.templates import get_template
from saas import regions
from saas.audit import services as audit
from saas.registry.models import Tenant, TenantStatus
from saas.schema.migrate import create_tenant_schema_in_transaction, head_statements
from saas.tenancy.slugs import schema_for
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


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], key: str) -> None:
    if rows:
        session.execute(insert(model).values(rows).on_conflict_do_nothing(index_elements=[key]))


def apply_template(ctx: StepContext, session: Session) -> None:
    """Copy the template's phases, categories, pages and settings and the official list of
    the municipality's dongs into the tenant schema (existing rows are kept)."""
    tenant = session.get(Tenant, ctx.tenant_id)
    assert tenant is not None
    data = get_template(tenant.template_name, tenant.template_version).data
    _upsert(
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
    _upsert(
        session,
        Category,
        [
            {"key": c["key"], "name_ko": c["name"]["ko"], "name_en": c["name"]["en"], "position": i}
            for i, c in enumerate(data["categories"])
        ],
        "key",
    )
    _upsert(
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
    _upsert(
        session,
        District,
        [
            {"code": d.adm_code10, "name_ko": d.name_ko, "name_en": None, "kind": d.emd_type}
            for d in regions.dongs(tenant.region_code)
        ],
        "code",
    )
    settings = {
        "template": {"name": tenant.template_name, "version": tenant.template_version},
        "languages": data["languages"],
        "default_language": data["default_language"],
        "envelopes": data["envelopes"],
        "ballot": data["ballot"],
        "eligibility": data["eligibility"],
        "channels": data["channels"],
        "committees": data["committees"],
        "notifications": data["notifications"],
    }
    _upsert(session, PortalSetting, [{"key": k, "value": v} for k, v in settings.items()], "key")


def invite_admin(ctx: StepContext, session: Session) -> None:
    """Invite the municipal admin named at creation (once)."""
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


def activate(ctx: StepContext, session: Session) -> None:
    session.execute(
        update(Tenant)
        .where(Tenant.id == ctx.tenant_id)
        .values(status=TenantStatus.ACTIVE, current_step=None, last_error=None)
    )
    audit.record(session, actor="system", action="tenant.activate", tenant_slug=ctx.slug)


Step = Callable[[StepContext, Session], None]

# In order. Later issues insert "register_federation" and "open_billing" before "activate".
STEPS: tuple[tuple[str, Step], ...] = (
    ("create_schema", create_schema),
    ("apply_template", apply_template),
    ("invite_admin", invite_admin),
    ("activate", activate),
)
STEP_NAMES = tuple(name for name, _ in STEPS)
