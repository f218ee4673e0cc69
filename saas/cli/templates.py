"""`chamyeo templates`: the shared PB templates, and what a newer version changes for a tenant."""

from __future__ import annotations

import json

import click


def _template_or_fail(name: str, version: int | None):
    from provisioning.templates import TemplateNotFound, get_template

    try:
        return get_template(name, version)
    except TemplateNotFound as error:
        raise click.ClickException(str(error).strip("'\"")) from None


@click.group()
def templates() -> None:
    """List, show and compare the shared PB templates."""


@templates.command("list")
def list_() -> None:
    """Every template with its versions (the newest last)."""
    from provisioning.templates import list_templates

    for summary in list_templates():
        versions = ",".join(str(v) for v in summary.versions)
        click.echo(f"{summary.name}\t@{summary.latest_version}\tversions {versions}\t{summary.title['ko']}")


@templates.command()
@click.argument("name")
@click.option("--version", type=int, help="Default: the latest.")
def show(name: str, version: int | None) -> None:
    """A template version as JSON (what a tenant is built from)."""
    template = _template_or_fail(name, version)
    click.echo(json.dumps(template.data, ensure_ascii=False, indent=2))


@templates.command()
@click.argument("name")
@click.option("--from", "old", type=int, help="Version to compare from (with --to).")
@click.option("--to", "new", type=int, help="Version to compare to (default: the latest).")
@click.option("--tenant", "slug", help="Compare the tenant's recorded version with --to.")
@click.option("--json", "as_json", is_flag=True)
def diff(name: str, old: int | None, new: int | None, slug: str | None, as_json: bool) -> None:
    """What changes between two versions of NAME, or between a tenant's version and --to."""
    from provisioning.templates import diff_template

    if slug is not None:
        from provisioning.errors import ProvisioningRefused, TenantNotFound
        from provisioning.lifecycle import template_diff_for_tenant
        from saas.cli.context import database_engine
        from saas.core.tenancy.binding import session_without_tenant

        with database_engine() as engine, session_without_tenant(engine) as session:
            try:
                result = template_diff_for_tenant(session, slug, new)
            except (TenantNotFound, ProvisioningRefused) as error:
                raise click.ClickException(str(error)) from None
        if result["template"] != name:
            raise click.ClickException(f"t_{slug} is built from {result['template']!r}, not {name!r}")
        changes = result["changes"]
        title = f"t_{slug}: {name}@{result['from_version']} -> @{result['to_version']}"
    else:
        if old is None:
            raise click.UsageError("give --from VERSION or --tenant SLUG")
        before, after = _template_or_fail(name, old), _template_or_fail(name, new)
        changes = [c.as_dict() for c in diff_template(before.data, after.data)]
        title = f"{name}@{before.version} -> @{after.version}"
    if as_json:
        click.echo(json.dumps(changes, ensure_ascii=False, indent=2))
        return
    click.echo(f"{title}: {len(changes)} change(s)")
    for change in changes:
        detail = {k: change[k] for k in ("old", "new") if k in change}
        click.echo(f"  {change['op']:8} {change['path']}  {json.dumps(detail, ensure_ascii=False)[:160]}")
