"""Settings, read once from the environment into one typed object.

Nothing else in the code base reads `os.environ`; code receives a `Settings`: an app keeps
its own (`create_app` puts it in the app's config) and code that runs for that app reads it
with `current_settings()`; code without an app (a job, a command) is given one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

# Where an app keeps its settings (app.config).
APP_CONFIG_KEY = "CHAMYEO_SETTINGS"


def current_settings() -> Settings:
    """The settings of the app this code runs for (a request, an app context). Outside an app
    context it raises RuntimeError: code without an app is given its settings instead."""
    from flask import current_app

    return current_app.config[APP_CONFIG_KEY]


class SettingsError(ValueError):
    """The environment names settings the service cannot start with (one line says which)."""


def cli_environment_default(env: Mapping[str, str] | None = None) -> str:
    """What CHAMYEO_ENV defaults to for the command line: development when it attaches to the
    embedded servers `chamyeo up` runs (no DATABASE_URL), production otherwise."""
    env = os.environ if env is None else env
    return "production" if env.get("DATABASE_URL", "").strip() else "development"


def home_from_env(env: Mapping[str, str] | None = None) -> Path:
    """CHAMYEO_HOME, without reading (or checking) any other setting."""
    env = os.environ if env is None else env
    return Path(env.get("CHAMYEO_HOME", "").strip() or ".chamyeo")


@dataclass(frozen=True)
class Settings:
    # development | test | production. Production is the default: only `chamyeo up`, the
    # command line attached to its embedded servers, and the tests choose another.
    environment: str = "production"
    home: Path = Path(".chamyeo")
    database_url: str | None = None  # None: the embedded PostgreSQL under `home`
    redis_url: str | None = None  # None: the embedded Redis under `home`
    platform_domain: str = "chamyeo.localhost"
    host: str = "127.0.0.1"
    port: int = 5000
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # Keys who has voted (voter keys are HMACs of identities under it); its own secret, so that
    # rotating secret_key never changes who has voted. Required in production.
    voter_key_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    max_request_bytes: int = 1_000_000
    # PostgreSQL keeps ~113 KB of catalog cache per schema a connection touched:
    # a connection is closed after serving this many distinct tenants (~64 MB).
    tenants_per_connection: int = 500
    db_pool_size: int = 5
    # A pooled connection idle this long is pinged before use (saas.core.db.install_ping_after_idle).
    db_ping_after_idle_ms: int = 1000
    tenant_lookup_ttl_seconds: float = 5.0
    web_workers: int = 2
    # RQ's worker TTL: its dequeue waits TTL-15 s and a Redis read times out after TTL-5 s.
    worker_ttl_seconds: int = 420
    stripe_api_key: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    # The identity hub's issuer URL (portals and upstream IdPs reach it here); None: base_url.
    identity_hub_url: str | None = None
    # Encrypts IdP client secrets and the hub's signing keys; None: derived from secret_key.
    identity_encryption_key: str | None = field(default=None, repr=False)
    # The test suite's IdPs (oidc-provider) run on loopback over http: only its settings set
    # this, to let the hub reach them outside development. Never read from the environment.
    outbound_loopback_for_tests: bool = False

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def hub_url(self) -> str:
        return (self.identity_hub_url or self.base_url).rstrip("/")

    def with_services(self, *, database_url: str, redis_url: str) -> Settings:
        """A copy pointing at concrete servers (after the embedded ones started)."""
        return replace(self, database_url=database_url, redis_url=redis_url)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, default_environment: str = "production"
    ) -> Settings:
        """The settings the environment names; CHAMYEO_ENV unset means `default_environment`
        (production, unless the caller is one that chooses development explicitly)."""
        env = os.environ if env is None else env
        defaults = cls()

        def text(name: str, default: str | None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{name} must be an integer, got {raw!r}") from None

        environment = text("CHAMYEO_ENV", default_environment) or default_environment
        if environment not in {"development", "test", "production"}:
            raise SettingsError(f"CHAMYEO_ENV must be development, test or production, got {environment!r}")
        secret_key = text("SECRET_KEY", None)
        if secret_key is None and environment == "production":
            raise SettingsError("SECRET_KEY must be set in production (CHAMYEO_ENV unset means production)")
        voter_key_secret = text("VOTER_KEY_SECRET", None)
        if voter_key_secret is None and environment == "production":
            raise SettingsError(
                "VOTER_KEY_SECRET must be set in production: it keys who has voted. A deployment "
                "that ran before it existed sets it to its SECRET_KEY of that time, to keep its "
                "voter keys; a new one gives it a random value of its own."
            )
        return cls(
            environment=environment,
            home=Path(text("CHAMYEO_HOME", str(defaults.home)) or ".chamyeo"),
            database_url=text("DATABASE_URL", None),
            redis_url=text("REDIS_URL", None),
            platform_domain=text("PLATFORM_DOMAIN", defaults.platform_domain) or defaults.platform_domain,
            host=text("HOST", defaults.host) or defaults.host,
            port=number("PORT", defaults.port),
            secret_key=secret_key or defaults.secret_key,
            voter_key_secret=voter_key_secret or defaults.voter_key_secret,
            max_request_bytes=number("MAX_REQUEST_BYTES", defaults.max_request_bytes),
            tenants_per_connection=number("TENANTS_PER_CONNECTION", defaults.tenants_per_connection),
            db_pool_size=number("DB_POOL_SIZE", defaults.db_pool_size),
            db_ping_after_idle_ms=number("DB_PING_AFTER_IDLE_MS", defaults.db_ping_after_idle_ms),
            web_workers=number("WEB_WORKERS", defaults.web_workers),
            worker_ttl_seconds=number("WORKER_TTL", defaults.worker_ttl_seconds),
            stripe_api_key=text("STRIPE_API_KEY", None),
            stripe_api_base=text("STRIPE_API_BASE", None),
            stripe_webhook_secret=text("STRIPE_WEBHOOK_SECRET", None),
            identity_hub_url=text("IDENTITY_HUB_URL", None),
            identity_encryption_key=text("IDENTITY_ENCRYPTION_KEY", None),
        )
