"""Running a tenant's provisioning steps: resumable, recorded, timed.

Steps already done are skipped; a failed or crashed step is retried from its start (its
transaction was rolled back). A failure leaves the tenant `failed`, naming step and error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from provisioning.errors import TenantNotFound
from provisioning.lifecycle import portal_of_region, region_taken
from provisioning.steps import STEPS, StepContext
from saas.core import clock
from saas.core.registry.models import ProvisioningStep, Tenant, TenantStatus
from saas.core.tenancy.binding import session_without_tenant, tenant_session

# Called with the step name inside the step's transaction, after its work: tests use it to
# fail or kill the process at every step.
FaultHook = Callable[[str], None]


@dataclass
class ProvisioningOutcome:
    slug: str
    status: TenantStatus
    step_ms: dict[str, float] = field(default_factory=dict)
    failed_step: str | None = None
    error: str | None = None


def _done_steps(engine: Engine, tenant_id: int) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.scalars(
                select(ProvisioningStep.step).where(
                    ProvisioningStep.tenant_id == tenant_id, ProvisioningStep.status == "done"
                )
            )
        )


def _mark_started(engine: Engine, tenant_id: int, step: str) -> None:
    now = clock.now()
    with engine.begin() as connection:
        connection.execute(
            insert(ProvisioningStep)
            .values(tenant_id=tenant_id, step=step, status="running", attempts=1, started_at=now)
            .on_conflict_do_update(
                index_elements=["tenant_id", "step"],
                set_={
                    "status": "running",
                    "attempts": ProvisioningStep.attempts + 1,
                    "started_at": now,
                    "error": None,
                },
            )
        )
        connection.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(current_step=step, status=TenantStatus.PROVISIONING, last_error=None)
        )


def _mark_failed(engine: Engine, tenant_id: int, step: str, error: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(ProvisioningStep)
            .where(ProvisioningStep.tenant_id == tenant_id, ProvisioningStep.step == step)
            .values(status="failed", error=error, finished_at=clock.now())
        )
        connection.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(status=TenantStatus.FAILED, current_step=step, last_error=error)
        )


def _region_conflict(engine: Engine, tenant_id: int) -> str | None:
    with session_without_tenant(engine) as session:
        tenant = session.get(Tenant, tenant_id)
        holder = portal_of_region(session, tenant.region_code, besides=tenant_id) if tenant else None
        return str(region_taken(holder)) if holder is not None else None


def run_provisioning(engine: Engine, slug: str, *, fault: FaultHook | None = None) -> ProvisioningOutcome:
    """Run every step not yet done for tenant `slug`. Raises `TenantNotFound`; a failing step
    does not raise: it is recorded on the tenant (`failed`) and named in the outcome, which the
    job, the bulk onboarding and the CLI report (a failed tenant is a result, not a crash)."""
    with engine.connect() as connection:
        row = connection.execute(select(Tenant.id, Tenant.status).where(Tenant.slug == slug)).first()
    if row is None:
        raise TenantNotFound(slug)
    tenant_id = row.id
    outcome = ProvisioningOutcome(slug, row.status)
    done = _done_steps(engine, tenant_id)
    context = StepContext(engine, slug, tenant_id)
    pending = [name for name, _ in STEPS if name not in done]
    conflict = _region_conflict(engine, tenant_id) if pending else None
    if conflict is not None:
        # One municipality, one portal: a job never builds a second one (registration and a
        # unique index refuse it first; this covers tenants registered before they did).
        _mark_started(engine, tenant_id, pending[0])
        message = f"TenantConflict: {conflict}"
        _mark_failed(engine, tenant_id, pending[0], message)
        outcome.status, outcome.failed_step, outcome.error = TenantStatus.FAILED, pending[0], message
        return outcome
    for name, step in STEPS:
        if name in done:
            continue
        _mark_started(engine, tenant_id, name)
        started = time.perf_counter()
        try:
            with tenant_session(engine, slug) as session:
                step(context, session)
                if fault is not None:
                    fault(name)
                elapsed_ms = (time.perf_counter() - started) * 1000
                session.execute(
                    update(ProvisioningStep)
                    .where(ProvisioningStep.tenant_id == tenant_id, ProvisioningStep.step == name)
                    .values(status="done", finished_at=clock.now(), duration_ms=elapsed_ms)
                )
                session.commit()
        except Exception as error:  # noqa: BLE001 - recorded on the tenant and returned, not raised
            message = f"{type(error).__name__}: {error}"
            _mark_failed(engine, tenant_id, name, message)
            outcome.status, outcome.failed_step, outcome.error = TenantStatus.FAILED, name, message
            return outcome
        outcome.step_ms[name] = elapsed_ms
    outcome.status = TenantStatus.ACTIVE
    return outcome
