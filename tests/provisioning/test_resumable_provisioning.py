"""Provisioning resumes after a failure or a crash at any step, doing each step once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select

from provisioning.lifecycle import do_register_tenant, do_retry_provisioning
from provisioning.runner import run_provisioning
from provisioning.steps import STEP_NAMES
from saas.core.audit.models import AuditEvent
from saas.core.registry.models import ProvisioningStep, Tenant
from saas.core.tenancy.binding import session_without_tenant, tenant_session
from tenants.people.models import Member
from tenants.portal.models import Category, District, PortalSetting

ADMIN = "admin@gangnam.go.kr"


def _register(engine, slug: str, region: str) -> None:
    with session_without_tenant(engine) as session:
        do_register_tenant(
            session,
            slug=slug,
            region_code=region,
            template="neighbourhood",
            admin_email=ADMIN,
            platform_domain="chamyeo.test",
            actor="test",
        )


def _state(engine, slug: str) -> dict:
    with engine.connect() as connection:
        tenant = connection.execute(select(Tenant).where(Tenant.slug == slug)).one()
        steps = {
            row.step: (row.status, row.attempts)
            for row in connection.execute(
                select(ProvisioningStep).where(ProvisioningStep.tenant_id == tenant.id)
            )
        }
        schema = connection.scalar(select(func.to_regnamespace(f"t_{slug}")))
        activations = connection.scalar(
            select(func.count()).where(AuditEvent.tenant_slug == slug, AuditEvent.action == "tenant.activate")
        )
    return {"tenant": tenant, "steps": steps, "schema": schema, "activations": activations}


def _portal_rows(engine, slug: str) -> tuple[int, int, bool, int]:
    """Members, categories, whether the districts are the municipality's dongs once each (each
    tenant is another municipality), settings."""
    from saas import regions

    with tenant_session(engine, slug) as session:
        members, categories, districts, settings = (
            session.scalar(select(func.count()).select_from(model))
            for model in (Member, Category, District, PortalSetting)
        )
        region = session.scalar(select(Tenant.region_code).where(Tenant.slug == slug))
    return members, categories, districts == len(regions.dongs(region)) > 0, settings


def _retry_and_check(engine, slug: str, broken_step: str, reference: tuple) -> None:
    with session_without_tenant(engine) as session:
        do_retry_provisioning(session, slug, actor="test")
    assert run_provisioning(engine, slug).status.value == "active"
    state = _state(engine, slug)
    assert state["tenant"].status.value == "active"
    assert state["tenant"].current_step is None and state["tenant"].last_error is None
    # Every step done; the broken one ran twice, the ones before it once, none after it twice.
    assert {step: status for step, (status, _) in state["steps"].items()} == dict.fromkeys(STEP_NAMES, "done")
    assert state["steps"][broken_step][1] == 2
    assert all(attempts == 1 for step, (_, attempts) in state["steps"].items() if step != broken_step)
    assert state["activations"] == 1
    # Same content as a tenant provisioned without trouble: nothing applied twice.
    assert _portal_rows(engine, slug) == reference


@pytest.fixture(scope="module")
def reference_rows(engine, free_region):
    slug = "resume_reference"
    _register(engine, slug, free_region())
    assert run_provisioning(engine, slug).status.value == "active"
    rows = _portal_rows(engine, slug)
    assert rows[0] == 1 and rows[1] > 0 and rows[2] > 0
    return rows


@pytest.mark.parametrize("broken_step", STEP_NAMES)
def test_a_failure_at_any_step_leaves_the_tenant_failed_then_retry_resumes(
    engine, broken_step, reference_rows, free_region
):
    slug = f"fail_{broken_step}"
    _register(engine, slug, free_region())

    def fault(step: str) -> None:
        if step == broken_step:
            raise RuntimeError(f"injected at {step}")

    outcome = run_provisioning(engine, slug, fault=fault)
    assert (outcome.status.value, outcome.failed_step) == ("failed", broken_step)
    state = _state(engine, slug)
    assert state["tenant"].status.value == "failed"
    assert state["tenant"].current_step == broken_step
    assert f"injected at {broken_step}" in state["tenant"].last_error
    assert state["steps"][broken_step][0] == "failed"
    if broken_step == "create_schema":
        assert state["schema"] is None, "the failed step left a partial schema behind"
    _retry_and_check(engine, slug, broken_step, reference_rows)


KILLER = textwrap.dedent(
    """
    import os, sys
    from sqlalchemy import create_engine
    from provisioning.runner import run_provisioning

    url, slug, at = sys.argv[1:]

    def fault(step):
        if step == at:
            os._exit(17)  # like a worker killed mid-transaction: no cleanup, no rollback

    run_provisioning(create_engine(url), slug, fault=fault)
    """
)


def test_a_crash_at_any_step_is_resumed_by_a_retry(engine, reference_rows, free_region):
    url = engine.url.render_as_string(hide_password=False)
    slugs = {step: f"kill_{step}" for step in STEP_NAMES}
    for slug in slugs.values():
        _register(engine, slug, free_region())
    crashes = [
        subprocess.Popen([sys.executable, "-c", KILLER, url, slug, step]) for step, slug in slugs.items()
    ]
    assert [process.wait(timeout=60) for process in crashes] == [17] * len(STEP_NAMES)
    for step, slug in slugs.items():
        state = _state(engine, slug)
        # The crashed step's transaction died with the process: still "running", not done.
        assert state["tenant"].status.value == "provisioning" and state["tenant"].current_step == step
        assert state["steps"][step] == ("running", 1)
        if step == "create_schema":
            assert state["schema"] is None
        _retry_and_check(engine, slug, step, reference_rows)
