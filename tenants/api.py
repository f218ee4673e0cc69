"""The tenant API: every blueprint served under /t/<slug>/api/v1."""

from __future__ import annotations

from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    from tenants.people.views import blp as people
    from tenants.portal.views import blp as portal

    return [portal, people]
