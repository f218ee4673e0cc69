"""`GET /healthz`: is the service up, and can it reach its database and queue?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import text

if TYPE_CHECKING:
    from flask import Flask

# A Redis that stops answering (paused, overloaded) makes /healthz say so within this time,
# instead of holding the request (the queues' own client waits as long as a job needs).
QUEUE_TIMEOUT_SECONDS = 2.0
_probes: dict[str, redis.Redis] = {}


def _queue_probe() -> redis.Redis:
    from saas.core.settings import current_settings

    url = current_settings().redis_url
    if url is None:  # an app is always given its Redis; without one there is nothing to probe
        raise RuntimeError("the queue's Redis URL is unset")
    probe = _probes.get(url)
    if probe is None:
        probe = redis.Redis.from_url(
            url, socket_timeout=QUEUE_TIMEOUT_SECONDS, socket_connect_timeout=QUEUE_TIMEOUT_SECONDS
        )
        _probes[url] = probe
    return probe


def check() -> tuple[dict[str, Any], int]:
    from saas.core.extensions import db

    parts = {"database": "ok", "queue": "ok"}
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure is "down", with its reason
        parts["database"] = f"error: {type(error).__name__}"
    try:
        _queue_probe().ping()
    except Exception as error:  # noqa: BLE001
        parts["queue"] = f"error: {type(error).__name__}"
    healthy = all(value == "ok" for value in parts.values())
    return {"status": "ok" if healthy else "unavailable", **parts}, 200 if healthy else 503


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", lambda: check())
