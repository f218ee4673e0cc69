"""The platform's one clock: every moment and calendar day the product acts on comes from here.

Product code never calls `datetime.now()`, `date.today()` or `time.time()` (a test in
tests/foundation/test_clock.py checks); durations and deadlines use `time.monotonic()`, which is
not a moment. The calendar is Korean: a municipality's budget year, its billing month and a
voter's age turn over at midnight in Seoul, not in UTC.

The source is injectable (`use`, `frozen`), and every reading goes through `datetime.now`, so
time-machine moves this clock together with every library's (JWT expiry, Stripe signatures,
the job queue) when a test travels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")

Source = Callable[[], datetime]


def _system() -> datetime:
    return datetime.now(UTC)


_source: Source = _system


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    moment = _source()
    if moment.tzinfo is None:
        raise ValueError("the clock's source must give timezone-aware moments")
    return moment.astimezone(UTC)


def now_in_korea() -> datetime:
    return now().astimezone(SEOUL)


def today() -> date:
    """Today's date in Korea (the day a Korean officer would write on a form)."""
    return now_in_korea().date()


def timestamp() -> float:
    """Seconds since the epoch (for JWT `iat`/`exp` and Stripe's integer times)."""
    return now().timestamp()


def korean_date(moment: datetime) -> date:
    """The Korean calendar day of an aware moment."""
    return moment.astimezone(SEOUL).date()


def use(source: Source | None) -> None:
    """Read time from `source` from now on (None: the system clock again)."""
    global _source
    _source = source or _system


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Within the block, the clock stands still at `moment` (aware)."""
    if moment.tzinfo is None:
        raise ValueError("a frozen moment must be timezone-aware")
    previous = _source
    use(lambda: moment)
    try:
        yield
    finally:
        use(previous)
