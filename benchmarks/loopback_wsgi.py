"""The app for the login benchmark's gunicorn: `saas.wsgi`'s, except that the hub may reach
an identity provider on loopback over http (`outbound_loopback_for_tests`, as the test suite's
settings allow), because the benchmark's national IdP is the oidc-provider peer on 127.0.0.1.
Never a production entry point: that setting is not read from the environment on purpose."""

from dataclasses import replace

from saas.app import create_app
from saas.core.settings import Settings

app = create_app(replace(Settings.from_env(), outbound_loopback_for_tests=True))
