"""How often an IdP may be tested (`POST …/identity-providers/<key>/test`).

A test makes the hub fetch a URL that an admin chose: without a limit, one admin could make
the platform a relay that fetches for them at will. Fixed windows counted in Redis (shared by
every web process): per IdP and per caller. A caller over either limit gets 429 with
Retry-After; when Redis cannot count, the test is refused with 503 rather than let through.
"""

from __future__ import annotations

import redis
from flask_smorest import abort

from saas.core.limits import seconds_to_wait  # the one fixed-window counter

PER_IDP = 5
PER_CALLER = 20
WINDOW_SECONDS = 60


def check(connection: redis.Redis, *, idp_key: str, caller: str) -> None:
    """Abort with 429 (Retry-After) when this test is one too many."""
    try:
        waits = [
            seconds_to_wait(connection, f"idp-test:idp:{idp_key}", limit=PER_IDP, window=WINDOW_SECONDS),
            seconds_to_wait(connection, f"idp-test:caller:{caller}", limit=PER_CALLER, window=WINDOW_SECONDS),
        ]
    except redis.RedisError:
        abort(503, message="Testing identity providers is unavailable for a moment; try again.")
    wait = max(waits)
    if wait:
        abort(
            429,
            message=f"Too many tests of identity providers: at most {PER_IDP} a minute for one "
            f"IdP and {PER_CALLER} for one caller. Try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
