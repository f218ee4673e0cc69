"""Provisioning benchmark: latency at tenant 1 and after 2,000 tenants, in one run.

    .venv/bin/python -m benchmarks.provisioning [--samples 50] [--fleet 2000] [--bulk 1000] [--workers 2]

Creates a fresh database on $DATABASE_URL's server (default: the machine's PostgreSQL),
uses $REDIS_URL (default redis://127.0.0.1:6379/7, flushed) and real `chamyeo worker`
processes. Measures, at tenant 1 and again once the fleet has grown:
  - database work: `run_provisioning` in-process (every step, each its own transaction);
  - whole job: register + enqueue (what the API does) until the tenant row says active,
    run by a worker;
  - schema creation by replaying the captured head vs. replaying the migration history
    through Alembic's env.py (the naive way), both rolled back;
  - deletion (`do_delete_tenant_irreversibly`);
then bulk onboarding (`onboard_many`, what `chamyeo tenants create-many` runs) of --bulk
tenants by --workers workers, and the relation count of an empty tenant.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import text

from benchmarks.common import (
    Workers,
    fmt,
    fresh_database,
    machine,
    onboard_fleet,
    percentiles,
    release_regions,
    settings_for,
)

REGIONS = ("11680", "41110", "26440", "11110", "47130", "36110", "26110", "28177")


def _register(engine, slug: str, region: str, template: str = "neighbourhood", queue=None) -> None:
    from provisioning.lifecycle import do_register_tenant
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        do_register_tenant(
            session,
            slug=slug,
            region_code=region,
            template=template,
            admin_email=f"admin@{slug}.go.kr",
            queue=queue,
            platform_domain="chamyeo.localhost",
            actor="bench",
        )


def measure(engine, queues, label: str, samples: int) -> dict[str, dict[str, float]]:
    from migrations.runner import (
        create_tenant_schema_in_transaction,
        head_statements,
        migrate_schema_via_env_py,
    )
    from provisioning.lifecycle import do_delete_tenant_irreversibly, wait_until_settled
    from provisioning.runner import run_provisioning
    from saas.core.tenancy.binding import session_without_tenant

    db_ms, job_ms, head_ms, naive_ms, delete_ms = [], [], [], [], []
    _, statements = head_statements(engine)
    for i in range(samples):
        region = REGIONS[i % len(REGIONS)]
        slug = f"db_{label}_{i}"
        _register(engine, slug, region)
        started = time.perf_counter()
        outcome = run_provisioning(engine, slug)
        db_ms.append((time.perf_counter() - started) * 1000)
        assert outcome.status.value == "active", outcome
        release_regions(engine)  # one portal per municipality: free the region for the next

        slug = f"job_{label}_{i}"
        started = time.perf_counter()
        _register(engine, slug, region, queue=queues.get("provisioning"))
        # Polled every 2 ms: the poll's own period must not dominate what it measures.
        status = wait_until_settled(engine, [slug], timeout=600, poll_seconds=0.002)[slug].status.value
        job_ms.append((time.perf_counter() - started) * 1000)
        assert status == "active", slug
        release_regions(engine)

        for way, samples_ms in (("head", head_ms), ("naive", naive_ms)):
            with engine.connect() as connection, connection.begin() as transaction:
                started = time.perf_counter()
                if way == "head":
                    create_tenant_schema_in_transaction(connection, f"cmp_{label}_{i}", statements)
                else:
                    connection.execute(text(f'CREATE SCHEMA "t_cmp_{label}_{i}"'))
                    migrate_schema_via_env_py(connection, f"t_cmp_{label}_{i}")
                samples_ms.append((time.perf_counter() - started) * 1000)
                transaction.rollback()

        started = time.perf_counter()
        with session_without_tenant(engine) as session:
            do_delete_tenant_irreversibly(
                session, f"db_{label}_{i}", confirm=f"db_{label}_{i}", actor="bench"
            )
        delete_ms.append((time.perf_counter() - started) * 1000)
    return {
        "database work": percentiles(db_ms),
        "whole job (enqueue -> active)": percentiles(job_ms),
        "schema from captured head": percentiles(head_ms),
        "schema via Alembic env.py (naive)": percentiles(naive_ms),
        "deletion": percentiles(delete_ms),
    }


def bulk(engine, queues, start: int, count: int) -> tuple[float, int]:
    """Bulk onboarding (`onboard_many`, what `chamyeo tenants create-many` runs), in batches
    of distinct real municipalities (see `benchmarks.common.onboard_fleet`)."""
    slugs = [f"bulk_{start + n}" for n in range(count)]
    seconds, active, problems = onboard_fleet(
        engine, slugs, ("neighbourhood", "citywide", "youth"), queue=queues.get("provisioning")
    )
    for where, why in sorted(problems.items()):
        print(f"  {where}: {why}")
    return seconds, active


def relation_count(engine, slug: str) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.relkind::text, count(*) FROM pg_class c "
                "WHERE c.relnamespace = to_regnamespace(:s)::oid GROUP BY 1"
            ),
            {"s": f"t_{slug}"},
        ).all()
        toast = connection.scalar(
            text(
                "SELECT count(*) FROM pg_class c WHERE c.relnamespace = to_regnamespace(:s)::oid "
                "AND c.reltoastrelid <> 0"
            ),
            {"s": f"t_{slug}"},
        )
    counts = {kind: n for kind, n in rows}
    counts["toast tables + their indexes"] = 2 * toast
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--fleet", type=int, default=2000)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from migrations.runner import head_statements, upgrade_control
    from saas.core.db import Database
    from saas.core.queue import Queues

    settings = settings_for(fresh_database("chamyeo_bench_provisioning"))
    database, queues = Database(), Queues()
    database.configure(settings)
    queues.configure(settings)
    queues.connection.flushdb()
    engine = database.engine
    upgrade_control(engine)
    head_statements(engine)  # capture once, as the first provisioning of a deployment would
    workers = Workers(settings.database_url, args.workers)
    try:
        workers.wait_ready(queues, args.workers)
        print(f"machine: {machine()}")
        first = measure(engine, queues, "first", args.samples)
        seconds, active = bulk(engine, queues, 0, args.bulk)
        print(
            f"bulk onboarding: {active}/{args.bulk} tenants active in {seconds:.1f} s "
            f"with {args.workers} workers"
        )
        grown = args.bulk
        while grown < args.fleet:
            step = min(args.bulk, args.fleet - grown)
            more_seconds, more = bulk(engine, queues, grown, step)
            print(f"bulk onboarding: {more}/{step} more in {more_seconds:.1f} s")
            grown += step
        with engine.connect() as connection:
            existing = connection.scalar(text("SELECT count(*) FROM control.tenants"))
        later = measure(engine, queues, "later", args.samples)
    finally:
        workers.stop()
    print(f"\n| measure | at tenant 1 | at {existing} existing tenants | ratio (p50) |")
    print("|---|---|---|---|")
    for name in first:
        ratio = later[name]["p50"] / first[name]["p50"]
        print(f"| {name} | {fmt(first[name])} | {fmt(later[name])} | {ratio:.2f}x |")
    for label, result in (("at tenant 1", first), (f"at {existing}", later)):
        naive = (
            result["schema via Alembic env.py (naive)"]["p50"] / result["schema from captured head"]["p50"]
        )
        print(f"naive/head schema creation {label}: {naive:.1f}x")
    print(f"relations of an empty tenant: {relation_count(engine, 'job_later_0')}")
    database.dispose()


if __name__ == "__main__":
    main()
