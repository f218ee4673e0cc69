"""Ballots per second through the API, and the time to count a 100,000-ballot cycle.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python -m benchmarks.voting [--ballots 4000] [--clients 4] [--web-workers 4] \
        [--web-threads 4]

One run: a scratch database, a tenant provisioned through the real steps, a cycle with ten
projects, gunicorn serving the app on loopback (workers with threads, as in production), and
several client processes, each on one keep-alive connection, that check voters in with their
on-site ballot (distinct people; every response's status is checked, none is retried).
Baseline in the same run, in rounds alternating with the ballots: the same clients hitting
/healthz (one database round trip), so the ratio shows what a ballot costs.
Afterwards the database must hold exactly as many ballots and voter marks as were accepted.
Then 100,000 ballots are loaded in bulk and the cycle is counted through the API.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DONG = "4111156000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scratch(server_url: str) -> str:
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS chamyeo_bench_voting WITH (FORCE)")
        conn.execute("CREATE DATABASE chamyeo_bench_voting")
    return make_url(admin).set(database="chamyeo_bench_voting").render_as_string(hide_password=False)


def _setup(settings):
    from provisioning.runner import run_provisioning
    from provisioning.services import do_register_tenant
    from saas.accounts.models import Role
    from saas.accounts.tokens import create_token
    from saas.db import Database
    from saas.schema.migrate import upgrade_control
    from saas.tenancy.binding import session_without_tenant

    database = Database()
    database.configure(settings)
    upgrade_control(database.engine)
    with session_without_tenant(database.engine) as session:
        tenant = do_register_tenant(
            session, slug="bench", region_code="41110", template="neighbourhood", actor="bench"
        )
        tenant_id = tenant.id
    run_provisioning(database.engine, "bench")
    tokens = {}
    with session_without_tenant(database.engine) as session:
        for role in ("staff", "officer", "tenant_admin"):
            _, tokens[role] = create_token(
                session, name=role, role=Role(role), tenant_id=tenant_id, actor="bench"
            )
    return database, tokens


def _connection(base: str) -> http.client.HTTPConnection:
    """One keep-alive connection per client process. Plain http.client rather than `requests`:
    the clients share the two cores with the server, and per GET /healthz `requests` cost the
    client about 2.0 ms of CPU, http.client 0.4 ms (measured on this machine)."""
    return http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)


def _call(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict
) -> int:
    """Send one request and read its whole response; the status, or 0 if the call failed."""
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        connection.close()  # the next call reconnects; this one counts as failed, never retried
        return 0
    return response.status


def _post_ballots(args: tuple[str, str, int, int, list[int]]) -> tuple[int, int, float]:
    base, token, start, count, project_ids = args
    connection = _connection(base)
    path = f"{urlsplit(base).path}/check-ins"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    accepted = refused = 0
    rng = random.Random(start)
    started = time.perf_counter()
    for i in range(start, start + count):
        choices = [{"project_id": p} for p in rng.sample(project_ids, 3)]
        body = json.dumps(
            {
                "basis": "resident",
                "birth_year": 1980,
                "district_code": DONG,
                "identity_document": f"BENCH-{i:08d}",
                "channel": "onsite",
                "choices": choices,
            }
        ).encode()
        if _call(connection, "POST", path, body, headers) == 201:
            accepted += 1
        else:
            refused += 1
    return accepted, refused, time.perf_counter() - started


def _get_health(args: tuple[str, int]) -> tuple[int, int, float]:
    url, count = args
    connection = _connection(url)
    path = urlsplit(url).path
    started = time.perf_counter()
    ok = sum(_call(connection, "GET", path, None, {}) == 200 for _ in range(count))
    return ok, count - ok, time.perf_counter() - started


def _run_clients(pool: ProcessPoolExecutor, fn, jobs: list) -> tuple[int, int, float]:
    started = time.perf_counter()
    results = list(pool.map(fn, jobs))
    return sum(r[0] for r in results), sum(r[1] for r in results), time.perf_counter() - started


def _alternate(
    options: argparse.Namespace, health_url: str, cycle_url: str, token: str, ids: list[int]
) -> tuple[tuple[int, int, float], tuple[int, int, float]]:
    """Baseline and ballots in alternating rounds, so that load from elsewhere on the machine
    weighs on both alike; returns the totals (ok, failed, seconds) of each."""
    per_round = options.ballots // options.clients // options.rounds
    health = [0, 0, 0.0]
    ballots = [0, 0, 0.0]
    with ProcessPoolExecutor(max_workers=options.clients) as pool:
        list(pool.map(_get_health, [(health_url, 1)] * options.clients))  # start the client processes
        for r in range(options.rounds):
            totals = _run_clients(pool, _get_health, [(health_url, per_round)] * options.clients)
            health = [a + b for a, b in zip(health, totals, strict=True)]
            jobs = [
                (cycle_url, token, (c * options.rounds + r) * per_round, per_round, ids)
                for c in range(options.clients)
            ]
            totals = _run_clients(pool, _post_ballots, jobs)
            ballots = [a + b for a, b in zip(ballots, totals, strict=True)]
    return (health[0], health[1], health[2]), (ballots[0], ballots[1], ballots[2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=4)
    # As production runs gunicorn (infra/Procfile, `chamyeo up`): threads, hence keep-alive.
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--count-ballots", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of baseline and ballots")
    options = parser.parse_args()

    from saas.settings import Settings

    database_url = _scratch(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    settings = Settings(
        environment="test",
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        secret_key="bench",
    )
    database, tokens = _setup(settings)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": "bench",
        "CHAMYEO_ENV": "test",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(options.web_workers),
            "--threads",
            str(options.web_threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "saas.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        api = f"{base_url}/t/bench/api/v1"
        staff = {"Authorization": f"Bearer {tokens['staff']}"}
        cycle = requests.post(
            f"{api}/cycles",
            headers=staff,
            json={
                "name_ko": "벤치마크",
                "name_en": "Benchmark",
                "fiscal_year": 2027,
                "starts_on": "2027-03-01",
                "total_budget": 4_400_000_000,
            },
        ).json()
        cycle_url = f"{api}/cycles/{cycle['id']}"
        ids = [
            requests.post(
                f"{cycle_url}/projects",
                headers=staff,
                json={
                    "envelope": f"dong-{DONG}",
                    "code": f"P{i:02d}",
                    "title_ko": f"사업 {i}",
                    "category_key": "dong",
                    "cost": 5_000_000 + i * 1_000_000,
                },
            ).json()["id"]
            for i in range(10)
        ]
        keys = [p["key"] for p in cycle["phases"]]
        for key in keys[: keys.index("voting") + 1]:
            requests.post(f"{cycle_url}/phase", headers=staff, json={"to": key}).raise_for_status()

        (ok_h, bad_h, secs_h), (accepted, refused, seconds) = _alternate(
            options, f"{base_url}/healthz", cycle_url, tokens["officer"], ids
        )

        from saas.tenancy.binding import tenant_session
        from tenants.voting.models import Ballot, VoterMark

        with tenant_session(database.engine, "bench") as session:
            ballots = session.scalar(select(func.count()).select_from(Ballot))
            marks = session.scalar(select(func.count()).select_from(VoterMark))
        print(
            f"machine: {os.cpu_count()} cores; gunicorn workers: {options.web_workers} "
            f"x {options.web_threads} threads; client processes: {options.clients} "
            f"(http.client, keep-alive); {options.rounds} rounds of baseline, then ballots"
        )
        print(
            f"baseline GET /healthz: {ok_h} ok, {bad_h} failed in {secs_h:.2f} s = {ok_h / secs_h:.0f} req/s"
        )
        print(
            f"ballots (on-site check-in + ballot): {accepted} accepted, {refused} refused in {seconds:.2f} s "
            f"= {accepted / seconds:.0f} ballots/s "
            f"(ratio to baseline {accepted / seconds / (ok_h / secs_h):.2f})"
        )
        print(
            f"stored: {ballots} ballots, {marks} voter marks (accepted {accepted}): "
            f"{'OK' if ballots == marks == accepted else 'MISMATCH'}"
        )

        # Counting a large cycle: bulk-load ballots, then count through the API.
        n = options.count_ballots
        rng = random.Random(7)
        with database.engine.begin() as connection:
            connection.execute(text("SET LOCAL synchronous_commit = off"))
            first = connection.scalar(text("SELECT coalesce(max(id), 0) FROM t_bench.ballots")) + 1
            envelope_id = connection.scalar(text("SELECT envelope_id FROM t_bench.projects LIMIT 1"))
            raw = connection.connection.dbapi_connection
            with raw.cursor() as cursor:
                with cursor.copy("COPY t_bench.ballots (id, cycle_id, channel) FROM STDIN") as copy:
                    for i in range(n):
                        copy.write_row((first + i, cycle["id"], "online"))
                with cursor.copy(
                    "COPY t_bench.ballot_choices (ballot_id, project_id, envelope_id, value) FROM STDIN"
                ) as copy:
                    for i in range(n):
                        for p in rng.sample(ids, rng.randint(1, 3)):
                            copy.write_row((first + i, p, envelope_id, 1))
            # The rows carry their ids: move the sequence past them for later inserts.
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('t_bench.ballots', 'id'), :last)"),
                {"last": first + n - 1},
            )
        requests.post(f"{cycle_url}/phase", headers=staff, json={"to": "results"}).raise_for_status()
        started = time.perf_counter()
        counted = requests.post(f"{cycle_url}/results", headers=staff, timeout=600)
        count_seconds = time.perf_counter() - started
        voters = max(r["record"]["voters"] for r in counted.json())
        print(
            f"count through the API: {voters} ballots in the envelope, all envelopes counted in "
            f"{count_seconds:.2f} s (HTTP {counted.status_code})"
        )
    finally:
        server.terminate()
        server.wait(10)
        database.dispose()


if __name__ == "__main__":
    main()
