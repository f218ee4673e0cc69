"""`chamyeo tokens`: API tokens (shown once at creation, stored hashed)."""

from __future__ import annotations

import click
from sqlalchemy import select

from saas.cli.context import database_engine
from saas.core.accounts.models import ApiToken, Role


@click.group()
def tokens() -> None:
    """API tokens for machines (and, until sign-in exists, for people)."""


@tokens.command()
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", required=True, help="Who or what will use it.")
@click.option("--tenant", "tenant_slug", help="The tenant, for roles inside one tenant.")
@click.option(
    "--account",
    "account_id",
    type=int,
    help="The account of the person it is for: what they do with it is theirs (a paper batch "
    "needs two people, not two tokens). Without it, the token names no person.",
)
def create(role: str, name: str, tenant_slug: str | None, account_id: int | None) -> None:
    """Create a token and print it (the only time it is shown)."""
    from saas.core.accounts.models import Account
    from saas.core.accounts.tokens import create_token
    from saas.core.registry.models import Tenant
    from saas.core.tenancy.binding import session_without_tenant

    with database_engine() as engine, session_without_tenant(engine) as session:
        tenant_id = None
        if tenant_slug is not None:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
            if tenant_id is None:
                raise click.ClickException(f"there is no tenant {tenant_slug!r}")
        if account_id is not None and session.get(Account, account_id) is None:
            raise click.ClickException(f"there is no account {account_id}")
        try:
            _, secret = create_token(
                session, name=name, role=Role(role), tenant_id=tenant_id, account_id=account_id, actor="cli"
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    click.echo(secret)


@tokens.command("list")
def list_() -> None:
    """Tokens with their role and tenant (never their secret)."""
    from saas.core.tenancy.binding import session_without_tenant

    with database_engine() as engine, session_without_tenant(engine) as session:
        for token in session.scalars(select(ApiToken).order_by(ApiToken.id)):
            state = "revoked" if token.revoked_at else "active"
            click.echo(
                f"{token.id}\t{token.prefix}…\t{token.role.value}\t"
                f"tenant={token.tenant_id or '-'}\t{state}\t{token.name}"
            )


@tokens.command()
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    from saas.core.accounts.tokens import revoke_token
    from saas.core.tenancy.binding import session_without_tenant

    with database_engine() as engine, session_without_tenant(engine) as session:
        if not revoke_token(session, token_id, actor="cli"):
            raise click.ClickException(f"no active token {token_id}")
    click.echo(f"token {token_id} revoked")
