"""Demo data for `chamyeo up`: a ministry admin, an auditor and two municipalities,
provisioned through the real job path, each with a past cycle (results published, projects
in execution) and a cycle in voting (`saas.dev.demo_portals`). Seeded once; re-running only
fills what is missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from saas.core.accounts.models import Role
from saas.core.queue import Queues
from saas.core.settings import Settings

# slug, region code, template: two real municipalities from the official list.
DEMO_TENANTS = (
    ("gangnam", "11680", "citywide"),  # 서울특별시 강남구
    ("suwon", "41110", "neighbourhood"),  # 경기도 수원시
)
TENANT_ROLES = (Role.TENANT_ADMIN, Role.STAFF, Role.OFFICER, Role.COMMITTEE_MEMBER, Role.RESIDENT)


def seed_demo(engine: Engine, queues: Queues, settings: Settings, *, echo: Callable[[str], None]) -> Path:
    """Make sure the demo tenants exist and every demo role has a working token; write the
    tokens to `<home>/demo-credentials.json` (development only) and return its path."""
    from provisioning.lifecycle import do_register_tenant
    from saas.control.billing import gateway
    from saas.core.accounts.tokens import create_token, token_for_secret
    from saas.core.registry.models import Tenant, TenantStatus
    from saas.core.tenancy.binding import session_without_tenant
    from saas.dev.demo_billing import seed_billing, subscribe_unbilled
    from saas.dev.demo_portals import seed_demo_portals

    path = settings.home.resolve() / "demo-credentials.json"
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    with session_without_tenant(engine) as session:
        billing = gateway.from_settings(settings)
        if billing is not None:  # before provisioning: its open_billing step subscribes them
            seed_billing(session, billing, echo)
        for slug, region, template in DEMO_TENANTS:
            if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is None:
                do_register_tenant(
                    session,
                    slug=slug,
                    region_code=region,
                    template=template,
                    admin_email=f"admin@{slug}.example.kr",
                    queue=queues.get("provisioning"),
                    platform_domain=settings.platform_domain,
                    actor="demo",
                )
                echo(f"demo: provisioning t_{slug} ({region}, template {template})")
        _wait_for_tenants(engine, [slug for slug, _, _ in DEMO_TENANTS], echo)
        if billing is not None:
            subscribe_unbilled(session, billing, [slug for slug, _, _ in DEMO_TENANTS])
        seed_demo_portals(engine, settings, [slug for slug, _, _ in DEMO_TENANTS], echo=echo)

        wanted: list[tuple[str, Role, int | None]] = [
            ("ministry_admin", Role.MINISTRY_ADMIN, None),
            ("auditor", Role.AUDITOR, None),
        ]
        for slug, _, _ in DEMO_TENANTS:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
            wanted += [(f"{slug}/{role.value}", role, tenant_id) for role in TENANT_ROLES]
        for name, role, tenant_id in wanted:
            secret = known.get(name)
            if secret is None or token_for_secret(session.connection(), secret) is None:
                _, known[name] = create_token(
                    session, name=f"demo {name}", role=role, tenant_id=tenant_id, actor="demo"
                )
        statuses = dict(session.execute(select(Tenant.slug, Tenant.status)).all())
        if settings.environment == "development":
            from saas.dev.idp_registration import register_development_idps

            register_development_idps(session, settings, [slug for slug, _, _ in DEMO_TENANTS])
    for slug, status in statuses.items():
        if status != TenantStatus.ACTIVE:
            echo(f"demo: t_{slug} is {status.value}; see `chamyeo tenants show {slug}`")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
    path.chmod(0o600)
    return path


def _wait_for_tenants(
    engine: Engine, slugs: list[str], echo: Callable[[str], None], timeout: float = 120
) -> None:
    from provisioning.lifecycle import wait_until_settled

    pending = sorted(set(slugs) - set(wait_until_settled(engine, slugs, timeout=timeout)))
    if pending:
        echo(f"demo: still provisioning after {timeout:.0f} s: {', '.join(pending)}")
