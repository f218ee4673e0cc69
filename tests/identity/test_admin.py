"""Administration: registration rules, approval, testing an IdP, key rotation."""

from __future__ import annotations

import pytest
import requests

from saas.control.identity.federation.services import (
    ProviderRefused,
    do_approve_provider,
    do_register_provider,
    probe_provider,
)
from saas.control.identity.models import ProviderStatus
from saas.control.identity.sealing import SecretBox


def _register(session, settings, **changes):
    values = dict(
        key="gwangju-idp",
        display_name="광주 직원",
        issuer="https://idp.gwangju.example.kr",
        client_id="hub",
        client_secret="s3cret",
        tenant_id=None,
        by_ministry=True,
        actor="test",
    )
    values.update(changes)
    return do_register_provider(session, SecretBox(settings), **values)


def test_a_municipality_cannot_map_claims_to_ministry_roles(engine, settings, alpha):
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        with pytest.raises(ProviderRefused, match="only the ministry"):
            _register(
                session,
                settings,
                tenant_id=alpha.id,
                by_ministry=False,
                role_claim="roles",
                role_mapping={"boss": "ministry_admin"},
            )
        with pytest.raises(ProviderRefused, match="only the ministry registers the national"):
            _register(session, settings, by_ministry=False)


def test_a_tenant_registered_idp_waits_for_the_ministry_and_its_secret_is_encrypted(engine, settings, alpha):
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        provider = _register(
            session,
            settings,
            tenant_id=alpha.id,
            by_ministry=False,
            role_claim="roles",
            role_mapping={"pb-admin": "tenant_admin"},
        )
        assert provider.status == ProviderStatus.PENDING
        assert "s3cret" not in provider.client_secret_encrypted
        assert SecretBox(settings).open(provider.client_secret_encrypted) == "s3cret"
        assert do_approve_provider(session, "gwangju-idp", actor="test").status == ProviderStatus.APPROVED


def test_testing_an_idp_reads_its_discovery_document(engine, settings, federation):
    from sqlalchemy import select

    from saas.control.identity.models import IdentityProvider
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        provider = session.scalar(select(IdentityProvider).where(IdentityProvider.key == "national"))
        report = probe_provider(provider)
    assert report["issuer"] == federation["national"].issuer
    assert report["iss_parameter"] is True and report["backchannel_logout"] is True


def test_a_rotated_key_stays_published_beside_the_new_one(engine, settings, hub):
    from saas.control.identity.provider.keys import rotate_signing_key, signing_key
    from saas.core.tenancy.binding import session_without_tenant

    with session_without_tenant(engine) as session:
        old = signing_key(session, SecretBox(settings)).kid
        new = rotate_signing_key(session, SecretBox(settings), actor="test")
    kids = {key["kid"] for key in requests.get(f"{hub.url}/oidc/jwks", timeout=5).json()["keys"]}
    assert {old, new} <= kids
    discovery = requests.get(f"{hub.url}/.well-known/openid-configuration", timeout=5).json()
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
