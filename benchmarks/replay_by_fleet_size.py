"""Does replaying the tenant head (and dropping a schema) slow down with the number of
tenants already in the database? Alternates databases in one process, so load is shared.

    .venv/bin/python -m benchmarks.replay_by_fleet_size DB [DB ...]   # on $DATABASE_URL's server

Prints, per database: the number of tenant schemas, and p50 of 15 creations (captured head
replayed) and 15 drops of a probe schema.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from migrations.runner import (
    create_tenant_schema_in_transaction,
    drop_tenant_schema_irreversibly,
    head_statements,
    upgrade_control,
)

ROUNDS = 15


def probe(url: str) -> str:
    engine = create_engine(url)
    upgrade_control(engine)
    _, statements = head_statements(engine)
    with engine.connect() as connection:
        schemas = connection.scalar(text(r"SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\_%'"))
    creates, drops = [], []
    for i in range(ROUNDS):
        started = time.perf_counter()
        with engine.begin() as connection:
            create_tenant_schema_in_transaction(connection, f"sizeprobe{i}", statements)
        creates.append(time.perf_counter() - started)
        started = time.perf_counter()
        with engine.begin() as connection:
            drop_tenant_schema_irreversibly(connection, f"sizeprobe{i}")
        drops.append(time.perf_counter() - started)
    engine.dispose()
    return (
        f"{make_url(url).database}: {schemas} tenant schemas, create p50 "
        f"{statistics.median(creates) * 1000:.1f} ms, drop p50 {statistics.median(drops) * 1000:.1f} ms"
    )


def main() -> None:
    server = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    server = server.set(drivername="postgresql+psycopg")
    print(f"load average {os.getloadavg()[0]:.1f}")
    for name in sys.argv[1:]:
        print(probe(server.set(database=name).render_as_string(hide_password=False)))
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
