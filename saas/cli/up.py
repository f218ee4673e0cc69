"""`chamyeo up`: the whole platform on one machine, with demo data.

Starts (or re-attaches to) the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL
are set, upgrades the database, seeds the demo once, then runs an RQ worker and the web
server (gunicorn) until Ctrl-C, and stops everything it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from saas.cli.context import with_home_secrets as _with_home_secrets
from saas.core.settings import Settings

if TYPE_CHECKING:  # the development-only parts load when `up` runs, not when the CLI starts
    from saas.dev.embedded import EmbeddedRedis


def _child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=settings.database_url or "",
        REDIS_URL=settings.redis_url or "",
        CHAMYEO_ENV=settings.environment,
        CHAMYEO_HOME=str(settings.home.resolve()),
        SECRET_KEY=settings.secret_key,
        VOTER_KEY_SECRET=settings.voter_key_secret,
        PORT=str(settings.port),
        HOST=settings.host,
        PYTHONUNBUFFERED="1",
    )
    stripe = ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET")
    values = (settings.stripe_api_key, settings.stripe_api_base, settings.stripe_webhook_secret)
    env.update((name, value) for name, value in zip(stripe, values, strict=True) if value)
    return env


def _wait_healthy(
    url: str, processes: list[subprocess.Popen[bytes]], servers: list[EmbeddedRedis], timeout: float = 60
) -> None:
    """Until `url` answers 200 (the embedded Redis supervised meanwhile); a process that stops
    during start-up ends the start (a web server that cannot bind its port, say)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise click.ClickException("a process stopped during start-up; see its output above")
        for server in servers:
            _supervise_redis(server)
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"{url} did not answer within {timeout:.0f} s")


# A child that exits is started again after RESTART_FIRST_DELAY seconds, doubling up to
# RESTART_MAX_DELAY for one that keeps exiting; one that stayed up STAYED_UP seconds starts over.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
STAYED_UP = 60.0


class _Child:
    """One supervised process: its command, restarted with back-off whenever it exits."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], process: subprocess.Popen[bytes]
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.process = process
        self.started = time.monotonic()
        self.delay = RESTART_FIRST_DELAY
        self.restart_at: float | None = None

    @classmethod
    def start(cls, name: str, argv: list[str], env: dict[str, str]) -> _Child:
        return cls(name, argv, env, subprocess.Popen(argv, env=env))

    def supervise(self, now: float) -> None:
        if self.restart_at is None:
            code = self.process.poll()
            if code is None:
                return
            if now - self.started >= STAYED_UP:
                self.delay = RESTART_FIRST_DELAY
            self.restart_at = now + self.delay
            pid = self.process.pid
            _log(f"{self.name} (pid {pid}) exited with status {code}; restarting in {self.delay:.0f} s")
            self.delay = min(self.delay * 2, RESTART_MAX_DELAY)
        elif now >= self.restart_at:
            self.restart_at = None
            self.process = subprocess.Popen(self.argv, env=self.env)
            self.started = now
            _log(f"{self.name} restarted (pid {self.process.pid})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                _log(f"{self.name} (pid {self.process.pid}) did not stop within 15 s: killed")
                self.process.kill()
                self.process.wait()


def _supervise_redis(server: EmbeddedRedis) -> None:
    """Start the embedded Redis again if it exited (the worker and web server reconnect)."""
    code = server.exited()
    if code is None:
        return
    _log(f"embedded Redis exited with status {code}; restarting it")
    try:
        server.restart()
    except RuntimeError as error:  # tried again on the next round
        _log(str(error))
        time.sleep(RESTART_FIRST_DELAY)
        return
    _log("embedded Redis restarted")


def _log(message: str) -> None:
    click.echo(f"chamyeo up: {message}", err=True)


def _stop(children: list[_Child]) -> None:
    """Stop the children one by one, the last started first (the web server before the
    worker, the worker before the fake Stripe it may call)."""
    for child in reversed(children):
        child.stop()


def _gunicorn_argv(settings: Settings) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(settings.web_workers),
        # Threads: a sign-in calls this server back over HTTP (the hub's token
        # endpoint, the development IdP), which a lone sync worker would deadlock.
        "--threads",
        "4",
        "--bind",
        f"{settings.host}:{settings.port}",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]
    # gunicorn's control socket (gunicornc) lives under our home, not the user's (~/.gunicorn).
    control = (settings.home / "gunicorn.ctl").resolve()
    if len(str(control)) < 100:  # a Unix socket's path holds at most 107 bytes
        argv += ["--control-socket", str(control)]
    else:
        argv.append("--no-control-socket")
    return [*argv, "saas.wsgi:app"]


@click.command()
@click.option("--no-demo", is_flag=True, help="Do not seed the demo data.")
def up(no_demo: bool) -> None:
    """Start the platform with demo data on http://HOST:PORT (Ctrl-C stops everything)."""
    from migrations.runner import upgrade_control
    from provisioning import upgrade as fleet
    from saas.cli.demo import seed_demo
    from saas.core.db import Database
    from saas.core.queue import Queues
    from saas.dev.servers import attached_services

    # `chamyeo up` is the one server command that chooses development by itself.
    base = _with_home_secrets(Settings.from_env(default_environment="development"), os.environ)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    embedded_redis: list[EmbeddedRedis] = []
    with attached_services(base, started=embedded_redis) as settings:
        click.echo(f"database  {Database.describe(settings.database_url)}")
        click.echo(f"queue     {settings.redis_url}")
        database = Database()
        database.configure(settings)
        upgrade_control(database.engine)
        report = fleet.upgrade_all(database.engine, progress=click.echo)
        click.echo(f"migrations: control at head; {report.summary()}")
        children: list[_Child] = []
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            if not settings.stripe_api_key:  # offline: billing runs against our fake Stripe
                from saas.dev.demo_billing import start_fake_stripe

                stripe_env = _child_env(settings)
                fake_stripe, settings = start_fake_stripe(settings, stripe_env)
                command = cast("list[str]", fake_stripe.args)  # started from a list of strings
                children.append(_Child("fake Stripe", list(command), stripe_env, fake_stripe))
            env = _child_env(settings)
            children.append(_Child.start("worker", [sys.executable, "-m", "saas.cli", "worker"], env))
            queues = Queues()
            queues.configure(settings)
            credentials = None
            if not no_demo:
                credentials = seed_demo(database.engine, queues, settings, echo=click.echo)
            children.append(_Child.start("web server", _gunicorn_argv(settings), env))
            processes = [child.process for child in children]
            _wait_healthy(f"{settings.base_url}/healthz", processes, embedded_redis)
            _print_welcome(settings, credentials)
            # Until Ctrl-C / SIGTERM: a child that exits is restarted, not a reason to stop.
            while not stopping:
                now = time.monotonic()
                for server in embedded_redis:
                    _supervise_redis(server)
                for child in children:
                    child.supervise(now)
                time.sleep(0.2)
        finally:
            click.echo("stopping …")
            _stop(children)
            database.dispose()
    click.echo("stopped")


def _print_welcome(settings: Settings, credentials: Path | None) -> None:
    url = settings.base_url
    lines = [
        "",
        f"Chamyeo is running on {url}",
        f"  health         {url}/healthz",
        f"  API docs       {url}/api/docs",
        f"  OpenAPI        {url}/api/openapi.json",
        f"  demo portals   {url}/t/gangnam/api/v1/portal",
        f"                 {url}/t/suwon/api/v1/portal",
    ]
    if credentials is not None and settings.environment == "development":
        lines += [
            f"  sign in        {url}/t/gangnam/auth/login?next=/auth/me  (or /t/suwon/...)",
            "                 choose a 'Development sign-in' provider, then the demo person:",
            "                 national: ministry admin, auditor, residents;",
            "                 the portal's own: tenant admin, staff, officer, committee member",
            f"                 (development only; see {url}/dev-idp/)",
        ]
    if credentials is not None:
        lines += [
            f"  API tokens     for each demo role are in {credentials}",
            "                 send them as 'Authorization: Bearer <token>'",
        ]
    if settings.stripe_api_key:
        from saas.control.billing.gateway import FAKE_API_KEY

        fake = settings.stripe_api_key == FAKE_API_KEY
        where = f"the FAKE Stripe at {settings.stripe_api_base} (not Stripe)" if fake else "Stripe"
        lines.append(f"  billing        runs against {where}; see `chamyeo billing --help`")
    lines += ["Press Ctrl-C to stop.", ""]
    click.echo("\n".join(lines))
