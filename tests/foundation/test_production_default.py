"""Production is the safe default: `gunicorn saas.wsgi:app` with no CHAMYEO_ENV serves no
development IdP and checks the hub's outbound requests; without SECRET_KEY it does not start
and says why in one line. Only `chamyeo up` and the tests choose another environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import saas.wsgi as wsgi
from saas.control.identity.signin import outbound
from saas.control.identity.errors import SignInRefused

app = wsgi.app
print("environment", app.config["CHAMYEO_SETTINGS"].environment)
print("dev-idp", app.test_client().get("/dev-idp/national/.well-known/openid-configuration").status_code)
print("dev-idp rules", sum(1 for rule in app.url_map.iter_rules() if rule.rule.startswith("/dev-idp")))
with app.app_context():
    try:
        outbound.require_public("http://127.0.0.1:9/.well-known/openid-configuration")
        print("outbound unchecked")
    except SignInRefused as error:
        print("outbound refused:", error)

import importlib, pkgutil, sys
import saas.cli
for command in pkgutil.iter_modules(saas.cli.__path__, "saas.cli."):
    if command.name != "saas.cli.__main__":
        importlib.import_module(command.name)
app.test_client().get("/api/v1/templates")
app.test_client().get("/t/nowhere/")
loaded = sorted(m for m in sys.modules if m == "saas.dev" or m.startswith("saas.dev."))
print("development parts loaded:", loaded)
"""


def _env(settings, **extra: str) -> dict[str, str]:
    drop = ("CHAMYEO_ENV", "SECRET_KEY", "VOTER_KEY_SECRET")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url, **extra)
    return env


def test_the_wsgi_app_without_chamyeo_env_is_a_production_one(settings):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_env(settings, SECRET_KEY="a-secret", VOTER_KEY_SECRET="a-voter-secret"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "environment production" in lines
    assert "dev-idp 404" in lines and "dev-idp rules 0" in lines
    # Neither the app nor any CLI command module loads the development-only package.
    assert "development parts loaded: []" in lines
    assert "outbound refused: the IdP's URL 'http://127.0.0.1:9/.well-known/openid-configuration' is not an https URL" in lines  # noqa: E501


def test_a_development_app_does_load_the_development_parts(settings):
    """The probe above can fail: the same lines in development list the dev IdP."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_env(settings, CHAMYEO_ENV="development", SECRET_KEY="a-secret", VOTER_KEY_SECRET="s"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded = next(line for line in result.stdout.splitlines() if line.startswith("development parts"))
    assert "'saas.dev.idp'" in loaded


def test_gunicorn_without_a_secret_key_refuses_to_start_with_one_line(settings, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--no-control-socket", "saas.wsgi:app"],
        cwd=ROOT,
        env=_env(settings, HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("chamyeo:")]
    assert ours == [
        "chamyeo: cannot start: SECRET_KEY must be set in production (CHAMYEO_ENV unset means production)"
    ], result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_voter_key_secret_it_refuses_too(settings):
    result = subprocess.run(
        [sys.executable, "-c", "import saas.wsgi"],
        cwd=ROOT,
        env=_env(settings, SECRET_KEY="a-secret"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith("chamyeo: cannot start: VOTER_KEY_SECRET must be set in production")
