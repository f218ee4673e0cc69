"""Voter keys have a secret of their own (VOTER_KEY_SECRET): production needs it, a new
deployment never shares it with SECRET_KEY, and `chamyeo up` keeps one under its home."""

from __future__ import annotations

import pytest

from saas.cli.up import _with_home_secrets
from saas.core.settings import Settings


def test_production_refuses_to_start_without_a_voter_key_secret():
    with pytest.raises(ValueError, match="VOTER_KEY_SECRET must be set in production") as refused:
        Settings.from_env({"CHAMYEO_ENV": "production", "SECRET_KEY": "s3cret"})
    assert "sets it to its SECRET_KEY of that time" in str(refused.value)  # how to keep voter keys
    settings = Settings.from_env(
        {"CHAMYEO_ENV": "production", "SECRET_KEY": "s3cret", "VOTER_KEY_SECRET": "v0ter"}
    )
    assert (settings.secret_key, settings.voter_key_secret) == ("s3cret", "v0ter")


def test_without_the_setting_the_voter_key_secret_is_never_the_secret_key():
    settings = Settings.from_env({"CHAMYEO_ENV": "development", "SECRET_KEY": "s3cret"})
    assert settings.voter_key_secret not in ("", "s3cret") and len(settings.voter_key_secret) >= 32
    assert "s3cret" not in repr(settings) and settings.voter_key_secret not in repr(settings)


def _as_up(env):
    """Settings as `chamyeo up` reads them (it chooses development when CHAMYEO_ENV is unset)."""
    return Settings.from_env(env, default_environment="development")


def test_chamyeo_up_keeps_a_voter_key_secret_of_its_own_under_a_new_home(tmp_path):
    base = Settings.from_env({"CHAMYEO_ENV": "development", "CHAMYEO_HOME": str(tmp_path / "home")})
    first = _with_home_secrets(base, {})
    assert first.voter_key_secret != first.secret_key
    assert (tmp_path / "home" / "voter_key_secret").read_text() == first.voter_key_secret
    again = _with_home_secrets(_as_up({"CHAMYEO_HOME": str(tmp_path / "home")}), {})
    assert (again.secret_key, again.voter_key_secret) == (first.secret_key, first.voter_key_secret)


def test_chamyeo_up_on_a_home_used_before_keeps_the_voter_keys_it_holds(tmp_path):
    """A home from before voter keys had their own secret: its marks were keyed with the
    secret key, which therefore becomes the voter key secret (then SECRET_KEY may change)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "secret_key").write_text("the-old-secret-key")
    settings = _with_home_secrets(_as_up({"CHAMYEO_HOME": str(home)}), {})
    assert settings.voter_key_secret == "the-old-secret-key"
    rotated = _with_home_secrets(
        _as_up({"CHAMYEO_HOME": str(home), "SECRET_KEY": "a-new-one"}), {"SECRET_KEY": "a-new-one"}
    )
    assert (rotated.secret_key, rotated.voter_key_secret) == ("a-new-one", "the-old-secret-key")


def test_a_voter_key_secret_set_in_the_environment_wins(tmp_path):
    env = {"CHAMYEO_HOME": str(tmp_path), "VOTER_KEY_SECRET": "from-env"}
    assert _with_home_secrets(_as_up(env), env).voter_key_secret == "from-env"
    assert not (tmp_path / "voter_key_secret").exists()
