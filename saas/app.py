"""The entry point of the web service: `create_app` builds the Flask app from its settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from saas.core.settings import Settings

API_TITLE = "Chamyeo"
API_VERSION = "v1"


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app. `settings` defaults to the environment's; its database and Redis URLs
    must point at running servers (see `saas.dev.servers.attached_services`)."""
    from flask import Flask
    from flask.json.provider import DefaultJSONProvider

    from saas.core import health
    from saas.core.api.bodies import refuse_hostile_json_body
    from saas.core.api.converters import OPENAPI_ID, IdConverter
    from saas.core.api.errors import refuse_nul_in_url
    from saas.core.auth import check_access_before_the_body
    from saas.core.extensions import api, db, queues
    from saas.core.no_cookie_session import NoCookieSession
    from saas.core.settings import Settings
    from saas.core.tenancy import web as tenancy_web
    from saas.core.tenancy.context import close_request_session
    from saas.core.tenancy.slugs import SLUG_PATTERN

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        CHAMYEO_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
        API_TITLE=API_TITLE,
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Control plane (/api/v1) and tenant portals (/t/{slug}/api/v1). "
                # A code span: the docs page renders this as Markdown, where a bare <token>
                # is an HTML tag and vanishes ("Bearer .").
                "Authenticate with `Authorization: Bearer <token>`."
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        },
    )
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own, unless an app sets another
    app.json.ensure_ascii = False  # Korean stays readable
    app.session_interface = NoCookieSession()
    db.init_app(app)
    queues.init_app(app)
    tenancy_web.init_app(app, settings.platform_domain)
    app.url_map.converters["id"] = IdConverter
    api.init_app(app)
    api.register_converter(IdConverter, lambda converter: OPENAPI_ID)
    api.register_converter(
        tenancy_web.TenantSlugConverter,
        lambda converter: {"type": "string", "pattern": f"^{SLUG_PATTERN}$"},
    )
    app.teardown_appcontext(close_request_session)
    app.before_request(refuse_nul_in_url)
    # Who may call comes before what they sent: the role check, then the body's shape.
    app.before_request(check_access_before_the_body)
    app.before_request(refuse_hostile_json_body)
    health.init_app(app)
    _register_blueprints(app)
    from saas.core import web

    web.init_app(app)  # after the API: its HTML error pages sit in front of the API's JSON ones
    _register_page_blueprints(app)
    from saas.core.api import docs_assets

    docs_assets.init_app(app)
    return app


def _register_page_blueprints(app: Flask) -> None:
    from saas.control.identity.signin import pages as identity_pages
    from tenants.api import page_blueprints

    for blueprint in page_blueprints():
        app.register_blueprint(blueprint)
    app.register_blueprint(identity_pages.bp)


def _register_blueprints(app: Flask) -> None:
    from provisioning.api import blp as tenants_blp
    from saas.control import billing, identity
    from saas.core.extensions import api
    from tenants.api import blueprints as tenant_blueprints

    api.register_blueprint(tenants_blp)
    identity.init_app(app, api)
    if app.config["CHAMYEO_SETTINGS"].environment == "development":
        # Development-only parts are imported here and nowhere on a production path.
        from saas.dev import idp as dev_idp

        dev_idp.init_app(app)
    for blueprint in tenant_blueprints():
        api.register_blueprint(blueprint)
    billing.init_app(app)
    from tenants.voting.ballot_rules import Ballot as TemplateBallot

    # The service validates ballot rules as templates' (unknown keys refused): say so.
    api.document_field("BallotRules", "ballot", "TemplateBallot", TemplateBallot)
