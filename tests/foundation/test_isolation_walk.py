"""Walk every tenant route registered in the app with the other tenant's credentials.

Every route under /t/<slug>/ must answer 404 to a credential of another tenant, whatever
the method, by path or by host; and no response to a tenant's own credentials may carry the
other tenant's data (the fixture tenants' data collide on purpose, only the person differs).
Any route added later is walked too, so a leaking one makes this test fail.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from saas.core.api.converters import IdConverter

TENANT_RULE_PREFIX = "/t/<tenant_slug:slug>/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def tenant_routes(app: Flask):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(TENANT_RULE_PREFIX):
            continue
        for method in sorted((rule.methods or set()) & set(METHODS)):
            yield rule, method


def _fill(app: Flask, rule, slug: str) -> str:
    """The rule's URL for tenant `slug`, with ids and keys that exist in both fixture tenants."""
    values = {"slug": slug}
    for argument, converter in rule._converters.items():
        if argument != "slug":
            values[argument] = 1 if isinstance(converter, IntegerConverter | IdConverter) else "notice"
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def walk_foreign_credentials(app, client, owner, intruder_headers) -> list[str]:
    """Requests to `owner`'s routes with another tenant's credential that did not get 404."""
    failures = []
    for rule, method in tenant_routes(app):
        path = _fill(app, rule, owner.slug)
        host_path = path[len(f"/t/{owner.slug}") :]
        for url, host in ((path, "localhost"), (host_path, f"{owner.slug}.chamyeo.test")):
            response = client.open(
                url,
                method=method,
                headers={**intruder_headers, "Host": host},
                json={} if method in ("POST", "PUT", "PATCH") else None,
            )
            if response.status_code != 404:
                failures.append(f"{method} {url} (host {host}) -> {response.status_code}")
    return failures


def test_every_tenant_route_is_404_to_another_tenants_credentials(app, client, alpha, beta):
    routes = list(tenant_routes(app))
    assert len(routes) >= 6, "the walk must see the tenant API"
    failures = []
    for owner, intruder in ((alpha, beta), (beta, alpha)):
        for role in intruder.tokens:
            failures += walk_foreign_credentials(app, client, owner, intruder.auth(role))
    assert failures == []


def test_no_tenant_route_shows_the_other_tenants_data(app, client, alpha, beta):
    leaks = []
    for reader, other_name in ((alpha, "Beta"), (beta, "Alpha")):
        for rule, method in tenant_routes(app):
            if method != "GET":
                continue
            for role in reader.tokens:
                response = client.get(_fill(app, rule, reader.slug), headers=reader.auth(role))
                if f"of {other_name}" in response.get_data(as_text=True):
                    leaks.append(f"{reader.slug} {role} GET {rule.rule}")
    assert leaks == []


def test_the_walk_catches_a_route_that_skips_tenant_resolution(alpha, beta):
    # A route under /t/<slug>/ written without tenant_blueprint never checks whose
    # credential it got; the walk must report it.
    from saas.core.tenancy.web import TenantSlugConverter

    leaky = Flask("leaky")
    leaky.url_map.converters["tenant_slug"] = TenantSlugConverter

    @leaky.get("/t/<tenant_slug:slug>/api/v1/leak")
    def leak(slug):
        return {"slug": slug}

    failures = walk_foreign_credentials(leaky, leaky.test_client(), alpha, beta.auth())
    assert failures and "leak" in failures[0]
