"""Registering and retrying enqueue the provisioning job themselves, once committed, under the
id the tenant row names; a refused registration or retry enqueues nothing."""

from __future__ import annotations

import uuid

import pytest

from provisioning.errors import TenantConflict
from provisioning.lifecycle import do_delete_tenant_irreversibly, do_register_tenant, do_retry_provisioning
from saas.core.registry.models import TenantStatus
from saas.core.tenancy.binding import session_without_tenant


@pytest.fixture
def queue(private_queue):
    return private_queue


@pytest.fixture
def slug(engine):
    name = f"enq{uuid.uuid4().hex[:8]}"
    yield name
    with session_without_tenant(engine) as session:
        try:
            do_delete_tenant_irreversibly(session, name, confirm=name, actor="test")
        except LookupError:
            pass


def _register(session, queue, slug: str, region: str):
    return do_register_tenant(
        session,
        slug=slug,
        region_code=region,
        template="neighbourhood",
        queue=queue,
        platform_domain="chamyeo.test",
        actor="test",
    )


def test_registering_enqueues_the_job_the_tenant_names_after_the_commit(engine, queue, slug, free_region):
    with session_without_tenant(engine) as session:
        tenant = _register(session, queue, slug, free_region())
        assert tenant.status == TenantStatus.PROVISIONING
        job = queue.fetch_job(tenant.job_id)
        assert queue.job_ids == [tenant.job_id]
        assert job.func_name == "provisioning.jobs.provision_tenant"
        assert job.args == (slug,)

        with pytest.raises(TenantConflict):  # the same slug again: refused, nothing enqueued
            _register(session, queue, slug, free_region())
        session.rollback()
    assert queue.count == 1


def test_retrying_enqueues_a_new_job_and_a_refused_retry_none(engine, queue, slug, free_region):
    with session_without_tenant(engine) as session:
        first = _register(session, queue, slug, free_region()).job_id
        tenant = do_retry_provisioning(session, slug, queue=queue, actor="test")
        assert tenant.job_id != first
        assert queue.job_ids == [first, tenant.job_id]

        tenant.status = TenantStatus.ACTIVE
        session.commit()
        with pytest.raises(TenantConflict):  # an active tenant has nothing to retry
            do_retry_provisioning(session, slug, queue=queue, actor="test")
        session.rollback()
    assert queue.count == 2
