"""Every `chamyeo` command as the README tells a person to run it: no DATABASE_URL, no
REDIS_URL, no CHAMYEO_ENV, one CHAMYEO_HOME, one command after another in its own process
(so each attaches to the embedded servers and lets them go). None ends in a traceback: a
refusal is one line on stderr and a non-zero exit status."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.counting.test_pabulib import GOOD

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def chamyeo(tmp_path):
    home = ROOT / ".chamyeo" / "test" / f"cli-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    drop = ("DATABASE_URL", "REDIS_URL", "CHAMYEO_ENV", "SECRET_KEY", "VOTER_KEY_SECRET")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("STRIPE_")}
    env.update(CHAMYEO_HOME=str(home), PORT="5999")

    def run(*args: str, fails: bool = False, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:  # noqa: E501
        result = subprocess.run(
            [sys.executable, "-m", "saas.cli", *args],
            cwd=tmp_path,
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=180,
        )
        shown = f"$ chamyeo {' '.join(args)}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr + result.stdout, shown
        if fails:
            assert result.returncode != 0, shown
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("Error: "), shown
        else:
            assert result.returncode == 0, shown
        return result

    yield run, tmp_path
    shutil.rmtree(home, ignore_errors=True)


def test_every_command_against_the_embedded_servers_one_after_another(chamyeo):
    run, here = chamyeo
    assert "tenants" in run("--help").stdout
    run("db", "upgrade")
    assert "tenant head" in run("db", "status").stdout
    run("db", "check")
    token = run("tokens", "create", "--role", "ministry_admin", "--name", "cli").stdout.strip()
    assert token.startswith("chy_")
    assert "ministry_admin" in run("tokens", "list").stdout

    created = run("tenants", "create", "seqtown", "--region", "11680", "--template", "neighbourhood", "--wait")  # noqa: E501
    assert "t_seqtown: active" in created.stdout
    assert re.search(r"^seqtown\tactive", run("tenants", "list").stdout, re.M)
    # Both ended in AdminShutdown: the command stopped the embedded server under its own session.
    assert "status            active" in run("tenants", "show", "seqtown").stdout
    assert json.loads(run("tenants", "show", "seqtown", "--json").stdout)["status"] == "active"
    run("tenants", "show", "nowhere", fails=True)
    assert "suspended" in run("tenants", "suspend", "seqtown", "--reason", "maintenance").stdout
    assert "active" in run("tenants", "resume", "seqtown").stdout
    run("tenants", "retry", "seqtown", fails=True)  # active: nothing to retry
    archive = here / "seqtown.export"
    run("tenants", "export", "seqtown", str(archive))
    run("tenants", "delete", "seqtown", "--confirm", "seqtown")
    run("tenants", "show", "seqtown", fails=True)
    assert "imported" in run("tenants", "import", str(archive)).stdout
    (here / "garbage").write_text("not an export")
    run("tenants", "import", str(here / "garbage"), fails=True)
    (here / "many.csv").write_text("slug,region,template\nseqmany,11110,neighbourhood\n")
    assert "1 of 1 tenant(s) active" in run("tenants", "create-many", str(here / "many.csv")).stdout

    assert "neighbourhood" in run("templates", "list").stdout
    assert json.loads(run("templates", "show", "neighbourhood").stdout)["name"] == "neighbourhood"
    run("templates", "show", "nothing", fails=True)
    assert "0 change(s)" in run("templates", "diff", "neighbourhood", "--tenant", "seqtown").stdout

    run("identity", "rotate-keys")
    run("identity", "list")
    run("identity", "test", "nothing", fails=True)

    run("billing", "plans", "list")
    run("billing", "programs", "list")
    run("billing", "verify", "nothing", fails=True)
    run("billing", "reconcile", fails=True)  # no Stripe named: says which settings to set
    assert "enqueued" in run("billing", "tick").stdout
    run("worker", "--burst")  # runs what tick enqueued, then stops

    assert "audit chain intact" in run("audit", "verify").stdout
    assert "tenant.register" in run("audit", "tail").stdout
    (here / "tiny.pb").write_text(GOOD.replace("vote_type;cumulative", "vote_type;cumulative\nrule;greedy"))
    assert json.loads(run("count", str(here / "tiny.pb")).stdout)["selected"] == ["1", "c2"]

    run("tokens", "revoke", "999999", fails=True)
    run("tenants", "list", extra={"PORT": "eighty"}, fails=True)  # a bad setting: one line
