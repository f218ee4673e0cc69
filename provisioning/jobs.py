"""RQ jobs of the `provisioning` queue. They take slugs, never objects, and re-enter the
tenant explicitly."""

from __future__ import annotations

import functools
import re
import uuid
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy.engine import Engine

from provisioning.runner import run_provisioning

JOB_TIMEOUT_SECONDS = 600
# What RQ accepts as a job id; anything else is unknown to us rather than an error.
_JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@functools.cache
def _engine() -> Engine:
    # One engine per worker process, from the settings the worker was started with.
    from saas.core.db import Database
    from saas.core.settings import Settings

    database = Database()
    database.configure(Settings.from_env())
    return database.engine


def preload_for_forked_jobs() -> None:
    """Load, in the worker's parent process, what every provisioning job needs and no job
    changes: the templates, the municipality list, the migration scripts, the database
    driver, the billing step's modules and the ORM's mapper configuration. RQ forks a fresh
    process per job, so without this each job loads them again. `chamyeo worker` calls it
    before it forks; the web app, which imports this module to enqueue, does not pay for it.
    No connection is opened here."""
    # The driver: SQLAlchemy's dialect imports it only when an engine is made, in the job.
    import psycopg  # noqa: F401
    import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
    from sqlalchemy.orm import configure_mappers

    # The billing step's modules (the Stripe SDK with requests and urllib3): imported in each
    # job, they took more of its time than all of its database work.
    import saas.control.billing.gateway
    import saas.control.billing.services.subscriptions  # noqa: F401
    from migrations.runner import tenant_head_revision
    from provisioning.templates import list_templates
    from saas import regions
    from saas.core.settings import Settings  # noqa: F401 - the job's engine reads it

    list_templates()
    regions.all_local_governments()
    tenant_head_revision()
    configure_mappers()  # SQLAlchemy does it on first use: in every job, without this


def provision_tenant(slug: str) -> dict[str, object]:
    outcome = run_provisioning(_engine(), slug)
    return {
        "slug": outcome.slug,
        "status": outcome.status.value,
        "step_ms": outcome.step_ms,
        "failed_step": outcome.failed_step,
        "error": outcome.error,
    }


def new_job_id() -> str:
    """Chosen before the tenant row is committed, so the row can name the job to poll (the
    job itself is enqueued by `provisioning.lifecycle`, after that commit)."""
    return f"provision-{uuid.uuid4().hex}"


class JobNotFound(LookupError):
    pass


def describe_job(connection: Any, job_id: str) -> dict[str, Any]:
    """The state of a provisioning job, by id (raises `JobNotFound`, also for jobs of other
    queues: this is the provisioning queue's window, not a general job browser)."""
    if not _JOB_ID_RE.match(job_id):
        raise JobNotFound(f"there is no job {job_id!r}")
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        raise JobNotFound(f"there is no job {job_id!r}") from None
    if job.origin != "provisioning":
        raise JobNotFound(f"there is no job {job_id!r}")
    result = job.return_value() if job.is_finished else None
    return {
        "id": job.id,
        "status": job.get_status(refresh=False).value,
        "slug": job.args[0] if job.args else None,
        "enqueued_at": job.enqueued_at,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "result": result,
    }
