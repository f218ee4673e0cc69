"""Tenant lookups: bounded per app, forgotten in every process the moment a change is announced.

Two apps in one test stand for two workers: each has its own lookups (an hour's TTL here),
and only the Redis announcement connects them.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import redis

from provisioning.lifecycle import do_suspend_tenant
from saas.core.tenancy import context
from saas.core.tenancy.binding import session_without_tenant


@pytest.fixture
def two_workers(settings, engine):
    from saas.app import create_app
    from saas.core.extensions import db

    hour = replace(settings, tenant_lookup_ttl_seconds=3600.0)
    apps = [create_app(hour), create_app(hour)]
    for app in apps:
        app.config["TESTING"] = True
    yield apps
    db.dispose()


def _status_within(client, path, expected, seconds=2.0):
    """The status `client` answers for `path` once it is `expected` (or at the deadline),
    and how long that took."""
    started = time.perf_counter()
    while True:
        status = client.get(path).status_code
        waited = time.perf_counter() - started
        if status == expected or waited > seconds:
            return status, waited
        time.sleep(0.005)


def test_a_suspension_announced_by_one_worker_reaches_the_other_at_once(
    two_workers, settings, engine, make_tenant, ministry
):
    first, second = two_workers
    tenant = make_tenant()
    path = f"{tenant.api}/portal"
    clients = [first.test_client(), second.test_client()]
    assert [c.get(path).status_code for c in clients] == [200, 200]
    # Subscribing forgets what was cached before (it could have missed a change): wait for it.
    assert context._listener.wait_subscribed(settings.redis_url, 5.0)
    assert [c.get(path).status_code for c in clients] == [200, 200]  # both have it cached now

    with session_without_tenant(engine) as session:  # as another process would, unannounced
        do_suspend_tenant(session, tenant.slug, actor="test", reason="unpaid")
    assert [c.get(path).status_code for c in clients] == [200, 200], "the lookups were not cached"

    context.announce_tenant_change(redis.Redis.from_url(settings.redis_url))  # as the CLI does
    for client in clients:
        status, waited = _status_within(client, path, 503)
        assert status == 503 and waited < 1.0

    # Resuming through the first worker's API reaches the second without anything else.
    response = clients[0].post(f"/api/v1/tenants/{tenant.slug}/resume", json={}, headers=ministry)
    assert response.status_code == 200, response.get_json()
    status, waited = _status_within(clients[1], path, 200)
    assert status == 200 and waited < 1.0


def test_the_lookup_cache_drops_its_oldest_entry_when_full():
    cache = context._TtlCache(max_items=3)
    for key in "abcd":
        cache.get(key, 60.0, lambda key=key: key.upper())
    assert len(cache) == 3
    assert cache.get("b", 60.0, lambda: "reloaded") == "B"
    assert cache.get("a", 60.0, lambda: "reloaded") == "reloaded", "the oldest was dropped"


def test_a_value_read_while_the_cache_was_cleared_is_not_kept():
    cache = context._TtlCache(max_items=10)

    def load_during_a_change():
        cache.clear()  # the announcement arrives while the row is being read
        return "read before the change"

    assert cache.get("a", 60.0, load_during_a_change) == "read before the change"
    assert cache.get("a", 60.0, lambda: "read after") == "read after"


def test_the_lookup_bound_fits_the_fleet():
    assert context.TenantLookups.MAX_ITEMS >= 10_000
