"""Billing fixtures: our fake Stripe over real HTTP on a free port of 127.0.0.1, the gateway
pointed at it, a default plan and a subsidy program per test that needs one."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from saas.core import clock

WEBHOOK_SECRET = "whsec_test_chamyeo"
LIVE_KEY_PREFIXES = ("sk_test_", "rk_test_")


def pytest_collection_modifyitems(config, items):
    """`stripe_live` tests reach Stripe test mode over the network: only with a test-mode key
    in STRIPE_API_KEY, never by default, never with a live key (or the fake's key)."""
    from saas.control.billing.gateway import FAKE_API_KEY

    key = os.environ.get("STRIPE_API_KEY", "")
    if key.startswith(LIVE_KEY_PREFIXES) and key != FAKE_API_KEY:
        return
    reason = (
        "stripe_live: set STRIPE_API_KEY to a Stripe test-mode key (sk_test_...) to run against Stripe"
        if not key or key == FAKE_API_KEY
        else "stripe_live: STRIPE_API_KEY is not a test-mode key; refusing to run against live Stripe"
    )
    for item in items:
        if "stripe_live" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
_codes = itertools.count(1)


@pytest.fixture(scope="session")
def stripe_fake(app):
    from saas.control.billing import gateway
    from saas.dev.stripe_fake import FakeStripe
    from saas.dev.stripe_fake.server import start_in_thread

    running = start_in_thread(FakeStripe(webhook_secret=WEBHOOK_SECRET, deliver="manual"))
    # Left in place to the end of the session: tenants provisioned later may subscribe. The
    # app's (its requests) and this process's (jobs and commands run here).
    fake_gateway = gateway.StripeGateway(gateway.FAKE_API_KEY, running.url)
    gateway.use(fake_gateway, app)
    gateway.use(fake_gateway)
    yield running
    gateway.use(None, app)
    gateway.use(None)
    running.stop()


@pytest.fixture
def stripe_gateway(stripe_fake):
    from saas.control.billing import gateway

    return gateway.current()


@pytest.fixture
def db_session(engine) -> Iterator:
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        yield session


@pytest.fixture
def webhook_app(app, monkeypatch):
    """The app with a webhook secret (the session's settings have none)."""
    monkeypatch.setitem(
        app.config,
        "CHAMYEO_SETTINGS",
        replace(app.config["CHAMYEO_SETTINGS"], stripe_webhook_secret=WEBHOOK_SECRET),
    )
    return app


@pytest.fixture
def default_plan(engine, stripe_gateway):
    """A default plan while the test runs (new tenants subscribe to it), none afterwards."""
    from sqlalchemy import update

    from saas.control.billing.models import Plan
    from saas.control.billing.services.subscriptions import do_create_plan
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        plan = do_create_plan(
            session,
            stripe_gateway,
            code=f"basic{next(_codes)}",
            name="Basic portal",
            amount=1_000_000,
            interval="month",
            is_default=True,
            actor="test",
        )
    yield plan
    with session_without_tenant(engine) as session:
        session.execute(update(Plan).where(Plan.id == plan.id).values(is_default=False))
        session.commit()


TIERS = [
    {"tier": "low", "rate_bp": 7000, "min_pct": 0, "max_pct": 20},
    {"tier": "middle", "rate_bp": 5000, "min_pct": 20, "max_pct": 40},
    {"tier": "high", "rate_bp": 3333, "min_pct": 40, "max_pct": 101},
]


@pytest.fixture
def make_program(engine):
    """A program of its own fiscal year per call: tests never share a budget."""
    from saas.control.billing.services.programs import do_create_program
    from saas.core.tenancy.binding import session_without_tenant

    years = itertools.count(2100 - 1)

    def make(budget: int, *, fiscal_year: int | None = None, tiers=TIERS, eligibility=None):
        with session_without_tenant(engine) as session:
            return do_create_program(
                session,
                code=f"p{next(_codes)}",
                name="지방 참여예산 플랫폼 지원",
                budget=budget,
                fiscal_year=fiscal_year or _free_year(session, years),
                tiers=tiers,
                eligibility=eligibility,
                actor="test",
            )

    return make


def _free_year(session, years) -> int:
    from sqlalchemy import select

    from saas.control.billing.models import SubsidyProgram

    taken = set(session.scalars(select(SubsidyProgram.fiscal_year)))
    for year in years:
        if year not in taken and year not in (clock.today().year, clock.today().year + 1):
            return year
    raise AssertionError("unreachable")


@pytest.fixture
def assign(engine):
    from saas.control.billing.services.programs import do_assign_tier
    from saas.core.tenancy.binding import session_without_tenant

    def run(program_id: int, tenant_id: int, valid_from: date, tier: str | None = None):
        with session_without_tenant(engine) as session:
            return do_assign_tier(
                session, program_id, tenant_id, valid_from=valid_from, tier=tier, actor="test"
            )

    return run


@dataclass(frozen=True)
class CurrentPrograms:
    """The subsidy programs of this fiscal year and the next, by year."""

    by_year: dict[int, Any]

    @property
    def this_year(self):
        return self.by_year[clock.today().year]

    def paying_the_renewal_of(self, gateway, subscription):
        """The program that pays the subscription's next period: that of the Korean calendar
        year in which the period starts (a renewal prepared in December serves January)."""
        remote = gateway.retrieve_subscription(subscription.stripe_subscription_id)
        start = clock.korean_date(datetime.fromtimestamp(remote["current_period_end"], UTC))
        return self.by_year[start.year]


@pytest.fixture
def current_programs(engine, make_program) -> CurrentPrograms:
    """This year's program and the next year's (shared between tests: the fake Stripe's clock
    is the platform's, so the years are those of the clock)."""
    from sqlalchemy import select

    from saas.control.billing.models import SubsidyProgram
    from saas.core.tenancy.binding import session_without_tenant

    by_year = {}
    for year in (clock.today().year, clock.today().year + 1):
        with session_without_tenant(engine) as session:
            found = session.scalar(select(SubsidyProgram).where(SubsidyProgram.fiscal_year == year))
        by_year[year] = found or make_program(
            10**9, fiscal_year=year, eligibility={"basic_local_gov_only": True}
        )
    return CurrentPrograms(by_year)


@pytest.fixture
def this_year_program(current_programs):
    """The program of the current fiscal year (the next year's exists too)."""
    return current_programs.this_year
