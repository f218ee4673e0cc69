"""What the benchmarks share: a fresh database, the machine description, percentiles,
RQ workers as real processes."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"


def _server_url(database: str) -> str:
    """Database `database` on the server of $DATABASE_URL (default: the machine's)."""
    server = make_url(os.environ.get("DATABASE_URL", DEFAULT_SERVER)).set(drivername="postgresql")
    return server.set(database=database).render_as_string(hide_password=False)


def fresh_database(name: str) -> str:
    """Drop and create database `name` on the server of $DATABASE_URL (default: the machine's)."""
    with psycopg.connect(_server_url("postgres"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    return _server_url(name)


def redis_url() -> str:
    return os.environ.get("REDIS_URL", DEFAULT_REDIS)


def settings_for(database_url: str):
    from saas.core.settings import Settings

    return Settings(environment="test", database_url=database_url, redis_url=redis_url(), secret_key="bench")


def machine() -> str:
    with psycopg.connect(_server_url("postgres")) as c:
        server = c.execute("SHOW server_version").fetchone()[0]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores ({cpu}), PostgreSQL {server}, Python {platform.python_version()}"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"n": len(ordered), "p50": statistics.median(ordered), "p95": cuts[94], "p99": cuts[98]}


def fmt(p: dict[str, float]) -> str:
    return f"p50 {p['p50']:.1f} ms, p95 {p['p95']:.1f} ms, p99 {p['p99']:.1f} ms (n={p['n']})"


class Workers:
    """`chamyeo worker --queue provisioning` processes against the benchmark's servers."""

    def __init__(self, database_url: str, count: int) -> None:
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url())
        env.update(CHAMYEO_ENV="test", SECRET_KEY="bench")  # as settings_for's
        chamyeo = str(Path(sys.executable).with_name("chamyeo"))
        self.processes = [
            subprocess.Popen([chamyeo, "worker", "--queue", "provisioning"], env=env, cwd=ROOT)
            for _ in range(count)
        ]

    def wait_ready(self, queues, count: int, timeout: float = 30.0) -> None:
        from rq import Worker

        deadline = time.monotonic() + timeout
        while len(Worker.all(queue=queues.get("provisioning"))) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not register")
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)


# A benchmark fleet outgrows Korea: there are 228 onboardable municipalities and one portal
# per municipality (control.tenants.region_code is unique), but the benchmarks measure 2,000+
# tenants. So a benchmark onboards through the real path in batches of distinct real regions,
# and once a batch is active gives its tenants synthetic region codes ('99' + the tenant id:
# no real 행정구역 code starts with 99), which frees the real ones for the next batch. Only
# benchmark scratch databases are touched; the product never does this.
SYNTHETIC_REGION_PREFIX = "99"


def real_regions() -> list[str]:
    """The 5-digit codes of every onboardable municipality, in code order."""
    from saas import regions

    return [government.sgg_code for government in regions.onboardable_governments()]


def release_regions(engine) -> int:
    """Give every tenant on a real region a synthetic one; returns how many moved."""
    from sqlalchemy import text

    with engine.begin() as connection:
        return connection.execute(
            text(
                "UPDATE control.tenants SET region_code = :p || lpad(id::text, 8, '0') "
                "WHERE region_code NOT LIKE :p || '%'"
            ),
            {"p": SYNTHETIC_REGION_PREFIX},
        ).rowcount


def onboard_fleet(engine, slugs: list[str], templates: tuple[str, ...] = ("neighbourhood",), queue=None):
    """Onboard `slugs` with `provisioning.bulk.onboard_many` (the path `chamyeo tenants
    create-many` takes), one batch of distinct real regions at a time, releasing the regions
    after each batch. Returns (seconds spent onboarding, active count, problems)."""
    from provisioning.bulk import OnboardingRow, onboard_many
    from saas.core.tenancy.binding import session_without_tenant

    codes = real_regions()
    seconds, active, problems = 0.0, 0, {}
    for start in range(0, len(slugs), len(codes)):
        batch = slugs[start : start + len(codes)]
        rows = [
            OnboardingRow(
                line=start + n + 2, slug=slug, region=code, template=templates[(start + n) % len(templates)]
            )
            for n, (slug, code) in enumerate(zip(batch, codes, strict=False))
        ]
        with session_without_tenant(engine) as session:
            report = onboard_many(
                engine, session, rows, queue=queue, actor="bench", platform_domain="chamyeo.localhost"
            )
        seconds += report.seconds
        active += len(report.active)
        problems.update(report.problems)
        release_regions(engine)
    return seconds, active, problems


def interleaved_samples(cases: dict, rounds: int, warmup: int = 5) -> dict[str, list[float]]:
    """Milliseconds of each case over `rounds`, the cases interleaved within each round (so a
    load spike from elsewhere on the machine touches every case alike), after `warmup` runs
    of each (caches, plans, templates)."""
    for run in cases.values():
        for _ in range(warmup):
            run()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            started = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples
