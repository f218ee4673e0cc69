"""Finding (or starting) the PostgreSQL and Redis servers the settings ask for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from saas.core.settings import Settings
from saas.dev.embedded import EmbeddedPostgres, EmbeddedRedis, ensure_database

EMBEDDED_DATABASE = "chamyeo"


@contextmanager
def attached_services(
    settings: Settings, *, redis: bool = True, started: list[EmbeddedRedis] | None = None
) -> Iterator[Settings]:
    """Yield settings with concrete DATABASE_URL and REDIS_URL.

    Unset URLs mean the embedded servers under `settings.home`: started if not running,
    re-attached otherwise. A server this block started is stopped when it ends, unless
    another process (such as `chamyeo up`) still holds it. An embedded Redis is added to
    `started` (for a caller that supervises it).
    """
    with ExitStack() as stack:
        database_url = settings.database_url
        if database_url is None:
            postgres = EmbeddedPostgres(settings.home.resolve() / "pg")
            server_uri = postgres.start()
            stack.callback(postgres.stop)
            database_url = ensure_database(server_uri, EMBEDDED_DATABASE)
        redis_url = settings.redis_url
        if redis_url is None and redis:
            embedded_redis = EmbeddedRedis(settings.home.resolve() / "redis")
            redis_url = embedded_redis.start()
            stack.callback(embedded_redis.stop)
            if started is not None:
                started.append(embedded_redis)
        yield settings.with_services(database_url=database_url, redis_url=redis_url or "")
