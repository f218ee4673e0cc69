"""`GET /healthz`: is the service up, and can it reach its database and queue?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from flask import Flask


def check() -> tuple[dict[str, Any], int]:
    from saas.extensions import db, queues

    parts = {"database": "ok", "queue": "ok"}
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure is "down", with its reason
        parts["database"] = f"error: {type(error).__name__}"
    try:
        queues.connection.ping()
    except Exception as error:  # noqa: BLE001
        parts["queue"] = f"error: {type(error).__name__}"
    healthy = all(value == "ok" for value in parts.values())
    return {"status": "ok" if healthy else "unavailable", **parts}, 200 if healthy else 503


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", lambda: check())
