"""The schemathesis command line against a live server: gunicorn serving the app on a free
port of 127.0.0.1 (the test database and Redis), every check but positive-data acceptance
(data-dependent refusals, such as a phase that does not allow an action, make it noisy),
and no finding allowed.

Tenant routes run with a tenant admin's token of a portal of their own (`live`), control-plane
routes with a ministry admin's; both point `{slug}` at that portal so the cases get past
tenant resolution. The run is bounded: few examples per operation, no stateful phase."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_EXAMPLES = 6
EXCLUDED_CHECKS = "positive_data_acceptance"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(settings, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "CHAMYEO_ENV": "test",
        "CHAMYEO_HOME": str(tmp_path / "home"),
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SECRET_KEY": settings.secret_key,
        "VOTER_KEY_SECRET": settings.voter_key_secret,
        "PLATFORM_DOMAIN": settings.platform_domain,
        "PORT": str(port),
    }
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
            "saas.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"gunicorn did not start:\n{(tmp_path / 'gunicorn.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the group of the server this fixture started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _config(path: Path, *, tenant_token: str, ministry_token: str, slug: str, control_slug: str) -> Path:
    path.write_text(
        f"""
hooks = "tests.foundation.schemathesis_hooks"

# A body over MAX_CONTENT_LENGTH (an array longer than its maxItems can be) is refused with
# 413 before validation: a rejection too.
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]

[[operations]]
include-path-regex = "^/t/"
headers = {{ Authorization = "Bearer {tenant_token}" }}
parameters = {{ "path.slug" = "{slug}" }}

[[operations]]
exclude-path-regex = "^/t/"
headers = {{ Authorization = "Bearer {ministry_token}" }}
parameters = {{ "path.slug" = "{control_slug}" }}
"""
    )
    return path


@pytest.fixture
def no_default_plan_left(engine):
    """Fuzzed requests may mark a billing plan as the default; later tests provision tenants
    without a Stripe gateway, so the default is cleared afterwards."""
    yield
    from sqlalchemy import update

    from saas.billing.models import Plan

    with engine.begin() as connection:
        connection.execute(update(Plan).values(is_default=False))


def test_schemathesis_finds_nothing_against_a_live_server(
    live_server, make_tenant, platform_tokens, tmp_path, no_default_plan_left
):
    tenant = make_tenant("live")
    # The control plane's cases suspend, resume and upgrade their tenant: one of its own.
    managed = make_tenant("live_managed")
    config = _config(
        tmp_path / "schemathesis.toml",
        tenant_token=tenant.tokens["tenant_admin"],
        ministry_token=platform_tokens["ministry_admin"],
        slug=tenant.slug,
        control_slug=managed.slug,
    )
    command = [
        str(BIN / "st"),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{live_server}/api/openapi.json",
        "--url",
        live_server,
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "2",
        "--seed",
        "12",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--output-truncate",
        "false",
    ]
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # for the hooks module
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    (tmp_path / "schemathesis.out").write_text(run.stdout + run.stderr)
    print(f"schemathesis ran {elapsed:.0f} s; its output: {tmp_path / 'schemathesis.out'}")
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
