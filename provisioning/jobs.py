"""RQ jobs of the `provisioning` queue. They take slugs, never objects, and re-enter the
tenant explicitly."""

from __future__ import annotations

import functools

from sqlalchemy.engine import Engine

from provisioning.runner import run_provisioning


@functools.cache
def _engine() -> Engine:
    # One engine per worker process, from the settings the worker was started with.
    from saas.db import Database
    from saas.settings import Settings

    database = Database()
    database.configure(Settings.from_env())
    return database.engine


def provision_tenant(slug: str) -> dict[str, object]:
    outcome = run_provisioning(_engine(), slug)
    return {
        "slug": outcome.slug,
        "status": outcome.status.value,
        "step_ms": outcome.step_ms,
        "failed_step": outcome.failed_step,
        "error": outcome.error,
    }


def enqueue_provisioning(queue, slug: str):  # noqa: ANN001, ANN201 - rq.Queue -> rq.job.Job
    """Enqueue the provisioning job of `slug` (after the tenant row is committed)."""
    return queue.enqueue(
        provision_tenant,
        slug,
        job_timeout=600,
        result_ttl=86400,
        failure_ttl=86400,
        description=f"provision t_{slug}",
    )
