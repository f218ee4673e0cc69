"""`chamyeo worker`: an RQ worker for the platform's queues.

RQ's worker quits when Redis stops answering in time ("Redis connection timeout, quitting")
or on other Redis errors outside its dequeue loop. This command outlives that: it waits for
Redis with back-off (1 s doubling to 30 s) and starts a fresh worker, until it is asked to
stop (SIGINT / SIGTERM) or, with --burst, the queues are empty.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from types import FrameType
from typing import TYPE_CHECKING

import click

from saas.core.queue import QUEUE_NAMES

if TYPE_CHECKING:
    from saas.core.settings import Settings

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0
log = logging.getLogger("chamyeo.worker")


def _export_for_jobs(settings: Settings) -> None:
    """Jobs build their settings from the environment (provisioning.jobs, saas.control.billing.jobs):
    give them the servers and secrets this command attached to."""
    values = {
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "CHAMYEO_ENV": settings.environment,
        "SECRET_KEY": settings.secret_key,
        "VOTER_KEY_SECRET": settings.voter_key_secret,
    }
    for name, value in values.items():
        if value and not os.environ.get(name, "").strip():
            os.environ[name] = value


@click.command()
@click.option(
    "--queue",
    "queue_names",
    multiple=True,
    type=click.Choice(QUEUE_NAMES),
    help="Queues to serve (default: all).",
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(queue_names: tuple[str, ...], burst: bool) -> None:
    """Run jobs: provisioning, migrations, billing."""
    import redis
    from rq import Worker

    from provisioning.jobs import preload_for_forked_jobs
    from saas.cli.context import attached_settings
    from saas.core.queue import Queues

    class _Worker(Worker):
        stop_asked = False

        def request_stop(self, signum: int, frame: FrameType | None) -> None:
            self.stop_asked = True
            return super().request_stop(signum, frame)

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    preload_for_forked_jobs()  # once here, not in every forked job
    with attached_settings(redis=True) as settings:
        _export_for_jobs(settings)
        names = queue_names or QUEUE_NAMES
        delay = FIRST_DELAY_SECONDS
        while True:
            queues = Queues()
            queues.configure(settings)
            rq_worker = _Worker(
                [queues.get(name) for name in names],
                connection=queues.connection,
                worker_ttl=settings.worker_ttl_seconds,
            )
            started = time.monotonic()
            try:
                rq_worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
            except redis.RedisError as error:  # in its teardown, say, with Redis still away
                log.warning("worker %s stopped on a Redis error: %s", rq_worker.name, error)
            if rq_worker.stop_asked or burst:
                return
            if time.monotonic() - started > MAX_DELAY_SECONDS:
                delay = FIRST_DELAY_SECONDS  # it ran a while: a new failure starts over
            log.warning("worker %s quit; a new one once Redis answers (in %.0f s)", rq_worker.name, delay)
            assert settings.redis_url is not None  # attached_settings(redis=True) attached one
            if not _wait_for_redis(settings.redis_url, delay):
                return
            delay = min(delay * 2, MAX_DELAY_SECONDS)


def _wait_for_redis(url: str, delay: float) -> bool:
    """Sleep `delay`, then until Redis answers (same back-off); False when asked to stop."""
    import redis

    stop = {"asked": False}

    def ask_stop(signum: int, frame: object) -> None:
        stop["asked"] = True

    previous = {sig: signal.signal(sig, ask_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop["asked"]:
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not stop["asked"]:
                time.sleep(0.1)
            if stop["asked"]:
                break
            try:
                with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as probe:
                    if probe.ping():
                        return True
            except redis.RedisError as error:
                log.warning("Redis does not answer yet (%s); next try in %.0f s", error, delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

