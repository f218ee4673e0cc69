"""Importing the job module (as the web app does, to enqueue) loads nothing for the worker;
the worker loads, before it forks, everything a job needs."""

from __future__ import annotations

import os
import subprocess
import sys


def test_importing_the_jobs_module_does_not_preload_the_templates():
    code = (
        "import provisioning.jobs\n"
        "from provisioning.templates import catalog\n"
        "print(catalog._default is None)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr


def test_a_forked_job_imports_nothing_the_worker_did_not_preload(settings, engine, free_region):
    """RQ forks a process per job: whatever the job imports, every job imports again (the
    Stripe SDK alone once cost more than a job's database work)."""
    from provisioning.lifecycle import do_register_tenant
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        do_register_tenant(
            session,
            slug="preloaded",
            region_code=free_region(),
            template="youth",
            platform_domain=settings.platform_domain,
            actor="test",
        )
    code = (
        "import sys\n"
        "from provisioning.jobs import preload_for_forked_jobs, provision_tenant\n"
        "preload_for_forked_jobs()\n"
        "before = set(sys.modules)\n"
        "print(provision_tenant('preloaded')['status'])\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.stdout.split("\n")[:2] == ["active", "[]"], result.stdout + result.stderr
