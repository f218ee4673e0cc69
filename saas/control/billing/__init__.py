"""Billing and subsidies: plans and subscriptions through Stripe, and the ministry's subsidy
tracked to the won in an append-only, hash-chained ledger (the source of truth)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the billing API and point the gateway at the configured Stripe."""
    from saas.control.billing import gateway
    from saas.control.billing.views import control_blp, tenant_blp, webhook_blp
    from saas.core.extensions import api

    gateway.init_app(app)
    for blueprint in (control_blp, tenant_blp, webhook_blp):
        api.register_blueprint(blueprint)
