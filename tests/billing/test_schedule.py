"""The billing calendar: each job enqueued once per period however often the tick runs, a
failed job enqueued again, and the jobs run by an RQ worker against the fake Stripe."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import redis
from click.testing import CliRunner
from rq import Queue, SimpleWorker

from saas.control.billing import schedule


@pytest.fixture
def queue(settings):
    # A queue of this test's own: the Redis may be shared with other sessions' workers.
    connection = redis.Redis.from_url(settings.redis_url)
    own = Queue(f"billing-test-{uuid.uuid4().hex[:8]}", connection=connection)
    yield own
    own.empty()
    for key in connection.scan_iter(f"chamyeo:schedule:{own.name}:*"):
        connection.delete(key)


def _seoul(year, month, day, hour=12):
    return datetime(year, month, day, hour - 9, tzinfo=UTC)  # noon in Seoul


def test_each_job_is_enqueued_once_per_period(queue):
    first = schedule.tick(queue, _seoul(2031, 3, 31))
    assert first == ["prepare-renewals 2031-03-31", "close-month 2031-02", "reconcile 2031-03-31"]
    assert schedule.tick(queue, _seoul(2031, 3, 31, hour=20)) == []
    # Next day (and a new month, Korean time): the daily jobs and the month just ended.
    assert schedule.tick(queue, datetime(2031, 3, 31, 16, tzinfo=UTC)) == [
        "prepare-renewals 2031-04-01",
        "close-month 2031-03",
        "reconcile 2031-04-01",
    ]
    assert queue.count == 6
    close = next(job for job in queue.get_jobs() if job.id.endswith("close-month-2031-03"))
    assert close.args == ("2031-03-01",)


def test_a_failed_job_is_enqueued_again_by_the_next_tick(queue, monkeypatch):
    from saas.control.billing import jobs

    failing = schedule.Due("close-month", "bad", jobs.close_month, ("not a month",), 60)
    monkeypatch.setattr(schedule, "due", lambda now=None: [failing])
    assert schedule.tick(queue) == ["close-month bad"]
    assert schedule.tick(queue) == []
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.failed_job_registry.count == 1
    assert schedule.tick(queue) == ["close-month bad"]


def test_the_worker_runs_the_due_jobs_against_stripe(
    queue, jobs_run_here, stripe_gateway, default_plan, current_programs, make_tenant
):
    tenant = make_tenant("mokpo_tick", low_tier=True)
    schedule.tick(queue)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    jobs = {
        job.description.split()[1]: job
        for job in map(queue.fetch_job, queue.finished_job_registry.get_job_ids())
    }
    assert sorted(jobs) == ["close-month", "prepare-renewals", "reconcile"]
    prepared = {outcome.tenant_id: outcome for outcome in jobs["prepare-renewals"].return_value()}
    assert prepared[tenant.id].amount == default_plan.amount * 7000 // 10000 and not prepared[tenant.id].error
    assert isinstance(jobs["reconcile"].return_value(), list)


def test_the_tick_command_enqueues_on_the_billing_queue(queue, settings, monkeypatch):
    from saas.cli import main
    from saas.core.queue import Queues

    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    asked = []
    monkeypatch.setattr(Queues, "get", lambda self, name: asked.append(name) or queue)
    result = CliRunner().invoke(main, ["billing", "tick"], catch_exceptions=False)
    assert result.exit_code == 0 and asked == ["billing"]
    assert result.output.count("enqueued ") == 3 and queue.count == 3
    assert CliRunner().invoke(main, ["billing", "tick"]).output == ""
