"""Fleet migration benchmark: one additive migration across every tenant.

    .venv/bin/python -m benchmarks.fleet [--database chamyeo_bench_provisioning] [--tenants 2000]
                                         [--workers 2]

Uses the database the provisioning benchmark left (it holds 2,000+ tenants), or builds a
fleet of --tenants in a fresh database when that one is missing or smaller. The migration
lives in a temporary copy of the tenant track (nothing is committed to migrations/).
Measures: the "anything to migrate?" query; `upgrade_all` with --workers processes; the
same migration run the naive way (`alembic upgrade` through env.py per tenant, one process
per worker as well) on the next additive revision, as the baseline ratio.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
from sqlalchemy import text

from benchmarks.common import machine, settings_for

REVISIONS = ("be0c00000001", "be0c00000002")


def _track_with_additive_migrations(head: str, count: int) -> str:
    """A temporary copy of the tenant track with `count` more migrations, each adding a column."""
    from migrations import TENANT_DIR

    track = Path(tempfile.mkdtemp(prefix="chamyeo-bench-track-")) / "tenant"
    shutil.copytree(TENANT_DIR, track, ignore=shutil.ignore_patterns("__pycache__"))
    previous = head
    for n, revision in enumerate(REVISIONS[:count], start=1):
        (track / "versions" / f"{revision}_bench.py").write_text(
            textwrap.dedent(
                f"""
                import sqlalchemy as sa
                from alembic import op

                revision = "{revision}"
                down_revision = "{previous}"
                branch_labels = None
                depends_on = None


                def upgrade():
                    op.add_column("pages", sa.Column("bench_note_{n}", sa.Text(), nullable=True))
                """
            )
        )
        previous = revision
    return str(track)


def _database_url(name: str, tenants: int) -> str:
    from benchmarks.common import DEFAULT_SERVER, fresh_database

    base = DEFAULT_SERVER.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    try:
        with psycopg.connect(url) as connection:
            count = connection.execute(
                "SELECT count(*) FROM control.tenants WHERE status = 'active'"
            ).fetchone()[0]
        if count >= tenants:
            return url
    except psycopg.Error:
        pass
    url = fresh_database("chamyeo_bench_fleet")
    from benchmarks.common import onboard_fleet
    from migrations.runner import upgrade_control
    from saas.core.db import Database

    database = Database()
    database.configure(settings_for(url))
    upgrade_control(database.engine)
    seconds, active, problems = onboard_fleet(database.engine, [f"fleet_{n}" for n in range(tenants)])
    print(f"{active} of {tenants} tenant(s) active in {seconds:.1f} s; {len(problems)} refused or failed")
    database.dispose()
    return url


def _naive_upgrade(args: tuple[str, str, str, list[str]]) -> int:
    """Per tenant: `alembic upgrade` through env.py, the plain way."""
    from alembic import command
    from sqlalchemy import create_engine

    from migrations.runner import alembic_config
    from saas.core.tenancy.binding import local_search_path

    url, track, target, slugs = args
    engine = create_engine(url, pool_size=1)
    for slug in slugs:
        with engine.begin() as connection, local_search_path(connection, f"t_{slug}"):
            command.upgrade(alembic_config(track, connection), target)
            connection.execute(
                text("UPDATE control.tenants SET schema_revision = :r WHERE slug = :s"),
                {"r": target, "s": slug},
            )
    engine.dispose()
    return len(slugs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="chamyeo_bench_provisioning")
    parser.add_argument("--tenants", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from concurrent.futures import ProcessPoolExecutor

    from migrations.runner import tenant_head_revision
    from provisioning import upgrade as fleet
    from saas.core.db import Database, sqlalchemy_url

    url = _database_url(args.database, args.tenants)
    database = Database()
    database.configure(settings_for(url))
    engine = database.engine
    head = tenant_head_revision()
    with engine.connect() as connection:
        tenants = connection.scalar(
            text("SELECT count(*) FROM control.tenants WHERE schema_revision IS NOT NULL")
        )
    print(f"machine: {machine()}")
    print(f"tenants with a schema: {tenants}")

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        behind = fleet.tenants_behind(engine, REVISIONS[0])
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"'anything to migrate?' over {tenants} tenants: {min(timings):.1f} ms (best of 5), "
        f"{len(behind)} behind"
    )

    report = fleet.upgrade_all(
        engine, workers=args.workers, script_location=_track_with_additive_migrations(head, 1)
    )
    print(f"fleet upgrade (chamyeo db upgrade --workers {args.workers}): {report.summary()}")

    naive_track = _track_with_additive_migrations(head, 2)
    started = time.perf_counter()
    slugs = fleet.tenants_behind(engine, REVISIONS[1])
    chunks = [slugs[i :: args.workers] for i in range(args.workers)]
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(_naive_upgrade, [(sqlalchemy_url(url), naive_track, REVISIONS[1], c) for c in chunks]))
    naive = time.perf_counter() - started
    print(f"naive: alembic upgrade through env.py per tenant: {len(slugs)} tenants in {naive:.1f} s")
    print(f"naive / chamyeo: {naive / report.seconds:.1f}x")
    database.dispose()


if __name__ == "__main__":
    main()
