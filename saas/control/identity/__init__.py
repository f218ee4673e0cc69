"""The identity hub: one sign-in across every municipal portal.

The hub is an OpenID relying party to upstream identity providers (`upstream`) and an OpenID
provider to the portals (`provider`); portals sign people in through it (`portal`). Accounts
are identified by (issuer, subject) (`accounts`); roles come from IdP claims, scoped to the
tenant whose IdP sent them (`roles`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the hub on the app: the person loader the core asks for the signed-in person,
    the hub's browser routes, the portals' sign-in routes and the federation's API."""
    from saas.control.identity import principals, views
    from saas.control.identity.federation import api as federation_api
    from saas.control.identity.provider import portal_views

    principals.init_app(app)
    views.init_app(app)
    app.register_blueprint(portal_views.bp)
    federation_api.init_app(api)
