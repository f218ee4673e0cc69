"""Billing for the demo of `chamyeo up`: a default plan and subsidy programs for the current
fiscal year and the next, so that the demo municipalities subscribe (and are subsidised) while they are
provisioned, through the real `open_billing` step."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.control.billing.gateway import StripeGateway
from saas.control.billing.models import Plan, Subscription, SubsidyProgram
from saas.control.billing.services import programs, subscriptions
from saas.core import clock
from saas.core.registry.models import Tenant, TenantStatus
from saas.core.settings import Settings

DEMO_PLAN: dict[str, Any] = {
    "code": "demo-basic",
    "name": "참여 포털 기본 (demo)",
    "amount": 1_200_000,
    "interval": "month",
}
# Rates by fiscal independence (재정자립도): the poorer the municipality, the larger the share.
DEMO_TIERS = [
    {"tier": "low", "rate_bp": 7000, "min_pct": 0, "max_pct": 20},
    {"tier": "middle", "rate_bp": 5000, "min_pct": 20, "max_pct": 40},
    {"tier": "high", "rate_bp": 3000, "min_pct": 40, "max_pct": 101},
]


def seed_billing(session: Session, gateway: StripeGateway, echo: Callable[[str], None]) -> None:
    """Before the demo tenants are provisioned: a default plan, this year's program and the next."""
    if session.scalar(select(Plan.id).where(Plan.is_default.is_(True))) is None:
        subscriptions.do_create_plan(session, gateway, is_default=True, actor="demo", **DEMO_PLAN)
        echo(f"demo: default plan {DEMO_PLAN['code']} ({DEMO_PLAN['amount']} won a month)")
    # This year's program and the next: a monthly renewal prepared in December serves January.
    this_year = clock.today().year
    for year in (this_year, this_year + 1):
        if session.scalar(select(SubsidyProgram.id).where(SubsidyProgram.fiscal_year == year)) is not None:
            continue
        programs.do_create_program(
            session,
            code=f"pb-platform-{year}",
            name=f"{year} 주민참여예산 플랫폼 지원",
            fiscal_year=year,
            budget=50_000_000,
            tiers=DEMO_TIERS,
            eligibility={"basic_local_gov_only": True},
            actor="demo",
        )
        echo(f"demo: subsidy program pb-platform-{year}")


def subscribe_unbilled(session: Session, gateway: StripeGateway, slugs: list[str]) -> None:
    """Demo tenants provisioned before billing existed get the same step now."""
    unbilled = session.scalars(
        select(Tenant.id).where(
            Tenant.slug.in_(slugs),
            Tenant.status == TenantStatus.ACTIVE,
            ~select(Subscription.id).where(Subscription.tenant_id == Tenant.id).exists(),
        )
    ).all()
    for tenant_id in unbilled:
        subscriptions.open_billing(session, lambda: gateway, tenant_id)
        session.commit()


def start_fake_stripe(settings: Settings, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Settings]:
    """`chamyeo up` without STRIPE_API_KEY: our FAKE Stripe as a child process on a free
    loopback port, delivering signed webhooks to this platform. Returns the process and the
    settings pointing at it (a test key, the fake's URL, a webhook secret of this run)."""
    from saas.control.billing.gateway import FAKE_API_KEY
    from saas.dev.stripe_fake.server import start_process

    secret = f"whsec_demo_{secrets.token_hex(16)}"
    process, url = start_process(
        webhook_url=f"{settings.base_url}/billing/stripe/webhook",
        webhook_secret=secret,
        state=settings.home.resolve() / "stripe-fake.json",
        env=env,
    )
    return process, replace(
        settings, stripe_api_key=FAKE_API_KEY, stripe_api_base=url, stripe_webhook_secret=secret
    )
