"""Upgrading every tenant schema: in parallel, resumable, one failure never blocks the rest.

Each tenant is migrated in its own transaction (PostgreSQL DDL is transactional, so no
request ever sees a half-migrated schema) under a `lock_timeout`, retried a few times.
The tenant's revision is also written to `control.tenants.schema_revision` in the same
transaction, which makes "anything to migrate?" one indexed query over the control plane.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from saas.registry.models import Tenant
from saas.schema.migrate import migrate_schema_in_transaction, tenant_head_revision
from saas.tenancy.slugs import schema_for

LOCK_TIMEOUT = "3s"
ATTEMPTS = 3


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


def upgrade_tenant(engine: Engine, slug: str, head: str) -> None:
    """Migrate one tenant to `head` in one transaction, retrying lock timeouts."""
    schema = schema_for(slug)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with engine.begin() as connection:
                connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                # The row lock also keeps provisioning/deletion of this tenant out meanwhile.
                locked = connection.scalar(select(Tenant.id).where(Tenant.slug == slug).with_for_update())
                if locked is None:
                    return  # deleted meanwhile
                migrate_schema_in_transaction(connection, schema)
                connection.execute(update(Tenant).where(Tenant.slug == slug).values(schema_revision=head))
            return
        except DBAPIError as error:
            if "lock timeout" not in str(error.orig) or attempt == ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)


def _upgrade_in_worker(database_url: str, slug: str, head: str) -> tuple[str, str | None]:
    engine = _worker_engine(database_url)
    try:
        upgrade_tenant(engine, slug, head)
        return slug, None
    except Exception as error:  # noqa: BLE001 - reported per tenant, the fleet goes on
        return slug, f"{type(error).__name__}: {str(error).splitlines()[0]}"


_engines: dict[str, Engine] = {}


def _worker_engine(database_url: str) -> Engine:
    if database_url not in _engines:
        _engines[database_url] = create_engine(database_url, pool_size=1)
    return _engines[database_url]


def upgrade_all(
    engine: Engine,
    *,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> FleetReport:
    """Upgrade every tenant that is behind. Safe to re-run: finished tenants are skipped."""
    head = tenant_head_revision()
    report = FleetReport(head=head)
    started = time.perf_counter()
    slugs = tenants_behind(engine, head)
    total = len(slugs)
    if total:
        url = engine.url.render_as_string(hide_password=False)
        workers = workers or min(4, os.cpu_count() or 1)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_upgrade_in_worker, url, slug, head) for slug in slugs]
            for done, future in enumerate(as_completed(futures), start=1):
                slug, error = future.result()
                if error is None:
                    report.upgraded.append(slug)
                    progress(f"[{done}/{total}] t_{slug} {head}")
                else:
                    report.failed[slug] = error
                    progress(f"[{done}/{total}] t_{slug} FAILED {error}")
    report.seconds = time.perf_counter() - started
    return report
