"""`chamyeo up` keeps the platform running: a child that exits is restarted (and the event
logged) while the web server goes on answering, and the worker outlives a Redis that stops
answering for longer than its timeout. Only SIGINT / SIGTERM stop everything."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.foundation.test_up import _free_port

ROOT = Path(__file__).resolve().parents[2]
WORKER_TTL = 16  # RQ: dequeue waits 1 s, a Redis read times out after 11 s
_OUTPUT: dict[int, tuple[list[str], threading.Thread]] = {}  # pid -> its output lines, reader


def _env(home: Path, port: int) -> dict[str, str]:
    drop = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CHAMYEO_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(CHAMYEO_HOME=str(home), PORT=str(port), WEB_WORKERS="1", WORKER_TTL=str(WORKER_TTL))
    return env


def _children(process: subprocess.Popen[str], *words: str) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            cmdline = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue
        if all(word in cmdline for word in words):
            found.append(child)
    return found


def _worker(process: subprocess.Popen[str]) -> psutil.Process | None:
    # The worker command itself (its forked job horses share the command line: the eldest).
    workers = [p for p in _children(process, "saas.cli", "worker") if p.ppid() == process.pid]
    return workers[0] if workers else None


def _registered_workers(env: dict[str, str]) -> set[str]:
    import redis
    from rq import Worker

    socket_path = Path(env["CHAMYEO_HOME"]).resolve() / "redis" / "redis.sock"
    with redis.Redis(unix_socket_path=str(socket_path), socket_timeout=5) as connection:
        return {worker.name for worker in Worker.all(connection=connection)}


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def platform():
    home = ROOT / ".chamyeo" / "test" / f"sup-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    port = _free_port()
    env = _env(home, port)
    process = subprocess.Popen(
        [sys.executable, "-m", "saas.cli", "up", "--no-demo"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    _OUTPUT[process.pid] = (lines, reader)
    deadline = time.monotonic() + 120
    # Up once `chamyeo up` says so (it has then seen /healthz answer and supervises).
    while not any("Press Ctrl-C to stop." in line for line in list(lines)):
        assert process.poll() is None, "".join(lines)
        assert time.monotonic() < deadline, f"chamyeo up did not start:\n{''.join(lines)}"
        time.sleep(0.3)
    assert _healthy(base)
    yield process, base, env
    if process.poll() is None:
        _stop(process)
    shutil.rmtree(home, ignore_errors=True)


def test_a_killed_worker_comes_back_while_the_platform_answers(platform):
    process, base, _env = platform
    first = _worker(process)
    assert first is not None
    assert (Path(_env["CHAMYEO_HOME"]) / "gunicorn.ctl").exists(), "the control socket lives in CHAMYEO_HOME"
    first.kill()
    deadline = time.monotonic() + 20
    again = None
    while time.monotonic() < deadline:
        assert _healthy(base), "the platform stopped answering when its worker died"
        again = _worker(process)
        if again is not None and again.pid != first.pid:
            break
        time.sleep(0.2)
    assert again is not None and again.pid != first.pid, "the worker was not restarted"
    assert process.poll() is None
    output = _stop(process)
    assert f"worker (pid {first.pid}) exited with status" in output and "worker restarted (pid" in output


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM stops everything; the output says what happened on the way."""
    descendants = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    lines, reader = _OUTPUT[process.pid]
    reader.join(10)
    if process.stdout is not None:
        process.stdout.close()
    output = "".join(lines)
    assert process.returncode == 0, output
    _gone, alive = psutil.wait_procs(descendants, timeout=15)
    assert alive == [], f"still running after SIGTERM: {[p.pid for p in alive]}"
    return output


def test_the_worker_outlives_a_paused_redis_and_runs_the_next_provisioning_job(platform):
    process, base, env = platform
    worker = _worker(process)
    redis_server = _children(process, "redis-server")
    assert worker is not None and len(redis_server) == 1
    before = _registered_workers(env)
    assert before, "no worker registered in Redis"
    redis_server[0].suspend()  # SIGSTOP: no answers, connections stay open
    try:
        paused_at = time.monotonic()
        # The web server still answers, and says what is wrong, within its probe's timeout.
        health = requests.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["queue"].startswith("error"), health.text
        assert health.json()["database"] == "ok"
        time.sleep(max(0.0, WORKER_TTL - 5 + 3 - (time.monotonic() - paused_at)))  # past the worker's timeout
    finally:
        redis_server[0].resume()
    # The worker that timed out gives way to a new one (registered under a new name).
    deadline = time.monotonic() + 30
    while not (_registered_workers(env) - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _registered_workers(env) - before, "no new worker after Redis came back"
    assert process.poll() is None
    created = subprocess.run(
        [sys.executable, "-m", "saas.cli", "tenants", "create", "afterpause", "--region", "11680",
         "--template", "neighbourhood", "--wait"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    assert "no worker is running" not in created.stderr, "the job must run on the supervised worker"
    assert "t_afterpause: active" in created.stdout
    assert _healthy(base)
    output = _stop(process)
    assert "Redis connection timeout" in output, "the pause was not longer than the worker's timeout"
    assert "a new one once Redis answers" in output


def test_an_embedded_redis_that_dies_is_started_again(platform):
    process, base, _env = platform
    worker = _worker(process)
    (redis_server,) = _children(process, "redis-server")
    redis_server.kill()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        servers = _children(process, "redis-server")
        if servers and servers[0].pid != redis_server.pid and _healthy(base):
            break
        time.sleep(0.3)
    else:
        state = [(p.pid, p.status()) for p in _children(process, "redis-server")]
        healthy = _healthy(base)
        pytest.fail(f"the embedded Redis did not come back: {state}, healthy: {healthy}\n{_stop(process)}")
    assert _worker(process) is not None and worker is not None
    output = _stop(process)
    assert "embedded Redis exited with status" in output and "embedded Redis restarted" in output
