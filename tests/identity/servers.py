"""Processes the identity tests and the sign-in benchmark run: the oidc-provider peer (an
independent OpenID provider) and the app under gunicorn, as `chamyeo up` serves it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Peer:
    issuer: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_peer(peer_dir: Path, name: str, clients: list[dict], accounts: dict) -> Peer:
    options = {"name": name, "clients": clients, "accounts": accounts}
    process = subprocess.Popen(
        ["node", "provider.js", json.dumps(options)],
        cwd=peer_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"the {name} IdP did not start: {line!r}")
    return Peer(line.split()[1], process)


def start_web(
    env: dict[str, str], port: int, *, workers: int = 1, timeout: float = 60, app: str = "saas.wsgi:app"
) -> subprocess.Popen:
    """gunicorn serving `app` (saas.wsgi:app) on 127.0.0.1:`port` with threads (a sign-in calls the
    server back over HTTP), once /healthz answers. Stop it with `stop_web`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4"]
        + ["--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_web(process)
            raise RuntimeError("the web server did not start")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)


def stop_web(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(15)
