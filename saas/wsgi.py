"""The WSGI entry point for production servers (`gunicorn saas.wsgi:app`): settings from
the environment, whose DATABASE_URL and REDIS_URL must name running servers."""

from saas import create_app

app = create_app()
