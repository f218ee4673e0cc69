"""`chamyeo up`: the whole platform on one machine, with demo data.

Starts (or re-attaches to) the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL
are set, upgrades the database, seeds the demo once, then runs an RQ worker and the web
server (gunicorn) until Ctrl-C, and stops everything it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import click

from saas.settings import Settings


def _persistent_secret_key(home: Path) -> str:
    path = home / "secret_key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _persistent_voter_key_secret(home: Path, inherited: str | None) -> str:
    """The voter key secret kept under `home`, made once: `inherited` (the secret that keyed
    the voter marks a home already holds, from before voter keys had a secret of their own)
    or, for a new home, a random one, never the secret key."""
    path = home / "voter_key_secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(inherited or secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _with_home_secrets(base: Settings, env: Mapping[str, str]) -> Settings:
    """`base` with the secrets that the environment does not set taken from `base.home`,
    where they are made once and kept (so voter keys and sessions survive restarts)."""
    # A home that holds a secret key or a database was used before voter keys had a secret
    # of their own: its voter marks are keyed with the secret key in effect, so that key
    # becomes its voter key secret. A new home gets a random one.
    used_before = (base.home / "secret_key").exists() or (base.home / "pg").exists()
    if not env.get("SECRET_KEY", "").strip():
        base = replace(base, secret_key=_persistent_secret_key(base.home))
    if not env.get("VOTER_KEY_SECRET", "").strip():
        inherited = base.secret_key if used_before else None
        base = replace(base, voter_key_secret=_persistent_voter_key_secret(base.home, inherited))
    return base


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


def _wait_healthy(url: str, processes: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise click.ClickException("a process stopped during start-up; see its output above")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"{url} did not answer within {timeout:.0f} s")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@click.command()
@click.option("--no-demo", is_flag=True, help="Do not seed the demo data.")
def up(no_demo: bool) -> None:
    """Start the platform with demo data on http://HOST:PORT (Ctrl-C stops everything)."""
    from saas.cli.demo import seed_demo
    from saas.db import Database
    from saas.queue import Queues
    from saas.schema import fleet
    from saas.schema.migrate import upgrade_control
    from saas.services import attached_services

    base = _with_home_secrets(Settings.from_env(), os.environ)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    with attached_services(base) as settings:
        click.echo(f"database  {Database.describe(settings.database_url)}")
        click.echo(f"queue     {settings.redis_url}")
        database = Database()
        database.configure(settings)
        upgrade_control(database.engine)
        report = fleet.upgrade_all(database.engine, progress=click.echo)
        click.echo(f"migrations: control at head; {report.summary()}")
        processes: list[subprocess.Popen[bytes]] = []
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            if not settings.stripe_api_key:  # offline: billing runs against our fake Stripe
                from saas.billing.demo import start_fake_stripe

                fake_stripe, settings = start_fake_stripe(settings, _child_env(settings))
                processes.append(fake_stripe)
            env = _child_env(settings)
            processes.append(subprocess.Popen([sys.executable, "-m", "saas.cli", "worker"], env=env))
            queues = Queues()
            queues.configure(settings)
            credentials = None
            if not no_demo:
                credentials = seed_demo(database.engine, queues, settings, echo=click.echo)
            processes.append(
                subprocess.Popen(
                    [
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
                        "saas.wsgi:app",
                    ],
                    env=env,
                )
            )
            _wait_healthy(f"{settings.base_url}/healthz", processes)
            _print_welcome(settings, credentials)
            while not stopping and all(p.poll() is None for p in processes):
                time.sleep(0.2)
        finally:
            click.echo("stopping …")
            _stop(processes)
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
        from saas.billing.gateway import FAKE_API_KEY

        fake = settings.stripe_api_key == FAKE_API_KEY
        where = f"the FAKE Stripe at {settings.stripe_api_base} (not Stripe)" if fake else "Stripe"
        lines.append(f"  billing        runs against {where}; see `chamyeo billing --help`")
    lines += ["Press Ctrl-C to stop.", ""]
    click.echo("\n".join(lines))
