"""`chamyeo db`: migrations of the control schema and of every tenant schema."""

from __future__ import annotations

import click

from saas.cli.context import database_engine


@click.group()
def db() -> None:
    """Database migrations (control schema, then every tenant schema)."""


@db.command()
@click.option("--workers", type=click.IntRange(1, 64), help="Processes migrating tenants at once.")
@click.option("--lock-timeout", default="3s", show_default=True, help="Per tenant attempt, e.g. 500ms.")
def upgrade(workers: int | None, lock_timeout: str) -> None:
    """Upgrade the control schema, then every tenant schema, to the newest revision.

    Resumable: tenants already at head are skipped; a failing tenant is reported (exit 1)."""
    from migrations.runner import upgrade_control
    from provisioning import upgrade as fleet

    with database_engine() as engine:
        upgrade_control(engine)
        click.echo("control: at head")
        report = fleet.upgrade_all(engine, workers=workers, lock_timeout=lock_timeout, progress=click.echo)
        click.echo(report.summary())
        if report.failed:
            raise SystemExit(1)


@db.command()
def check() -> None:
    """Fail when the models and the migrations drift apart."""
    from migrations.drift import control_drift, tenant_drift
    from migrations.runner import upgrade_control

    with database_engine() as engine:
        upgrade_control(engine)
        problems = [("control", d) for d in control_drift(engine)]
        problems += [("tenant", d) for d in tenant_drift(engine)]
    if problems:
        for track, diff in problems:
            click.echo(f"{track}: {diff}", err=True)
        raise click.ClickException(
            f"{len(problems)} difference(s) between models and migrations: "
            "add a migration (chamyeo db revision TRACK -m MESSAGE)"
        )
    click.echo("models and migrations agree (control and tenant)")


@db.command()
def status() -> None:
    """How many tenants are at which revision."""
    from migrations.runner import control_revision, tenant_head_revision
    from provisioning import upgrade as fleet

    with database_engine() as engine:
        click.echo(f"control: {control_revision(engine) or 'empty'}")
        head = tenant_head_revision()
        click.echo(f"tenant head: {head}")
        for revision, count in fleet.revision_counts(engine):
            mark = "head" if revision == head else ("no schema yet" if revision is None else "behind")
            click.echo(f"tenants at {revision or 'none'}: {count} ({mark})")


@db.command()
@click.argument("track", type=click.Choice(["control", "tenant"]))
@click.option("-m", "--message", required=True)
def revision(track: str, message: str) -> None:
    """Write a new migration for TRACK from the difference between models and migrations."""
    from migrations.drift import write_revision
    from migrations.runner import upgrade_control

    with database_engine() as engine:
        upgrade_control(engine)
        write_revision(engine, track, message)
