"""`chamyeo audit`: the hash-chained audit trail."""

from __future__ import annotations

import click
from sqlalchemy import select

from saas.cli.context import database_engine


@click.group()
def audit() -> None:
    """Read and verify the audit trail."""


@audit.command()
def verify() -> None:
    """Recompute the hash chain; name the first broken event."""
    from saas.core.audit.services import verify_chain
    from saas.core.tenancy.binding import session_without_tenant

    with database_engine() as engine, session_without_tenant(engine) as session:
        report = verify_chain(session)
    if not report.ok:
        raise click.ClickException(
            f"event {report.first_broken_id}: {report.problem} ({report.links} checked)"
        )
    click.echo(f"audit chain intact: {report.links} events")


@audit.command()
@click.option("-n", "limit", default=20, show_default=True)
@click.option("--tenant", "tenant_slug")
def tail(limit: int, tenant_slug: str | None) -> None:
    """The newest events."""
    from saas.core.audit.models import AuditEvent
    from saas.core.tenancy.binding import session_without_tenant

    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if tenant_slug:
        statement = statement.where(AuditEvent.tenant_slug == tenant_slug)
    with database_engine() as engine, session_without_tenant(engine) as session:
        for event in reversed(session.scalars(statement).all()):
            click.echo(
                f"{event.id}\t{event.occurred_at:%Y-%m-%d %H:%M:%S}\t{event.actor}\t"
                f"{event.action}\t{event.tenant_slug or '-'}\t{event.target or ''}"
            )
