"""`chamyeo tenants`: the lifecycle of municipal portals."""

from __future__ import annotations

import json
from typing import Any

import click

from saas.cli.context import attached_settings, cli_settings


def _session_and_queue():
    from contextlib import ExitStack

    from saas.core.db import Database
    from saas.core.queue import Queues
    from saas.core.tenancy.binding import session_without_tenant

    stack = ExitStack()
    settings = stack.enter_context(attached_settings(redis=True))
    database = Database()
    database.configure(settings)
    stack.callback(database.dispose)
    queues = Queues()
    queues.configure(settings)
    session = stack.enter_context(session_without_tenant(database.engine))
    return stack, database.engine, session, queues


def _describe(session, tenant) -> dict[str, Any]:
    from provisioning.lifecycle import provisioning_steps

    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "name_en": tenant.name_en,
        "region_code": tenant.region_code,
        "status": tenant.status.value,
        "current_step": tenant.current_step,
        "last_error": tenant.last_error,
        "template": tenant.template_name,
        "template_version": tenant.template_version,
        "schema_revision": tenant.schema_revision,
        "domains": [d.domain for d in tenant.domains],
        "steps": provisioning_steps(session, tenant),
    }


def _has_worker(queues) -> bool:
    from rq import Worker

    return bool(Worker.all(queue=queues.get("provisioning")))


def _wait_active(engine, queues, slug: str, timeout: float = 120.0) -> str:
    """Wait for the job; run it here when no worker serves the provisioning queue."""
    from provisioning.lifecycle import wait_until_settled
    from provisioning.runner import run_provisioning

    if not _has_worker(queues):
        click.echo("no worker is running: provisioning here", err=True)
        return run_provisioning(engine, slug).status.value
    settled = wait_until_settled(engine, [slug], timeout=timeout).get(slug)
    if settled is None:
        raise click.ClickException(f"t_{slug} is still provisioning after {timeout:.0f} s")
    return settled.status.value if settled.status else "deleted"


@click.group()
def tenants() -> None:
    """Create, inspect, suspend, export and delete municipal portals."""


@tenants.command()
@click.argument("slug")
@click.option("--name", help="Official name (default: from the official list).")
@click.option("--region", "region_code", required=True, help="5-digit 시군구 or 10-digit code.")
@click.option("--template", required=True, help="Template name (see `chamyeo templates list`).")
@click.option("--domain", "domains", multiple=True, help="A custom domain (repeatable).")
@click.option("--admin-email", help="The municipal admin to invite.")
@click.option("--wait", is_flag=True, help="Wait until the portal is active or failed.")
def create(
    slug: str,
    name: str | None,
    region_code: str,
    template: str,
    domains: tuple[str, ...],
    admin_email: str | None,
    wait: bool,
) -> None:
    """Register a tenant and provision its portal."""
    from provisioning.lifecycle import do_register_tenant

    stack, engine, session, queues = _session_and_queue()
    with stack:
        tenant = do_register_tenant(
            session,
            slug=slug,
            name=name,
            region_code=region_code,
            template=template,
            domains=domains,
            admin_email=admin_email,
            queue=queues.get("provisioning"),
            platform_domain=cli_settings().platform_domain,
            actor="cli",
        )
        click.echo(f"t_{slug}: provisioning (job {tenant.job_id})")
        if wait:
            status = _wait_active(engine, queues, slug)
            click.echo(f"t_{slug}: {status}")
            if status != "active":
                raise SystemExit(1)


@tenants.command("list")
@click.option("--status", type=click.Choice(["provisioning", "active", "suspended", "failed"]))
def list_(status: str | None) -> None:
    """Every tenant, one a line."""
    from sqlalchemy import select

    from saas.core.registry.models import Tenant

    stack, _engine, session, _queues = _session_and_queue()
    with stack:
        statement = select(Tenant).order_by(Tenant.slug)
        if status:
            statement = statement.where(Tenant.status == status)
        for tenant in session.scalars(statement):
            click.echo(
                f"{tenant.slug}\t{tenant.status.value}\t{tenant.region_code}\t"
                f"{tenant.template_name}@{tenant.template_version}\t{tenant.name}"
            )


@tenants.command()
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
def show(slug: str, as_json: bool) -> None:
    """Status, provisioning steps, template version and URLs of one tenant."""
    from provisioning.lifecycle import tenant_by_slug, tenant_urls

    stack, _engine, session, _queues = _session_and_queue()
    with stack:
        settings = cli_settings()  # not a second attachment: that one's end stopped the server
        tenant = tenant_by_slug(session, slug)
        info = _describe(session, tenant)
        info["urls"] = tenant_urls(settings, slug, info["domains"])
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    for key in (
        "slug",
        "name",
        "name_en",
        "region_code",
        "status",
        "current_step",
        "last_error",
        "template",
        "template_version",
        "schema_revision",
    ):
        click.echo(f"{key:17} {info[key] if info[key] is not None else '-'}")
    for step in info["steps"]:
        took = f"{step['duration_ms']:.1f} ms" if step["duration_ms"] is not None else ""
        click.echo(f"  step {step['step']:15} {step['status']:8} {took} {step['error'] or ''}")
    for url in info["urls"]:
        click.echo(f"url               {url}")


def _status_command(name: str, action_name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text)
    @click.argument("slug")
    @click.option("--reason", help="Recorded in the audit trail.")
    def command(slug: str, reason: str | None) -> None:
        import provisioning.lifecycle as lifecycle
        from saas.core.tenancy.context import announce_tenant_change

        stack, _engine, session, queues = _session_and_queue()
        with stack:
            tenant = getattr(lifecycle, action_name)(session, slug, actor="cli", reason=reason)
            announce_tenant_change(queues.connection)  # the running workers serve it at once
            click.echo(f"t_{slug}: {tenant.status.value}")

    return command


tenants.add_command(_status_command("suspend", "do_suspend_tenant", "Stop serving a portal (data kept)."))
tenants.add_command(_status_command("resume", "do_resume_tenant", "Serve a suspended portal again."))


@tenants.command()
@click.argument("slug")
@click.option("--wait", is_flag=True)
def retry(slug: str, wait: bool) -> None:
    """Resume a failed provisioning at the step that failed."""
    from provisioning.lifecycle import do_retry_provisioning

    stack, engine, session, queues = _session_and_queue()
    with stack:
        tenant = do_retry_provisioning(session, slug, queue=queues.get("provisioning"), actor="cli")
        click.echo(f"t_{slug}: provisioning resumed (job {tenant.job_id})")
        if wait:
            click.echo(f"t_{slug}: {_wait_active(engine, queues, slug)}")


@tenants.command()
@click.argument("slug")
@click.option("--confirm", help="The slug again (otherwise you are asked to type it).")
def delete(slug: str, confirm: str | None) -> None:
    """Delete a tenant, its schema and data. Irreversible; audit-logged."""
    from provisioning.lifecycle import do_delete_tenant_irreversibly

    if confirm is None:
        confirm = click.prompt(f"This deletes t_{slug} and all its data for good. Type the slug")
    from saas.core.tenancy.context import announce_tenant_change

    stack, _engine, session, queues = _session_and_queue()
    with stack:
        do_delete_tenant_irreversibly(session, slug, confirm=confirm, actor="cli")
        announce_tenant_change(queues.connection)
    click.echo(f"t_{slug}: deleted")


@tenants.command()
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def export(slug: str, file: str) -> None:
    """Write a tenant's data and control-plane rows to FILE (restorable with import)."""
    from provisioning.archive import export_tenant

    stack, engine, _session, _queues = _session_and_queue()
    with stack:
        manifest = export_tenant(engine, slug, file, actor="cli")
    rows = sum(table["rows"] for table in manifest["tables"].values())
    click.echo(f"t_{slug}: {len(manifest['tables'])} tables, {rows} rows -> {file}")


@tenants.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_(file: str) -> None:
    """Restore a tenant from an export FILE (its slug must be free)."""
    from provisioning.archive import import_tenant

    stack, engine, _session, _queues = _session_and_queue()
    with stack:
        tenant = import_tenant(engine, file, actor="cli")
    click.echo(f"t_{tenant['slug']}: imported ({tenant['status']})")


@tenants.command("create-many")
@click.argument("file", type=click.File(encoding="utf-8-sig"))
@click.option("--timeout", default=1800.0, show_default=True, help="Seconds to wait for the jobs.")
@click.option("--in-process", is_flag=True, help="Provision here even if workers are running.")
def create_many(file, timeout: float, in_process: bool) -> None:
    """Onboard the municipalities of a CSV (slug,region,template[,name,domain,admin_email]).

    Every row is registered, then provisioned by the running workers (or here, when none
    runs); a summary names each row that was refused or failed. Exit 1 if any did."""
    from provisioning.bulk import onboard_many, read_onboarding_csv

    try:
        rows = read_onboarding_csv(file)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    stack, engine, session, queues = _session_and_queue()
    with stack:
        use_workers = not in_process and _has_worker(queues)
        click.echo(
            f"{len(rows)} tenant(s) to create; provisioning "
            + ("by the running workers" if use_workers else "here (no worker is running)"),
            err=True,
        )
        report = onboard_many(
            engine,
            session,
            rows,
            queue=queues.get("provisioning") if use_workers else None,
            timeout=timeout,
            platform_domain=cli_settings().platform_domain,
        )
    click.echo(report.summary())
    if report.problems:
        raise SystemExit(1)
