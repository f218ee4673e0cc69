"""What CLI commands share: settings from the environment and attached servers."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

from sqlalchemy.engine import Engine

from saas.core.db import Database
from saas.core.settings import Settings, cli_environment_default


def _persistent_secret_key(home: Path) -> str:
    path = home / "secret_key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _persistent_voter_key_secret(home: Path, inherited: str | None) -> str:
    """The voter key secret kept under `home`, made once: `inherited` (the secret that keyed
    the voter marks a home already holds, from before voter keys had a secret of their own)
    or, for a new home, a random one, never the secret key."""
    path = home / "voter_key_secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(inherited or secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def with_home_secrets(base: Settings, env: Mapping[str, str]) -> Settings:
    """`base` with the secrets that the environment does not set taken from `base.home`,
    where they are made once and kept (so voter keys and sessions survive restarts)."""
    # A home that holds a secret key or a database was used before voter keys had a secret
    # of their own: its voter marks are keyed with the secret key in effect, so that key
    # becomes its voter key secret. A new home gets a random one.
    used_before = (base.home / "secret_key").exists() or (base.home / "pg").exists()
    if not env.get("SECRET_KEY", "").strip():
        base = replace(base, secret_key=_persistent_secret_key(base.home))
    if not env.get("VOTER_KEY_SECRET", "").strip():
        inherited = base.secret_key if used_before else None
        base = replace(base, voter_key_secret=_persistent_voter_key_secret(base.home, inherited))
    return base


def cli_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of a command. Attached to the embedded servers (no DATABASE_URL), a
    command works on the platform `chamyeo up` runs from CHAMYEO_HOME: development unless
    CHAMYEO_ENV says otherwise, with the secrets kept there (so what it seals or keys, the
    web server reads). Against named servers, the environment's settings: production unless
    CHAMYEO_ENV says otherwise."""
    env = os.environ if env is None else env
    default = cli_environment_default(env)
    settings = Settings.from_env(env, default_environment=default)
    return settings if settings.database_url else with_home_secrets(settings, env)


@contextmanager
def attached_settings(*, redis: bool = False) -> Iterator[Settings]:
    """This command's settings with concrete server URLs. Named servers are used as they are;
    only a missing URL attaches to (or starts) the embedded development servers."""
    settings = cli_settings()
    if settings.database_url and (settings.redis_url or not redis):
        yield settings.with_services(database_url=settings.database_url, redis_url=settings.redis_url or "")
        return
    from saas.dev.servers import attached_services

    with attached_services(settings, redis=redis) as attached:
        yield attached


@contextmanager
def database_engine(attached: Settings | None = None) -> Iterator[Engine]:
    """An engine on the database of `attached` (settings already attached), or of this
    command's settings, attached for the block."""
    with attached_settings() if attached is None else nullcontext(attached) as settings:
        database = Database()
        database.configure(settings)
        try:
            yield database.engine
        finally:
            database.dispose()
