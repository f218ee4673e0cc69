"""Fixed-window rate limits counted in Redis (shared by every web process), for public
actions that must not be repeated at will (checking receipt codes, say)."""

from __future__ import annotations

import redis

from saas.core.refusals import TooMany, Unavailable


def seconds_to_wait(connection: redis.Redis, name: str, *, limit: int, window: int) -> int:
    """Count one use of `name`; 0 when it is within `limit` per `window` seconds, otherwise
    the seconds until its window ends."""
    key = f"chamyeo:limit:{name}"
    pipe = connection.pipeline()  # MULTI: a window opens with its expiry (Redis 6 has no EXPIRE NX)
    pipe.set(key, 0, ex=window, nx=True)
    pipe.incr(key)
    pipe.ttl(key)
    _, count, ttl = pipe.execute()
    if count <= limit:
        return 0
    return max(int(ttl), 1)


def count_use(connection: redis.Redis, name: str, *, limit: int, window: int, what: str) -> None:
    """Count one use of `name`, refusing with TooMany (429, Retry-After) past `limit` per
    `window` seconds, and with Unavailable (503) when Redis cannot count: a limit that
    cannot be counted does not let the action through. `what` names the action for the
    message ("Checking receipts")."""
    try:
        wait = seconds_to_wait(connection, name, limit=limit, window=window)
    except redis.RedisError:
        raise Unavailable(f"{what} is unavailable for a moment; try again.") from None
    if wait:
        raise TooMany(
            f"{what}: at most {limit} every {window} s from one place. Try again in {wait} s.",
            retry_after=wait,
        )
