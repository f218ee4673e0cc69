"""The one poller of the CLI, the bulk onboarding and the demo: it returns each tenant once it
is active or failed (or deleted), sees what another connection commits while it waits, and
leaves out those still provisioning when its time is up."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import update

from provisioning.lifecycle import do_delete_tenant_irreversibly, do_register_tenant, wait_until_settled
from saas.core.registry.models import Tenant, TenantStatus
from saas.core.tenancy.binding import session_without_tenant


@pytest.fixture
def registered(engine, free_region):
    slugs = [f"wait{uuid.uuid4().hex[:8]}" for _ in range(3)]
    with session_without_tenant(engine) as session:
        for slug in slugs:
            do_register_tenant(
                session,
                slug=slug,
                region_code=free_region(),
                template="neighbourhood",
                platform_domain="chamyeo.test",
                actor="test",
            )
    yield slugs
    with session_without_tenant(engine) as session:
        for slug in slugs:
            do_delete_tenant_irreversibly(session, slug, confirm=slug, actor="test")


def _set(engine, slug: str, **values) -> None:
    with engine.begin() as connection:
        connection.execute(update(Tenant).where(Tenant.slug == slug).values(**values))


def test_active_failed_and_deleted_settle_and_a_provisioning_one_is_left_out(engine, registered):
    active, failed, waiting = registered
    _set(engine, active, status=TenantStatus.ACTIVE)
    _set(engine, failed, status=TenantStatus.FAILED, current_step="open_billing", last_error="no plan")
    seen = []
    started = time.monotonic()
    settled = wait_until_settled(
        engine, [*registered, "gone"], timeout=0.3, on_settled=seen.append, poll_seconds=0.05
    )
    assert 0.3 <= time.monotonic() - started < 5
    assert sorted(settled) == sorted([active, failed, "gone"])
    assert settled[active].status == TenantStatus.ACTIVE
    assert (settled[failed].status, settled[failed].step, settled[failed].error) == (
        TenantStatus.FAILED,
        "open_billing",
        "no plan",
    )
    assert settled["gone"].status is None  # deleted (or never there): nothing to wait for
    assert sorted(outcome.slug for outcome in seen) == sorted(settled)


def test_a_tenant_that_becomes_active_during_the_wait_is_returned_then(engine, registered):
    slug = registered[0]
    activate = threading.Timer(0.3, _set, args=(engine, slug), kwargs={"status": TenantStatus.ACTIVE})
    activate.start()
    try:
        started = time.monotonic()
        settled = wait_until_settled(engine, [slug], timeout=30, poll_seconds=0.05)
        assert time.monotonic() - started < 10  # returned when it settled, not at the timeout
    finally:
        activate.join()
    assert settled[slug].status == TenantStatus.ACTIVE
