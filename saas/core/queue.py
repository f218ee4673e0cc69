"""The RQ queues. Jobs carry ids and tenant slugs, never objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis
from rq import Queue

if TYPE_CHECKING:
    from flask import Flask

    from saas.core.settings import Settings

QUEUE_NAMES = ("provisioning", "default", "billing")


class Queues:
    def __init__(self) -> None:
        self._redis: redis.Redis | None = None

    def configure(self, settings: Settings) -> None:
        if not settings.redis_url:
            raise RuntimeError("settings.redis_url is unset: start the embedded server first")
        self._redis = redis.Redis.from_url(settings.redis_url)

    def init_app(self, app: Flask) -> None:
        self.configure(app.config["CHAMYEO_SETTINGS"])
        app.extensions["chamyeo.queues"] = self

    @property
    def connection(self) -> redis.Redis:
        if self._redis is None:
            raise RuntimeError("the queues are not configured")
        return self._redis

    def get(self, name: str) -> Queue:
        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r}")
        return Queue(name, connection=self.connection)
