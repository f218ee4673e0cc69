"""The billing calendar: which jobs of the `billing` queue are due, enqueued once per period.

`chamyeo billing tick` calls `tick` — from cron (hourly is plenty) or in a loop with
`--every`. Each job is due once per period (a day, or a month for the ministry's invoice);
a Redis key set with NX marks the period as enqueued, so any number of ticks, from any
number of machines, enqueue each job once. A tick that is missed is caught up by the next
one, because "due" means "not yet enqueued for this period", not "exactly now"; a job that
fails clears its mark, so the next tick enqueues it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis
from rq import Callback, Queue
from rq.job import Job

from saas.control.billing import jobs
from saas.core import clock
from saas.core.queue import enqueue_after_commit

# Long enough to outlive the period it marks; short enough that Redis forgets old periods.
DAY_MARK_SECONDS = 3 * 86400
MONTH_MARK_SECONDS = 45 * 86400


@dataclass(frozen=True)
class Due:
    name: str
    period: str
    function: Callable[..., Any]
    args: tuple[Any, ...]
    mark_seconds: int


def due(now: datetime | None = None) -> list[Due]:
    """The jobs of the period `now` falls in (Korean calendar days and months)."""
    moment = (now or clock.now()).astimezone(clock.SEOUL)
    day = moment.date().isoformat()
    closing = jobs.previous_month(moment)
    return [
        # Daily: a subscription renewing tomorrow still gets its subsidy line today.
        Due("prepare-renewals", day, jobs.prepare_renewals, (), DAY_MARK_SECONDS),
        # Monthly: the ministry's invoice for the month that just ended.
        Due("close-month", f"{closing:%Y-%m}", jobs.close_month, (closing.isoformat(),), MONTH_MARK_SECONDS),
        # Daily, after the others in the queue: it reports what they left inconsistent.
        Due("reconcile", day, jobs.reconcile, (), DAY_MARK_SECONDS),
    ]


def tick(queue: Queue, now: datetime | None = None) -> list[str]:
    """Enqueue on `queue` every due job not enqueued yet for its period; returns
    "name period" for each job enqueued."""
    enqueued = []
    for job in due(now):
        mark = f"chamyeo:schedule:{queue.name}:{job.name}:{job.period}"
        if not queue.connection.set(mark, "1", nx=True, ex=job.mark_seconds):
            continue
        # No transaction to wait for: the tick writes nothing but the period's mark above.
        enqueue_after_commit(
            None,
            queue,
            job.function,
            *job.args,
            job_id=f"{queue.name}-{job.name}-{job.period}",
            job_timeout=jobs.JOB_TIMEOUT_SECONDS * 4,
            result_ttl=86400,
            failure_ttl=7 * 86400,
            description=f"billing {job.name} {job.period}",
            meta={"schedule_mark": mark},
            on_failure=Callback(_clear_mark),
        )
        enqueued.append(f"{job.name} {job.period}")
    return enqueued


def _clear_mark(job: Job, connection: Redis, *exc_info: object) -> None:
    # RQ's success and failure callbacks pass (job, connection, result) or the exception info.
    connection.delete(job.meta["schedule_mark"])
