"""The development IdP: served and registered only in development, and in development a
newcomer signs in as each demo role through the hub's ordinary relying-party code."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, select

from saas.dev.idp_registration import NotInDevelopment, register_development_idps
from tests.identity.dev_sign_in import sign_in_as
from tests.identity.servers import start_web, stop_web

ROOT = Path(__file__).resolve().parents[2]


def test_the_development_idp_is_neither_served_nor_registered_outside_development(
    app, client, engine, settings
):
    from saas.core.tenancy.binding import session_without_tenant

    assert settings.environment == "test"
    assert "dev_idp" not in app.blueprints
    assert client.get("/dev-idp/national/.well-known/openid-configuration").status_code == 404
    assert client.get("/dev-idp/").status_code == 404
    with session_without_tenant(engine) as session, pytest.raises(NotInDevelopment):
        register_development_idps(session, replace(settings, environment="production"), ["alpha"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def development_server(settings, engine, alpha):
    """The app as `chamyeo up` serves it (CHAMYEO_ENV=development, gunicorn with threads) on
    the test database, with the development realms registered for portal alpha."""
    from saas.control.identity.models import IdentityProvider
    from saas.core.tenancy.binding import session_without_tenant

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    dev = replace(settings, environment="development", port=port)
    env = dict(
        os.environ,
        CHAMYEO_ENV="development",
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        SECRET_KEY=settings.secret_key,
        PLATFORM_DOMAIN=settings.platform_domain,
        PORT=str(port),
    )
    env.pop("IDENTITY_HUB_URL", None)
    with session_without_tenant(engine) as session:
        keys = register_development_idps(session, dev, ["alpha"])
    try:
        process = start_web(env, port)
        yield base
        stop_web(process)
    finally:
        with session_without_tenant(engine) as session:
            # Leave the shared test database as other identity tests expect it.
            session.execute(delete(IdentityProvider).where(IdentityProvider.key.in_(keys)))
            session.commit()
            assert session.scalar(select(IdentityProvider.id).where(IdentityProvider.key.in_(keys))) is None


def test_a_newcomer_signs_in_as_each_demo_role_without_an_external_idp(development_server):
    base = development_server
    discovery = requests.get(f"{base}/dev-idp/national/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == f"{base}/dev-idp/national" and discovery["x_chamyeo_development_only"]
    assert "DEVELOPMENT IDENTITY PROVIDER" in requests.get(f"{base}/dev-idp/", timeout=5).text

    for login, role in [
        ("tenant-admin", "tenant_admin"),
        ("staff", "staff"),
        ("officer", "officer"),
        ("committee-member", "committee_member"),
    ]:
        _, me = sign_in_as(base, "alpha", "alpha", login)
        assert me["signed_in"] and me["tenant"] == "alpha"
        assert me["roles"] == sorted([role, "resident"]), (login, me)

    _, resident = sign_in_as(base, "alpha", "national", "resident")
    assert resident["roles"] == ["resident"]
    assert resident["acr"] == "urn:chamyeo:acr:verified"

    # Platform roles come from the national realm's registration: the hub session carries them.
    for login in ["ministry-admin", "auditor"]:
        browser, me = sign_in_as(base, "alpha", "national", login)
        assert me["roles"] == ["resident"], "no tenant role from the national IdP"
        tenants = browser.http.get(f"{base}/api/v1/tenants", timeout=10)
        assert tenants.status_code == 200, tenants.text[:300]
        assert any(t["slug"] == "alpha" for t in tenants.json())

    browser, _ = sign_in_as(base, "alpha", "national", "resident")
    assert browser.http.get(f"{base}/api/v1/tenants", timeout=10).status_code == 403


def test_a_registered_development_idp_is_offered_only_in_development(engine, settings, alpha):
    from saas.control.identity.errors import ProviderNotOffered
    from saas.control.identity.models import IdentityProvider, ProviderStatus
    from saas.control.identity.signin.services import offered_providers, provider_for_portal
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        session.add(
            IdentityProvider(
                key="dev-offer-check",
                display_name="dev",
                tenant_id=alpha.id,
                issuer="http://127.0.0.1:9/dev-idp/offer-check",
                metadata_url="http://127.0.0.1:9/dev-idp/offer-check/.well-known/openid-configuration",
                client_id="chamyeo-hub",
                client_secret_encrypted="unused",
                status=ProviderStatus.APPROVED,
                is_development=True,
            )
        )
        session.flush()
        assert "dev-offer-check" not in {p.key for p in offered_providers(session, settings, alpha.id)}
        with pytest.raises(ProviderNotOffered):
            provider_for_portal(session, settings, "dev-offer-check", alpha.id)
        dev = replace(settings, environment="development")
        assert "dev-offer-check" in {p.key for p in offered_providers(session, dev, alpha.id)}
        assert provider_for_portal(session, dev, "dev-offer-check", alpha.id).key == "dev-offer-check"
        session.rollback()


def test_a_demo_person_of_the_development_idp_accepts_the_admin_invitation(
    development_server, make_tenant, ministry
):
    """`chamyeo up` without an external IdP: the development IdP gives its people an e-mail,
    so the invitation that provisioning made for a portal's admin can be accepted."""
    base = development_server
    tenant = make_tenant(admin_email="resident@national.example.kr")
    issued = requests.post(f"{base}/api/v1/tenants/{tenant.slug}/invitation", headers=ministry, timeout=10)
    assert issued.status_code == 201, issued.text[:300]
    browser, me = sign_in_as(base, tenant.slug, "national", "resident")
    assert me["roles"] == ["resident"]
    accepted = browser.http.post(f"{base}{issued.json()['accept_url']}", timeout=10)
    assert accepted.status_code == 200, accepted.text[:300]
    me = browser.http.get(f"{base}/t/{tenant.slug}/auth/me", timeout=10).json()
    assert me["roles"] == ["resident", "tenant_admin"]
