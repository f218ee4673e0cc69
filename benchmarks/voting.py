"""Ballots per second through the API, and the time to count a 100,000-ballot cycle.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python -m benchmarks.voting [--ballots 4000] [--clients 4] [--web-workers 4] \
        [--web-threads 4] [--against ../earlier-checkout]

One run: a scratch database, a tenant provisioned through the real steps, a cycle with ten
projects, gunicorn serving the app on loopback (workers with threads, as in production), and
several client processes, each on one keep-alive connection, that check voters in with their
on-site ballot (distinct people; every response's status is checked, none is retried).
Baseline in the same run, in rounds alternating with the ballots: the same clients hitting
/healthz (one database round trip and a Redis ping), so the ratio shows what a ballot costs.
With `--against`, a second server runs another checkout's code (a git worktree of an earlier
commit, say) against the same database, and takes its ballots in the same rounds.
Each line also splits the CPU time per request between the server's processes, PostgreSQL's
(when it runs on this machine) and the clients'.
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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import func, select, text

from benchmarks.common import ROOT, fresh_database

DONG = "4111156000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(settings):
    from migrations.runner import upgrade_control
    from provisioning.lifecycle import do_register_tenant
    from provisioning.runner import run_provisioning
    from saas.core.accounts.models import Role
    from saas.core.accounts.tokens import create_token
    from saas.core.db import Database
    from saas.core.tenancy.binding import session_without_tenant

    database = Database()
    database.configure(settings)
    upgrade_control(database.engine)
    with session_without_tenant(database.engine) as session:
        tenant = do_register_tenant(
            session,
            slug="bench",
            region_code="41110",
            template="neighbourhood",
            platform_domain=settings.platform_domain,
            actor="bench",
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


def _post_ballots(args: tuple[str, str, int, int, list[int]]) -> tuple[int, int, float, float]:
    base, token, start, count, project_ids = args
    connection = _connection(base)
    path = f"{urlsplit(base).path}/check-ins"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    accepted = refused = 0
    rng = random.Random(start)
    started, cpu = time.perf_counter(), time.process_time()
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
    return accepted, refused, time.perf_counter() - started, time.process_time() - cpu


def _get_health(args: tuple[str, int]) -> tuple[int, int, float, float]:
    url, count = args
    connection = _connection(url)
    path = urlsplit(url).path
    started, cpu = time.perf_counter(), time.process_time()
    ok = sum(_call(connection, "GET", path, None, {}) == 200 for _ in range(count))
    return ok, count - ok, time.perf_counter() - started, time.process_time() - cpu


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each of these processes (all their threads), from /proc."""
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return seconds


def _processes(command: str) -> list[int]:
    """The pids of processes named `command` (the database server's, if it runs here)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == command:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


class CpuMeter:
    """CPU seconds spent by the server (gunicorn and its workers) and the database server
    (every `postgres` process on this machine; none when it runs elsewhere), so each request's
    cost can be split by where it was spent. Processes are looked up at every reading: the
    database starts a process per new connection."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    def read(self) -> tuple[dict[int, float], dict[int, float]]:
        server = _cpu_seconds([self.server_pid, *_children(self.server_pid)])
        return server, _cpu_seconds(_processes("postgres"))

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU seconds between two readings (a process new since `before` counts in full)."""
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass
class Lane:
    """One kind of request measured in every round: what the clients run and against which
    server, and the totals so far (ok, failed, seconds, client, server and database CPU)."""

    label: str
    client: Callable[[tuple], tuple[int, int, float, float]]
    jobs: Callable[[int], list[tuple]]  # the clients' arguments in round r
    meter: CpuMeter
    totals: list[float] = field(default_factory=lambda: [0.0] * 6)

    def run(self, pool: ProcessPoolExecutor, round_: int) -> None:
        server, database = self.meter.read()
        started = time.perf_counter()
        results = list(pool.map(self.client, self.jobs(round_)))
        seconds = time.perf_counter() - started
        server_after, database_after = self.meter.read()
        this_round = [
            sum(r[0] for r in results),
            sum(r[1] for r in results),
            seconds,
            sum(r[3] for r in results),
            CpuMeter.spent(server, server_after),
            CpuMeter.spent(database, database_after),
        ]
        self.totals = [a + b for a, b in zip(self.totals, this_round, strict=True)]

    @property
    def rate(self) -> float:
        return self.totals[0] / self.totals[2]

    def report(self, baseline: Lane | None) -> str:
        ok, failed, seconds = int(self.totals[0]), int(self.totals[1]), self.totals[2]
        client, server, database = (1000 * t / max(ok, 1) for t in self.totals[3:6])
        ratio = f" (ratio to baseline {self.rate / baseline.rate:.2f})" if baseline else ""
        return (
            f"{self.label}: {ok} ok, {failed} failed in {seconds:.2f} s = {self.rate:.0f}/s{ratio}\n"
            f"  CPU per request: server {server:.2f} ms, database {database:.2f} ms, "
            f"client {client:.2f} ms (total {server + database + client:.2f} ms)"
        )


def _alternate(options: argparse.Namespace, lanes: list[Lane]) -> None:
    """Every lane once per round, in turn, so that load from elsewhere on the machine weighs
    on all of them alike."""
    with ProcessPoolExecutor(max_workers=options.clients) as pool:
        warm = lanes[0].jobs(0)[0][0]
        list(pool.map(_get_health, [(warm, 1)] * options.clients))  # start the client processes
        for r in range(options.rounds):
            for lane in lanes:
                lane.run(pool, r)


def _start_server(
    code: Path, port: int, env: dict[str, str], options: argparse.Namespace
) -> subprocess.Popen:
    """gunicorn serving the checkout at `code` (its own packages come first on the path)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(code),
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
        cwd=code,
        env=env,
    )
    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"the server of {code} did not come up")


def _open_cycle(api: str, staff: dict[str, str]) -> tuple[dict, str, list[int]]:
    """A cycle with ten projects in one dong envelope, walked to voting."""
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
        timeout=60,
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
            timeout=60,
        ).json()["id"]
        for i in range(10)
    ]
    keys = [p["key"] for p in cycle["phases"]]
    for key in keys[: keys.index("voting") + 1]:
        requests.post(f"{cycle_url}/phase", headers=staff, json={"to": key}, timeout=60).raise_for_status()
    return cycle, cycle_url, ids


def _count_large_cycle(database, options, cycle: dict, cycle_url: str, ids: list[int], staff: dict) -> None:
    """Bulk-load ballots, then count the cycle through the API."""
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
    requests.post(f"{cycle_url}/phase", headers=staff, json={"to": "results"}, timeout=60).raise_for_status()
    started = time.perf_counter()
    counted = requests.post(f"{cycle_url}/results", headers=staff, timeout=600)
    count_seconds = time.perf_counter() - started
    voters = max(r["record"]["voters"] for r in counted.json())
    print(
        f"count through the API: {voters} ballots in the envelope, all envelopes counted in "
        f"{count_seconds:.2f} s (HTTP {counted.status_code})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=4)
    # As production runs gunicorn (infra/Procfile, `chamyeo up`): threads, hence keep-alive.
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--count-ballots", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of baseline and ballots")
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout (e.g. a git worktree of an earlier commit): its server takes ballots "
        "in the same rounds, against the same database, for a same-run comparison",
    )
    options = parser.parse_args()

    from saas.core.settings import Settings

    database_url = fresh_database("chamyeo_bench_voting")
    settings = Settings(
        environment="test",
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        secret_key="bench",
        voter_key_secret="bench-voters",
    )
    database, tokens = _setup(settings)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": "bench",
        "VOTER_KEY_SECRET": "bench-voters",  # every server process keys voters alike
        "CHAMYEO_ENV": "test",
    }
    codes = [ROOT] + ([options.against.resolve()] if options.against else [])
    ports = [_free_port() for _ in codes]
    servers = []
    try:
        for code, port in zip(codes, ports, strict=True):
            servers.append(_start_server(code, port, env, options))
        base_url = f"http://127.0.0.1:{ports[0]}"
        staff = {"Authorization": f"Bearer {tokens['staff']}"}
        cycle, cycle_url, ids = _open_cycle(f"{base_url}/t/bench/api/v1", staff)
        per_round = options.ballots // options.clients // options.rounds
        meters = [CpuMeter(server.pid) for server in servers]

        def ballots_on(port: int, lane: int):
            url = cycle_url.replace(base_url, f"http://127.0.0.1:{port}")

            def jobs(r: int) -> list[tuple]:
                # Distinct people in every lane, client and round.
                first = ((lane * options.rounds + r) * options.clients) * per_round
                return [
                    (url, tokens["officer"], first + c * per_round, per_round, ids)
                    for c in range(options.clients)
                ]

            return jobs

        baseline = Lane(
            "baseline GET /healthz",
            _get_health,
            lambda r: [(f"{base_url}/healthz", per_round)] * options.clients,
            meters[0],
        )
        lanes = [baseline] + [
            Lane(
                f"ballots (on-site check-in + ballot), code of {code}",
                _post_ballots,
                ballots_on(port, i),
                meter,
            )
            for i, (code, port, meter) in enumerate(zip(codes, ports, meters, strict=True))
        ]
        _alternate(options, lanes)

        from saas.core.tenancy.binding import tenant_session
        from tenants.voting.models import Ballot, VoterMark

        with tenant_session(database.engine, "bench") as session:
            ballots = session.scalar(select(func.count()).select_from(Ballot))
            marks = session.scalar(select(func.count()).select_from(VoterMark))
        accepted = int(sum(lane.totals[0] for lane in lanes[1:]))
        print(
            f"machine: {os.cpu_count()} cores; gunicorn workers: {options.web_workers} "
            f"x {options.web_threads} threads; client processes: {options.clients} "
            f"(http.client, keep-alive); {options.rounds} rounds, each lane in turn"
        )
        for lane in lanes:
            print(lane.report(None if lane is baseline else baseline))
        print(
            f"stored: {ballots} ballots, {marks} voter marks (accepted {accepted}): "
            f"{'OK' if ballots == marks == accepted else 'MISMATCH'}"
        )
        _count_large_cycle(database, options, cycle, cycle_url, ids, staff)
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        database.dispose()


if __name__ == "__main__":
    main()
