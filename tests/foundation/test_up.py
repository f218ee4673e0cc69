"""`chamyeo up` on a fresh home: embedded servers, migrations, demo data, worker and web
server; Ctrl-C stops every process it started; a second start finds the data again."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(home: Path, port: int) -> subprocess.Popen[str]:
    # No CHAMYEO_ENV: `chamyeo up` chooses development by itself.
    drop = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CHAMYEO_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(CHAMYEO_HOME=str(home), PORT=str(port), WEB_WORKERS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "saas.cli", "up"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for(url: str, process: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not come up")


def _stop(process: subprocess.Popen[str]) -> str:
    descendants = psutil.Process(process.pid).children(recursive=True)
    assert len(descendants) >= 2, "expected at least a worker and a web server"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    gone, alive = psutil.wait_procs(descendants, timeout=15)
    assert alive == [], f"still running after Ctrl-C: {[p.cmdline() for p in alive]}"
    return output


def test_up_starts_everything_on_a_fresh_home_and_stops_it_on_ctrl_c():
    home = ROOT / ".chamyeo" / "test" / "up-home"
    shutil.rmtree(home, ignore_errors=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"

    process = _start(home, port)
    try:
        _wait_for(f"{base}/healthz", process)
        assert requests.get(f"{base}/healthz", timeout=30).json() == {
            "status": "ok",
            "database": "ok",
            "queue": "ok",
        }
        assert requests.get(f"{base}/api/openapi.json", timeout=30).json()["info"]["title"] == "Chamyeo"
        assert requests.get(f"{base}/api/docs", timeout=30).status_code == 200
        portal = requests.get(f"{base}/t/gangnam/api/v1/portal", timeout=30).json()
        assert portal["name"] == "서울특별시 강남구"
        credentials = json.loads((home / "demo-credentials.json").read_text())
        ministry = {"Authorization": f"Bearer {credentials['ministry_admin']}"}
        slugs = {
            t["slug"]: t["status"]
            for t in requests.get(f"{base}/api/v1/tenants", headers=ministry, timeout=30).json()
        }
        assert slugs == {"gangnam": "active", "suwon": "active"}
        _assert_billed_with_a_subsidy(base, credentials)
        _assert_a_newcomer_signs_in_as_demo_roles(base)
    finally:
        if process.poll() is None:
            first_output = _stop(process)
    assert "Chamyeo is running" in first_output
    assert "Development sign-in" in first_output and "/dev-idp/" in first_output
    if not os.environ.get("STRIPE_API_KEY"):
        assert "billing        runs against the FAKE Stripe at http://127.0.0.1:" in first_output
        assert (home / "stripe-fake.json").exists(), "the fake keeps its objects for the next start"
    assert not (home / "pg" / "postmaster.pid").exists(), "the embedded PostgreSQL must be stopped"

    process = _start(home, port)
    try:
        _wait_for(f"{base}/healthz", process)
        staff = {"Authorization": f"Bearer {credentials['suwon/tenant_admin']}"}
        assert requests.get(f"{base}/t/suwon/api/v1/members", headers=staff, timeout=30).status_code == 200
    finally:
        second_output = _stop(process)
    assert "demo: provisioning" not in second_output, "the demo is seeded once"
    shutil.rmtree(home, ignore_errors=True)


def _assert_a_newcomer_signs_in_as_demo_roles(base: str) -> None:
    """The development IdP that `chamyeo up` serves and registers: no external IdP needed."""
    from tests.identity.dev_sign_in import sign_in_as

    _, staff = sign_in_as(base, "gangnam", "gangnam", "staff")
    assert staff["roles"] == ["resident", "staff"]
    ministry, _ = sign_in_as(base, "suwon", "national", "ministry-admin")
    assert ministry.http.get(f"{base}/api/v1/tenants", timeout=10).status_code == 200


def _assert_billed_with_a_subsidy(base: str, credentials: dict[str, str]) -> None:
    """Without STRIPE_API_KEY the demo bills through the fake: each portal's first invoice
    arrives by signed webhook and carries the ministry's subsidy (processed by the worker)."""
    if os.environ.get("STRIPE_API_KEY"):
        return
    deadline = time.monotonic() + 30
    for slug in ("gangnam", "suwon"):
        admin = {"Authorization": f"Bearer {credentials[f'{slug}/tenant_admin']}"}
        invoices: list[dict[str, int]] = []
        while not invoices and time.monotonic() < deadline:
            invoices = requests.get(
                f"{base}/t/{slug}/api/v1/billing/invoices", headers=admin, timeout=30
            ).json()
            time.sleep(0.3)
        assert invoices, f"{slug} has no invoice"
        first = invoices[0]
        assert first["subsidy"] > 0 and first["net"] == first["gross"] - first["subsidy"]
