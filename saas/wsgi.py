"""The WSGI entry point for production servers (`gunicorn saas.wsgi:app`): settings from
the environment, whose DATABASE_URL and REDIS_URL must name running servers.

CHAMYEO_ENV unset means production. Settings that cannot start the service (production
without SECRET_KEY, say) end the process with one line naming what is missing."""

import sys

from saas.app import create_app
from saas.core.settings import Settings

try:
    _settings = Settings.from_env()
except ValueError as error:
    print(f"chamyeo: cannot start: {error}", file=sys.stderr, flush=True)
    # gunicorn stops (rather than restarting the worker forever) on its boot-error status.
    raise SystemExit(3) from None

app = create_app(_settings)
