"""Process state is owned by the app, or by the worker that built it at its start: two apps in
one process each keep their own engine and Stripe gateway, and code outside any app uses only
what its process was given (never the environment)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import text

from saas.control.billing import gateway
from saas.core.extensions import db
from saas.core.settings import APP_CONFIG_KEY


def _app(name: str, settings) -> Flask:
    app = Flask(name)
    app.config[APP_CONFIG_KEY] = settings
    db.init_app(app)
    gateway.init_app(app)
    return app


def test_two_apps_in_one_process_each_keep_their_own_engine(settings):
    first = _app("first", replace(settings, db_pool_size=3))
    second = _app("second", replace(settings, db_pool_size=2))  # its init_app came last
    try:
        with first.app_context():
            first_engine = db.engine
            with db.engine.connect() as connection:
                assert connection.scalar(text("select 1")) == 1
        with second.app_context():
            second_engine = db.engine
        assert first_engine is not second_engine
        assert (first_engine.pool.size(), second_engine.pool.size()) == (3, 2)
        with first.app_context():
            assert db.engine is first_engine
    finally:
        db.dispose(first)
        db.dispose(second)


def test_outside_an_app_the_engine_is_only_the_one_the_process_was_given(settings, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)  # read by nothing here
    with pytest.raises(RuntimeError, match="not configured"):
        db.engine  # noqa: B018 - the read is the test
    db.use(engine)
    try:
        assert db.engine is engine
    finally:
        db.use(None)


def test_each_app_has_the_stripe_gateway_its_settings_name(settings, monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # read by nothing here
    with_fake = _app("with_fake", replace(settings, stripe_api_base="http://127.0.0.1:12111"))
    without = _app("without", settings)
    try:
        with with_fake.app_context():
            assert gateway.is_configured()
            assert gateway.current() is with_fake.extensions[gateway.EXTENSION_KEY]
        with without.app_context(), pytest.raises(gateway.BillingNotConfigured):
            gateway.current()
    finally:
        db.dispose(with_fake)
        db.dispose(without)
