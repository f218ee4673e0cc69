"""Upgrading every tenant schema: in parallel, resumable, one failure never blocks the rest.

Each tenant is migrated in its own transaction (PostgreSQL DDL is transactional, so no
request ever sees a half-migrated schema) under a `lock_timeout`, retried a few times.
The tenant's revision is also written to `control.tenants.schema_revision` in the same
transaction, which makes "anything to migrate?" one indexed query over the control plane.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Collection
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from migrations import TENANT_DIR
from migrations.runner import migrate_schema_in_transaction, tenant_head_revision
from saas.core.registry.models import Tenant
from saas.core.tenancy.slugs import schema_for

LOCK_TIMEOUT = "3s"
ATTEMPTS = 3
BATCH_SIZE = 25
_LOCK_TIMEOUT_RE = re.compile(r"^[0-9]{1,6}(ms|s)$")


@dataclass
class FleetReport:
    head: str
    upgraded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        text_ = f"{len(self.upgraded)} tenant(s) upgraded to {self.head} in {self.seconds:.1f} s"
        if self.failed:
            text_ += f"; {len(self.failed)} failed:\n" + "\n".join(
                f"  t_{slug}: {error}" for slug, error in sorted(self.failed.items())
            )
        return text_


def tenants_behind(engine: Engine, head: str) -> list[str]:
    """Slugs of tenants with a schema whose revision is not `head` (one query)."""
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(Tenant.slug)
                .where(Tenant.schema_revision.is_not(None))
                .where(Tenant.schema_revision != head)
                .order_by(Tenant.slug)
            )
        )


def revision_counts(engine: Engine) -> list[tuple[str | None, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Tenant.schema_revision, func.count())
            .group_by(Tenant.schema_revision)
            .order_by(Tenant.schema_revision)
        )
        return [(revision, count) for revision, count in rows]


def upgrade_tenant(
    engine: Engine,
    slug: str,
    head: str,
    *,
    lock_timeout: str = LOCK_TIMEOUT,
    attempts: int = ATTEMPTS,
    script_location: str = str(TENANT_DIR),
) -> None:
    """Migrate one tenant to `head` in one transaction, retrying lock timeouts."""
    schema = schema_for(slug)
    if not _LOCK_TIMEOUT_RE.match(lock_timeout):
        raise ValueError(f"lock_timeout {lock_timeout!r} is not like '3s' or '200ms'")
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as connection:
                connection.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
                # The row lock also keeps provisioning/deletion of this tenant out meanwhile.
                locked = connection.scalar(select(Tenant.id).where(Tenant.slug == slug).with_for_update())
                if locked is None:
                    return  # deleted meanwhile
                migrate_schema_in_transaction(connection, schema, head, script_location=script_location)
                connection.execute(update(Tenant).where(Tenant.slug == slug).values(schema_revision=head))
            return
        except DBAPIError as error:
            if not _is_lock_timeout(error) or attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


# lock_not_available: what `lock_timeout` raises. The SQLSTATE, not the message, which the
# server words in its own language (lc_messages): under a Korean one it has no "lock timeout".
_LOCK_NOT_AVAILABLE = "55P03"


def _is_lock_timeout(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


@dataclass(frozen=True)
class _Job:
    database_url: str
    head: str
    lock_timeout: str
    attempts: int
    script_location: str


def _upgrade_batch(job: _Job, slugs: list[str]) -> list[tuple[str, str | None]]:
    """In a pool process: upgrade a few tenants, one transaction each; errors are reported,
    never raised, so a failing tenant never stops the others."""
    engine = _worker_engine(job.database_url)
    results: list[tuple[str, str | None]] = []
    for slug in slugs:
        try:
            upgrade_tenant(
                engine,
                slug,
                job.head,
                lock_timeout=job.lock_timeout,
                attempts=job.attempts,
                script_location=job.script_location,
            )
            results.append((slug, None))
        except Exception as error:  # noqa: BLE001 - reported per tenant, the fleet goes on
            results.append((slug, f"{type(error).__name__}: {str(error).splitlines()[0]}"))
    return results


_engines: dict[str, Engine] = {}


def _worker_engine(database_url: str) -> Engine:
    if database_url not in _engines:
        _engines[database_url] = create_engine(database_url, pool_size=1)
    return _engines[database_url]


def _batches(slugs: list[str], workers: int) -> list[list[str]]:
    # Small enough to keep every worker busy to the end, big enough that the pool's
    # per-task pickling does not show next to the migrations (2,060 tenants took 6.0 s with 2
    # workers, ~6 ms per tenant in each worker: BENCHMARKS.md, Fleet).
    size = max(1, min(BATCH_SIZE, len(slugs) // (workers * 4) or 1))
    return [slugs[i : i + size] for i in range(0, len(slugs), size)]


def upgrade_all(
    engine: Engine,
    *,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
    only: Collection[str] | None = None,
    lock_timeout: str = LOCK_TIMEOUT,
    attempts: int = ATTEMPTS,
    script_location: str | None = None,
) -> FleetReport:
    """Upgrade every tenant that is behind (or those of them in `only`), `workers` processes
    at a time. Safe to re-run: tenants already at head are skipped, so an interrupted or
    partly failed run resumes where it stopped."""
    location = script_location or str(TENANT_DIR)
    head = tenant_head_revision(location)
    report = FleetReport(head=head)
    started = time.perf_counter()
    slugs = tenants_behind(engine, head)
    if only is not None:
        wanted = set(only)
        slugs = [slug for slug in slugs if slug in wanted]
    total = len(slugs)
    workers = max(1, workers or min(4, os.cpu_count() or 1))
    job = _Job(engine.url.render_as_string(hide_password=False), head, lock_timeout, attempts, location)
    done = 0

    def record(results: list[tuple[str, str | None]]) -> None:
        nonlocal done
        for slug, error in results:
            done += 1
            if error is None:
                report.upgraded.append(slug)
                progress(f"[{done}/{total}] t_{slug} {head}")
            else:
                report.failed[slug] = error
                progress(f"[{done}/{total}] t_{slug} FAILED {error}")

    if total and workers == 1:
        _engines[job.database_url] = engine  # in-process: reuse the caller's pool
        try:
            record(_upgrade_batch(job, slugs))
        finally:
            _engines.pop(job.database_url, None)
    elif total:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_upgrade_batch, job, batch) for batch in _batches(slugs, workers)]
            for future in as_completed(futures):
                record(future.result())
    report.seconds = time.perf_counter() - started
    return report
