"""What binding a unit of work to a tenant schema adds, measured against the same unit of
work without binding, in one process.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m benchmarks.tenant_binding

Creates a scratch database with two tenants, then times, per unit of work:
  baseline: Session(bind=engine) + SELECT of one row from a schema-qualified copy of the table
  bound:    binding.open_session(engine, slug) + the same SELECT through the translated table
Both run the same SQL against the same data; the difference is the binding's cost.
"""

from __future__ import annotations

import os
import statistics
import time

import psycopg
from sqlalchemy import Table, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from migrations.runner import create_tenant_schema_in_transaction, head_statements, upgrade_control
from saas.core.tenancy import binding
from tenants.portal.models import Page

ROUNDS, REPEATS = 5_000, 5


def _scratch_database(server_url: str) -> str:
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS chamyeo_bench_binding WITH (FORCE)")
        conn.execute("CREATE DATABASE chamyeo_bench_binding")
    return (
        make_url(admin)
        .set(database="chamyeo_bench_binding", drivername="postgresql+psycopg")
        .render_as_string(hide_password=False)
    )


def _time_pair(first, second, rounds: int = ROUNDS) -> tuple[float, float]:
    """Median over REPEATS of the mean time of one call, in ms; the two alternate per repeat
    so that drift in machine load affects both alike."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(REPEATS):
        for index, unit_of_work in enumerate((first, second)):
            started = time.perf_counter()
            for _ in range(rounds):
                unit_of_work()
            samples[index].append((time.perf_counter() - started) / rounds * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> None:
    url = _scratch_database(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    engine = create_engine(url, pool_size=1, max_overflow=0)
    binding.install_connection_recycling(engine, 500)
    upgrade_control(engine)
    _, statements = head_statements(engine)
    with engine.begin() as connection:
        for slug in ("alpha", "beta"):
            create_tenant_schema_in_transaction(connection, slug, statements)
            connection.execute(
                text(
                    f"INSERT INTO t_{slug}.pages (key, title_ko, title_en, body_ko, body_en) "
                    "VALUES ('notice', '공지', 'Notice', '본문', 'Body')"
                )
            )
    pages = Page.__table__
    qualified = pages.to_metadata(Page.metadata.__class__(), schema="t_alpha")
    assert isinstance(qualified, Table)

    def baseline() -> None:
        with Session(bind=engine) as session:
            session.execute(select(qualified.c.title_en).where(qualified.c.key == "notice")).scalar()

    def bound() -> None:
        with binding.tenant_session(engine, "alpha") as session:
            # The same Core statement as the baseline, on the schema-less table.
            session.execute(select(pages.c.title_en).where(pages.c.key == "notice")).scalar()

    def open_plain() -> None:
        Session(bind=engine).close()

    def open_bound() -> None:
        binding.open_session(engine, "alpha").close()

    for warm in (baseline, bound):
        for _ in range(500):
            warm()
    base_ms, bound_ms = _time_pair(baseline, bound)
    plain_open_ms, bound_open_ms = _time_pair(open_plain, open_bound, rounds=50_000)
    print(f"{REPEATS} alternating repeats; medians")
    print("unit of work = open session, SELECT one row, close (one round trip per statement):")
    print(f"  baseline (schema-qualified table, plain Session): {base_ms:.4f} ms")
    print(f"  bound    (schema_translate_map session):          {bound_ms:.4f} ms")
    print(f"  difference: {bound_ms - base_ms:+.4f} ms (ratio {bound_ms / base_ms:.3f})")
    print("opening and closing the session alone (no I/O):")
    print(
        f"  plain {plain_open_ms * 1000:.1f} µs, bound {bound_open_ms * 1000:.1f} µs, "
        f"added {(bound_open_ms - plain_open_ms) * 1000:+.1f} µs"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
