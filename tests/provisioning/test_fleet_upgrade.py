"""Upgrading every tenant: parallel, past a failing tenant, resumable, never half-migrated.

The migration is a throwaway one, in a temporary copy of the tenant track."""

from __future__ import annotations

import shutil
import textwrap
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from migrations import TENANT_DIR
from migrations.runner import tenant_head_revision
from provisioning import upgrade as fleet
from provisioning.lifecycle import do_delete_tenant_irreversibly
from saas.core.registry.models import Tenant
from saas.core.tenancy.binding import session_without_tenant

NEW_REVISION = "f1ee70000001"


def _track_with_one_more_migration(tmp_path, first_statement: str = "") -> str:
    """A copy of the tenant track with a migration adding `pages.summary` (after
    `first_statement`, SQL run first, when given)."""
    track = tmp_path / "tenant"
    shutil.copytree(TENANT_DIR, track, ignore=shutil.ignore_patterns("__pycache__"))
    (track / "versions" / f"{NEW_REVISION}_page_summary.py").write_text(
        textwrap.dedent(
            f"""
            import sqlalchemy as sa
            from alembic import op

            revision = "{NEW_REVISION}"
            down_revision = "{tenant_head_revision()}"
            branch_labels = None
            depends_on = None


            def upgrade():
                if {first_statement!r}:
                    op.execute({first_statement!r})
                op.add_column("pages", sa.Column("summary", sa.Text(), nullable=True))


            def downgrade():
                op.drop_column("pages", "summary")
            """
        )
    )
    return str(track)


@pytest.fixture
def track_with_one_more_migration(tmp_path):
    return _track_with_one_more_migration(tmp_path)


@pytest.fixture
def fleet_tenants(make_tenant, engine):
    slugs = [make_tenant(f"fleet_{x}").slug for x in "abc"]
    yield slugs
    # Their revision exists only in the temporary track: they leave with it.
    with session_without_tenant(engine) as session:
        for slug in slugs:
            do_delete_tenant_irreversibly(session, slug, confirm=slug, actor="test")


def _has_summary(engine, slug: str) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = 'pages' AND column_name = 'summary'"
                ),
                {"s": f"t_{slug}"},
            )
        )


def _revisions(engine, slugs: list[str]) -> dict[str, str]:
    with engine.connect() as connection:
        return dict(
            connection.execute(
                select(Tenant.slug, Tenant.schema_revision).where(Tenant.slug.in_(slugs))
            ).all()
        )


def test_fleet_upgrade_goes_past_a_locked_tenant_and_resumes(
    engine, fleet_tenants, track_with_one_more_migration
):
    old_head = tenant_head_revision()
    a, b, c = fleet_tenants
    lines: list[str] = []
    assert set(fleet_tenants) <= set(fleet.tenants_behind(engine, NEW_REVISION))

    with engine.connect() as blocker, blocker.begin():
        # A long request reading c's pages holds a lock that ALTER TABLE must wait for.
        blocker.execute(text(f'LOCK TABLE "t_{c}".pages IN ACCESS SHARE MODE'))
        report = fleet.upgrade_all(
            engine,
            workers=2,
            only=fleet_tenants,
            lock_timeout="100ms",
            attempts=2,
            script_location=track_with_one_more_migration,
            progress=lines.append,
        )
    assert sorted(report.upgraded) == [a, b]
    assert list(report.failed) == [c] and "lock timeout" in report.failed[c]
    assert [line.split()[0] for line in lines] == ["[1/3]", "[2/3]", "[3/3]"]
    assert sorted(line.split(" ", 1)[1] for line in lines) == [
        f"t_{a} {NEW_REVISION}",
        f"t_{b} {NEW_REVISION}",
        f"t_{c} FAILED {report.failed[c]}",
    ]
    assert _revisions(engine, fleet_tenants) == {a: NEW_REVISION, b: NEW_REVISION, c: old_head}
    # c was rolled back whole: the old shape, not half of the new one.
    assert [_has_summary(engine, s) for s in fleet_tenants] == [True, True, False]

    again = fleet.upgrade_all(
        engine, workers=1, only=fleet_tenants, script_location=track_with_one_more_migration
    )
    assert (again.upgraded, again.failed) == ([c], {})
    assert _has_summary(engine, c)
    assert not set(fleet_tenants) & set(fleet.tenants_behind(engine, NEW_REVISION))


def test_a_lock_released_meanwhile_is_waited_out_by_the_retries(
    engine, fleet_tenants, track_with_one_more_migration
):
    slug = fleet_tenants[0]
    with engine.connect() as blocker:
        blocker.begin()
        blocker.execute(text(f'LOCK TABLE "t_{slug}".pages IN ACCESS SHARE MODE'))
        releasing = threading.Timer(0.6, blocker.rollback)  # the long request ends
        releasing.start()
        try:
            started = time.perf_counter()
            fleet.upgrade_tenant(
                engine,
                slug,
                NEW_REVISION,
                lock_timeout="200ms",
                attempts=6,
                script_location=track_with_one_more_migration,
            )
            waited = time.perf_counter() - started
        finally:
            releasing.join()
    assert _has_summary(engine, slug)
    assert waited >= 0.6, "it succeeded only after the lock was gone, so it retried"


def test_a_lock_timeout_worded_in_korean_is_retried_too(engine, fleet_tenants, tmp_path):
    # What a server with lc_messages = ko_KR sends for a lock timeout: SQLSTATE 55P03 and no
    # English word (this server has no Korean catalogue, so the migration raises it itself, on
    # its first run only: a sequence counts the runs across rolled-back transactions).
    counter = f"public.upgrade_attempts_{fleet_tenants[0]}"
    raise_once = (
        f"DO $$ BEGIN IF nextval('{counter}') = 1 THEN "
        "RAISE EXCEPTION '잠금 대기 시간 초과로 작업을 취소합니다' USING ERRCODE = '55P03'; "
        "END IF; END $$"
    )
    track = _track_with_one_more_migration(tmp_path, raise_once)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SEQUENCE {counter}"))
    try:
        fleet.upgrade_tenant(engine, fleet_tenants[0], NEW_REVISION, attempts=2, script_location=track)
        with engine.connect() as connection:
            assert connection.scalar(text(f"SELECT last_value FROM {counter}")) == 2
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SEQUENCE {counter}"))
    assert _has_summary(engine, fleet_tenants[0])


def test_db_status_counts_tenants_per_revision(settings, monkeypatch, alpha):
    from saas.cli import main

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(main, ["db", "status"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"tenants at {tenant_head_revision()}: " in result.output and "(head)" in result.output
