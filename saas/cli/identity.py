"""`chamyeo identity`: the identity federation (upstream IdPs, the hub's signing keys)."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from saas.cli.context import attached_settings, database_engine


@click.group()
def identity() -> None:
    """Identity providers of the federation and the hub's signing keys."""


@identity.command("add")
@click.argument("key")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--client-secret", required=True, prompt=True, hide_input=True)
@click.option("--name", "display_name", required=True)
@click.option("--tenant", "tenant_slug", help="A municipality's own IdP; omit for the national IdP.")
@click.option("--role-claim")
@click.option("--map", "mappings", multiple=True, metavar="VALUE=ROLE", help="Claim value to role.")
@click.option("--pending", is_flag=True, help="Register as the tenant's admin would: wait for approval.")
def add(
    key, issuer, client_id, client_secret, display_name, tenant_slug, role_claim, mappings, pending
) -> None:
    """Register an upstream IdP (as the ministry: approved at once unless --pending)."""
    from saas.control.identity.federation.services import do_register_provider
    from saas.control.identity.sealing import SecretBox
    from saas.control.identity.signin import outbound
    from saas.control.identity.signin.upstream import callback_url
    from saas.core.registry.models import Tenant
    from saas.core.tenancy.binding import session_without_tenant

    mapping = dict(m.split("=", 1) for m in mappings if "=" in m)
    with (
        attached_settings() as settings,
        database_engine(settings) as engine,
        session_without_tenant(engine) as session,
    ):
        outbound.configure(settings)  # its discovery request follows this command's settings
        tenant_id = None
        if tenant_slug:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
            if tenant_id is None:
                raise click.ClickException(f"no tenant {tenant_slug!r}")
        # A refused registration ends the command with one line and its exit status.
        provider = do_register_provider(
            session,
            SecretBox(settings),
            key=key,
            display_name=display_name,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            tenant_id=tenant_id,
            role_claim=role_claim,
            role_mapping=mapping,
            by_ministry=not pending,
            actor="cli",
        )
        callback = callback_url(settings.hub_url, provider)
        click.echo(f"{provider.key}\t{provider.status.value}\tcallback {callback}")


@identity.command("list")
def list_providers() -> None:
    """Every registered IdP with its scope and status."""
    from saas.control.identity.models import IdentityProvider
    from saas.core.tenancy.binding import session_without_tenant

    with database_engine() as engine, session_without_tenant(engine) as session:
        for p in session.scalars(select(IdentityProvider).order_by(IdentityProvider.id)):
            scope = "national" if p.tenant_id is None else f"tenant {p.tenant_id}"
            click.echo(f"{p.key}\t{scope}\t{p.status.value}\t{p.issuer}")


@identity.command()
@click.argument("key")
def approve(key: str) -> None:
    """Approve a municipality's IdP (ministry)."""
    from saas.control.identity.federation.services import do_approve_provider
    from saas.core.tenancy.binding import session_without_tenant

    with database_engine() as engine, session_without_tenant(engine) as session:
        do_approve_provider(session, key, actor="cli")  # a refusal: one line, exit status
    click.echo(f"{key}\tapproved")


@identity.command("test")
@click.argument("key")
def test_idp(key: str) -> None:
    """Read the IdP's discovery document and print what the hub would use."""
    from saas.control.identity.federation.services import probe_provider
    from saas.control.identity.models import IdentityProvider
    from saas.control.identity.signin import outbound
    from saas.core.tenancy.binding import session_without_tenant

    with (
        attached_settings() as settings,
        database_engine(settings) as engine,
        session_without_tenant(engine) as session,
    ):
        outbound.configure(settings)
        provider = session.scalar(select(IdentityProvider).where(IdentityProvider.key == key))
        if provider is None:
            raise click.ClickException(f"no IdP {key!r}")
        click.echo(json.dumps(probe_provider(provider), indent=2))


@identity.command("rotate-keys")
def rotate_keys() -> None:
    """Start signing with a new key; the old one stays published for a day."""
    from saas.control.identity.provider.keys import rotate_signing_key
    from saas.control.identity.sealing import SecretBox
    from saas.core.tenancy.binding import session_without_tenant

    with (
        attached_settings() as settings,
        database_engine(settings) as engine,
        session_without_tenant(engine) as session,
    ):
        click.echo(rotate_signing_key(session, SecretBox(settings), actor="cli"))
