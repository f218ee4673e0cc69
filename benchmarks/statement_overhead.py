"""CPU time per run of the API-token lookup: through SQLAlchemy's `Connection.execute`,
through `exec_driver_sql` with the same SQL, and as a `binding.DriverStatement`.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m benchmarks.statement_overhead

One connection (autocommit, as the request path uses it) to a scratch database with the
control schema; the three ways take turns, each 5,000 runs after 200 to warm up (psycopg
prepares a statement on the server after 5), in 3 rounds. The statement finds no row, as for
an unknown token: the driver's and the server's work is the same for all three.
"""

from __future__ import annotations

import time

from sqlalchemy import create_engine

from benchmarks.common import fresh_database, machine
from migrations.runner import upgrade_control
from saas.core.accounts import tokens
from saas.core.db import sqlalchemy_url
from saas.core.tenancy.binding import bound_engine

RUNS, WARM_UP, ROUNDS = 5_000, 200, 3


def main() -> None:
    engine = create_engine(sqlalchemy_url(fresh_database("chamyeo_bench_statements")))
    upgrade_control(engine)
    statement = tokens._LIVE_TOKEN  # the DriverStatement the request path runs
    parameters = {"secret_hash": "0" * 64}
    print(f"machine: {machine()}")
    with bound_engine(engine, "t_bench").connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        sql, fixed, _ = statement._render(connection)
        ways = {
            "Connection.execute": lambda: connection.execute(statement.statement, parameters).first(),
            "exec_driver_sql": lambda: connection.exec_driver_sql(sql, {**fixed, **parameters}).first(),
            "DriverStatement": lambda: statement.first(connection, parameters),
        }
        for round_ in range(1, ROUNDS + 1):
            for name, run in ways.items():
                for _ in range(WARM_UP):
                    run()
                started = time.process_time()
                for _ in range(RUNS):
                    run()
                micros = 1e6 * (time.process_time() - started) / RUNS
                print(f"round {round_}: {name}: {micros:.0f} µs of CPU per statement")
    engine.dispose()


if __name__ == "__main__":
    main()
