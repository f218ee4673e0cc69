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
A third lane casts ballots through the resident's page (`--page-ballots`, default on): each
client is one browser (its CSRF cookie and token read once from /receipts), and each ballot is
one distinct signed-in resident posting the review form (`POST /t/bench/vote/<envelope>/review`
with the reviewed choices, basis, birth year, the CSRF token), answered 303 to the receipt: the
same write path as the API's vote.
Afterwards the database must hold exactly as many ballots and voter marks as were accepted.
Then 100,000 ballots are loaded in bulk and the cycle is counted through the API. Last, the
ballot page of an envelope of 200 projects is timed in process (Flask test client, signed in,
with a draft): server time per request, p50/p95, and its HTML and script sizes gzipped.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from sqlalchemy import func, select, text

from benchmarks.common import ROOT, fresh_database, percentiles

DONG = "4111156000"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(settings, residents: int = 0):
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
    tokens: dict[str, Any] = {}
    with session_without_tenant(database.engine) as session:
        for role in ("staff", "officer", "tenant_admin"):
            _, tokens[role] = create_token(
                session, name=role, role=Role(role), tenant_id=tenant_id, actor="bench"
            )
    tokens["residents"] = _residents(database.engine, tenant_id, residents)
    return database, tokens


def _residents(engine, tenant_id: int, count: int) -> list[str]:
    """Credentials of `count` distinct residents, each issued to a person (an account), as a
    sign-in at the portal gives one: the page path needs a person, one per ballot."""
    from saas.core.accounts.models import Account, Role
    from saas.core.accounts.tokens import create_token
    from saas.core.tenancy.binding import session_without_tenant

    secrets_ = []
    with session_without_tenant(engine) as session:
        accounts = [Account(display_name=f"resident {i}") for i in range(count)]
        session.add_all(accounts)
        session.flush()
        for account in accounts:
            _, secret = create_token(
                session,
                name="resident",
                role=Role.RESIDENT,
                tenant_id=tenant_id,
                account_id=account.id,
                actor="bench",
            )
            secrets_.append(secret)
    return secrets_


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


_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _browser(connection: http.client.HTTPConnection, portal: str) -> tuple[str, str]:
    """A browser's CSRF cookie and the token of its forms, read once from the receipts page."""
    connection.request("GET", f"{portal}/receipts")
    response = connection.getresponse()
    html = response.read().decode()
    cookie = next(
        part.split("=", 1)[1]
        for header in response.headers.get_all("Set-Cookie") or []
        for part in [header.split(";", 1)[0]]
        if part.startswith("chamyeo_csrf=")
    )
    found = _CSRF.search(html)
    assert found is not None, html[:500]
    return cookie, found.group(1)


def _post_page_ballots(args: tuple) -> tuple[int, int, float, float]:
    """Cast ballots as residents do on the page: one review form posted per distinct person."""
    base, cycle_id, envelope_key, envelope_id, residents, project_ids, seed = args
    connection = _connection(base)
    portal = urlsplit(base).path
    cookie, token = _browser(connection, portal)
    path = f"{portal}/vote/{envelope_key}/review"
    rng = random.Random(seed)
    accepted = refused = 0
    started, cpu = time.perf_counter(), time.process_time()
    for resident in residents:
        form = [
            ("csrf_token", token),
            ("cycle", str(cycle_id)),
            ("basis", "resident"),
            ("birth_year", "1980"),
        ]
        form += [("choice", f"{envelope_id}.{p}.1") for p in rng.sample(project_ids, 3)]
        headers = {
            "Authorization": f"Bearer {resident}",
            "Cookie": f"chamyeo_csrf={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status = _call(connection, "POST", path, urlencode(form).encode(), headers)
        if status == 303:
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


def _ballot_page_times(settings, staff_token: str, resident_token: str, requests_: int) -> None:
    """Server time of the ballot page of an envelope of 200 projects (a new cycle of the bench
    tenant, in voting), signed in with a draft of five, through the app in this process."""
    from werkzeug.datastructures import MultiDict

    from saas.app import create_app

    app = create_app(settings)
    client = app.test_client()
    staff = {"Authorization": f"Bearer {staff_token}"}
    api = "/t/bench/api/v1"
    cycle = client.post(
        f"{api}/cycles",
        headers=staff,
        json={
            "name_ko": "쪽 시간",
            "name_en": "Page time",
            "fiscal_year": 2028,
            "starts_on": "2028-03-01",
            "total_budget": 4_400_000_000,
        },
    ).get_json()
    url = f"{api}/cycles/{cycle['id']}"
    envelope = f"dong-{DONG}"
    ids = []
    for i in range(200):
        response = client.post(
            f"{url}/projects",
            headers=staff,
            json={
                "envelope": envelope,
                "code": f"Q{i:03d}",
                "title_ko": f"우리 동네 사업 {i} — 보행로와 쉼터",
                "category_key": "dong",
                "cost": 1_000_000 + i * 10_000,
            },
        )
        ids.append(response.get_json()["id"])
    keys = [p["key"] for p in cycle["phases"]]
    for key in keys[: keys.index("voting") + 1]:
        assert client.post(f"{url}/phase", headers=staff, json={"to": key}).status_code == 200
    resident = {"Authorization": f"Bearer {resident_token}"}
    page = f"/t/bench/vote/{envelope}"
    first = client.get("/t/bench/receipts", headers=resident).get_data(as_text=True)
    token = _CSRF.search(first).group(1)
    form = [("csrf_token", token), ("action", "update"), *(("project", str(p)) for p in ids[:5])]
    assert client.post(page, data=MultiDict(form), headers=resident).status_code in (303, 422)
    for _ in range(20):
        client.get(page, headers=resident)
    samples = []
    for _ in range(requests_):
        started = time.perf_counter()
        response = client.get(page, headers=resident)
        body = response.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, body[:500]
    stats = percentiles(samples)
    script = (ROOT / "tenants/voting/static/js/ballot.js").read_bytes()
    core = (ROOT / "saas/core/web/static/js/portal.js").read_bytes()
    print(
        f"ballot page, 200 projects, signed in with a draft: {requests_} GETs in process, "
        f"server time p50 {stats['p50']:.1f} ms, p95 {stats['p95']:.1f} ms; HTML {len(body) / 1024:.0f} KB "
        f"({len(gzip.compress(body)) / 1024:.1f} KB gzipped); "
        f"JS {len(gzip.compress(script + core)) / 1024:.1f} KB gzipped"
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
        "--page-ballots",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also cast ballots through the resident's page (its review form), in the same rounds",
    )
    parser.add_argument("--page-requests", type=int, default=300, help="GETs of the 200-project ballot page")
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
    database, tokens = _setup(settings, residents=options.ballots if options.page_ballots else 1)
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
        with database.engine.begin() as connection:
            # The template asks online voters for the national IdP; the residents here sign in
            # with tokens issued to their accounts (the tests lift the rule the same way).
            connection.execute(
                text(
                    "UPDATE t_bench.cycles SET eligibility = eligibility || "
                    "'{\"online_requires_national_idp\": false}'::jsonb WHERE id = :id"
                ),
                {"id": cycle["id"]},
            )
            envelope_id = connection.scalar(text("SELECT envelope_id FROM t_bench.projects LIMIT 1"))
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
        if options.page_ballots:

            def page_jobs(r: int) -> list[tuple]:
                return [
                    (
                        f"{base_url}/t/bench",
                        cycle["id"],
                        f"dong-{DONG}",
                        envelope_id,
                        tokens["residents"][(r * options.clients + c) * per_round :][:per_round],
                        ids,
                        r * 100 + c,
                    )
                    for c in range(options.clients)
                ]

            lanes.append(
                Lane(
                    "ballots through the page (review form posted), code of " + str(ROOT),
                    _post_page_ballots,
                    page_jobs,
                    meters[0],
                )
            )
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
        if options.page_requests:
            _ballot_page_times(settings, tokens["staff"], tokens["residents"][-1], options.page_requests)
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
        database.dispose()


if __name__ == "__main__":
    main()
