"""Fixtures of the foundation tests."""

from __future__ import annotations

import pytest
from sqlalchemy import update


@pytest.fixture
def no_default_plan_left(engine):
    """Fuzzed requests may mark a billing plan as the default; later tests provision tenants
    without a Stripe gateway, so the default is cleared afterwards."""
    yield
    from saas.control.billing.models import Plan

    with engine.begin() as connection:
        connection.execute(update(Plan).values(is_default=False))
