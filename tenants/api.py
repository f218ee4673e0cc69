"""The tenant API: every blueprint served under /t/<slug>/api/v1; and the resident pages
(HTML) served under /t/<slug>/ and on the tenant's hosts."""

from __future__ import annotations

from flask import Blueprint as PageBlueprint
from flask_smorest import Blueprint


def blueprints() -> list[Blueprint]:
    from tenants.committees.views import blp as committees
    from tenants.cycles.views import blp as cycles
    from tenants.execution.views import blp as execution
    from tenants.people.views import blp as people
    from tenants.people.views import invitations
    from tenants.portal.views import blp as portal
    from tenants.proposals.views import blp as proposals
    from tenants.results.views import blp as results
    from tenants.voting.views import blp as voting

    return [portal, people, invitations, cycles, proposals, voting, committees, results, execution]


def page_blueprints() -> list[PageBlueprint]:
    """Every page blueprint of the PB domain (saas.core.web.pages.page_blueprint); add yours."""
    from tenants.execution.pages import bp as execution
    from tenants.people.pages import bp as people
    from tenants.portal.pages import bp as portal
    from tenants.proposals.pages import bp as proposals
    from tenants.results.pages import bp as results
    from tenants.voting.pages import bp as voting

    return [portal, people, proposals, voting, results, execution]
