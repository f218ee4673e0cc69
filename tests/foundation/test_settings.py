from pathlib import Path

import pytest

from saas.core.settings import Settings, SettingsError


def test_defaults_use_embedded_servers_under_dot_chamyeo():
    settings = Settings.from_env({"CHAMYEO_ENV": "development"})
    assert settings.database_url is None and settings.redis_url is None
    assert settings.home == Path(".chamyeo")
    assert (settings.host, settings.port) == ("127.0.0.1", 5000)


def test_environment_values_are_read_once_into_types():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://x@h/db",
            "PORT": "8080",
            "CHAMYEO_HOME": "/srv/c",
            "CHAMYEO_ENV": "test",
        }
    )
    assert settings.database_url == "postgresql://x@h/db"
    assert settings.port == 8080
    assert settings.home == Path("/srv/c")


def test_a_non_numeric_port_is_refused_with_its_name():
    with pytest.raises(ValueError, match="PORT must be an integer"):
        Settings.from_env({"PORT": "eighty", "CHAMYEO_ENV": "test"})


def test_production_requires_a_secret_key():
    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings.from_env({"CHAMYEO_ENV": "production"})


def test_without_chamyeo_env_the_settings_are_production_ones():
    with pytest.raises(SettingsError, match="SECRET_KEY must be set in production"):
        Settings.from_env({})
    settings = Settings.from_env({"SECRET_KEY": "s", "VOTER_KEY_SECRET": "v"})
    assert settings.environment == "production" and settings.is_production
    assert Settings().environment == "production"
    # Only a caller that chooses development (`chamyeo up`) gets it without CHAMYEO_ENV.
    assert Settings.from_env({}, default_environment="development").environment == "development"


def test_importing_the_service_does_no_io():
    import subprocess
    import sys

    # With an unreachable database, importing must still succeed: nothing connects at import.
    code = "import saas, saas.core.extensions, saas.core.auth, tenants.api, provisioning.jobs; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "PATH": "/usr/bin"},
    )
    assert result.stdout.strip() == "ok", result.stderr
