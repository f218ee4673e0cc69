"""Roles from IdP claims: each IdP keeps its own grants, so signing in through another IdP of
the same scope never revokes them."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text

from migrations.runner import upgrade_control
from saas.control.identity.federation.services import do_register_provider
from saas.control.identity.sealing import SecretBox
from saas.control.identity.signin.roles import sync_roles
from saas.core.accounts.models import Account, Role, RoleGrant
from saas.core.audit import services as audit
from saas.core.tenancy.binding import session_without_tenant


@pytest.fixture
def two_alpha_idps(engine, settings, alpha):
    """Alpha's staff directory (maps roles) and its residents' directory (maps none)."""
    with session_without_tenant(engine) as session:
        providers = [
            do_register_provider(
                session,
                SecretBox(settings),
                key=key,
                display_name=key,
                issuer=f"https://{key}.alpha.example.kr",
                client_id="hub",
                client_secret="s3cret",
                tenant_id=alpha.id,
                by_ministry=True,
                actor="test",
                **mapping,
            )
            for key, mapping in (
                ("alpha-staff", {"role_claim": "roles", "role_mapping": {"pb-staff": "staff"}}),
                ("alpha-residents", {}),
            )
        ]
        account = Account(display_name="이주무관")
        session.add(account)
        session.commit()
        yield providers, account.id
        session.execute(delete(Account).where(Account.id == account.id))
        for provider in providers:
            session.delete(provider)
        session.commit()


def _roles(session, account_id: int) -> list[tuple[Role, str]]:
    from saas.control.identity.models import IdentityProvider

    rows = session.execute(
        select(RoleGrant.role, IdentityProvider.key)
        .join(IdentityProvider, IdentityProvider.id == RoleGrant.provider_id)
        .where(RoleGrant.account_id == account_id)
        .order_by(RoleGrant.role, IdentityProvider.key)
    )
    return [tuple(row) for row in rows]


def test_signing_in_through_another_idp_of_the_scope_keeps_the_roles_the_first_granted(
    engine, two_alpha_idps
):
    (staff_idp, residents_idp), account_id = two_alpha_idps
    with session_without_tenant(engine) as session:
        sync_roles(session, staff_idp, account_id, {"roles": ["pb-staff"]})
        session.commit()
        assert _roles(session, account_id) == [(Role.STAFF, "alpha-staff")]
        # The residents' directory maps no roles: it has none to take away.
        sync_roles(session, residents_idp, account_id, {"roles": ["pb-staff"]})
        session.commit()
        assert _roles(session, account_id) == [(Role.STAFF, "alpha-staff")]
        # The staff directory itself still revokes what it no longer vouches for.
        sync_roles(session, staff_idp, account_id, {"roles": []})
        session.commit()
        assert _roles(session, account_id) == []


def test_two_idps_granting_one_role_each_keep_their_own_grant(engine, settings, two_alpha_idps):
    (staff_idp, residents_idp), account_id = two_alpha_idps
    with session_without_tenant(engine) as session:
        residents_idp.role_claim, residents_idp.role_mapping = "groups", {"volunteers": "staff"}
        sync_roles(session, staff_idp, account_id, {"roles": ["pb-staff"]})
        sync_roles(session, residents_idp, account_id, {"groups": ["volunteers"]})
        session.commit()
        assert _roles(session, account_id) == [(Role.STAFF, "alpha-residents"), (Role.STAFF, "alpha-staff")]
        sync_roles(session, staff_idp, account_id, {"roles": []})
        session.commit()
        assert _roles(session, account_id) == [(Role.STAFF, "alpha-residents")]  # still staff


def test_the_migration_gives_existing_grants_the_idp_their_audit_event_names(scratch_engine):
    """Grants made before grants recorded their IdP: the migration reads the IdP from the
    grant's audit event; a grant without one keeps no IdP."""
    engine = scratch_engine
    upgrade_control(engine, "302ed2a40bdc")  # the revision before
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO control.accounts (id, display_name) VALUES (1, 'a'), (2, 'b');"
                "INSERT INTO control.identity_providers (id, key, display_name, issuer, metadata_url,"
                " client_id, client_secret_encrypted, scopes, role_mapping, status, is_development)"
                " VALUES (7, 'gov', 'gov', 'https://gov.example.kr', 'x', 'c', 's', 'openid', '{}',"
                " 'approved', false);"
                "INSERT INTO control.role_grants (account_id, role, tenant_id)"
                " VALUES (1, 'ministry_admin', NULL), (2, 'auditor', NULL)"
            )
        )
    with session_without_tenant(engine) as session:
        audit.record(
            session,
            actor="idp:gov",
            action="identity.role.grant",
            target="account:1",
            data={"role": "ministry_admin", "tenant_id": None, "provider": "gov"},
        )
        session.commit()
    upgrade_control(engine)
    with engine.connect() as connection:
        grants = dict(
            connection.execute(
                text("SELECT account_id, provider_id FROM control.role_grants ORDER BY account_id")
            ).all()
        )
    assert grants == {1: 7, 2: None}
