"""In production the hub fetches an IdP's URLs only on public https addresses; in development
and tests, IdPs on loopback work (every other identity test uses one)."""

from dataclasses import replace

import pytest

from saas.control.identity.errors import SignInRefused
from saas.control.identity.signin import outbound
from saas.control.identity.signin.upstream import fetch_discovery


@pytest.fixture
def production_app(app, settings, monkeypatch):
    """The test app, configured as in production for the duration of a test."""
    production = replace(settings, environment="production", outbound_loopback_for_tests=False)
    monkeypatch.setitem(app.config, "CHAMYEO_SETTINGS", production)
    return app


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://idp.example.kr/.well-known/openid-configuration", "not an https URL"),
        ("https://127.0.0.1:8443/realm", "not a public address"),
        ("https://localhost/realm", "not a public address"),
        ("https://10.1.2.3/realm", "not a public address"),
        ("https://192.168.0.10/realm", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),  # cloud metadata
        ("https://[::1]/realm", "not a public address"),
        ("https://[fd00::1]/realm", "not a public address"),
    ],
)
def test_production_refuses_idp_urls_that_are_not_public(production_app, url, why):
    with production_app.app_context(), pytest.raises(SignInRefused, match=why):
        outbound.require_public(url)


def test_production_lets_a_public_address_through(production_app):
    with production_app.app_context():
        outbound.require_public("https://1.1.1.1/.well-known/openid-configuration")


def test_a_discovery_document_on_loopback_is_refused_in_production_before_any_request(production_app):
    # Port 9 has no server: a request would fail with "could not be read", not this.
    with production_app.app_context(), pytest.raises(SignInRefused, match="not a public address"):
        fetch_discovery("https://127.0.0.1:9/.well-known/openid-configuration")


def test_the_checks_apply_in_every_environment_but_development(app, settings, monkeypatch):
    for environment, checked in (("test", True), ("production", True), ("development", False)):
        plain = replace(settings, environment=environment, outbound_loopback_for_tests=False)
        monkeypatch.setitem(app.config, "CHAMYEO_SETTINGS", plain)
        with app.app_context():
            if checked:
                with pytest.raises(SignInRefused, match="not an https URL"):
                    outbound.require_public("http://127.0.0.1:9/.well-known/openid-configuration")
            else:
                outbound.require_public("http://127.0.0.1:9/.well-known/openid-configuration")


def test_without_an_app_or_settings_the_checks_apply(monkeypatch):
    monkeypatch.setattr(outbound, "_process_settings", None)
    with pytest.raises(SignInRefused, match="not a public address"):
        outbound.require_public("https://127.0.0.1/.well-known/openid-configuration")


def test_the_test_suites_loopback_idps_are_fetched(app):
    """The suite's settings let the hub reach its oidc-provider peers on loopback."""
    with app.app_context():
        outbound.require_public("http://127.0.0.1:9/.well-known/openid-configuration")
        with pytest.raises(SignInRefused, match="could not be read"):
            fetch_discovery("http://127.0.0.1:9/.well-known/openid-configuration")
