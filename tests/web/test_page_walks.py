"""The isolation and role walks over every HTML page route (every rule of every page
blueprint, so the routes other packages add are walked as soon as they are registered):

- another tenant's credential, by path and by the tenant's own host: the 404 page;
- a route with a role rule (`require_tenant_role`): each fixture role outside the rule gets
  the 403 page, and a caller without a credential is sent to the portal's sign-in (303);
- every error a page answers is HTML, never the API's JSON.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from saas.core.api.converters import IdConverter
from saas.core.auth import access_of
from saas.core.web.pages import PAGE_BLUEPRINTS, SIGN_IN_REQUIRED

METHODS = ("GET", "POST")
ROLES = ("tenant_admin", "staff", "officer", "committee_member", "resident")


def page_routes(app):
    pages = app.extensions[PAGE_BLUEPRINTS]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".", 1)[0] not in pages:
            continue
        for method in sorted((rule.methods or set()) & set(METHODS)):
            yield rule, method


def url_of(app, rule, slug: str) -> str:
    values = {"slug": slug}
    for argument, converter in rule._converters.items():
        if argument != "slug":
            values[argument] = 1 if isinstance(converter, IntegerConverter | IdConverter) else "notice"
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def test_the_walk_sees_the_pages(app):
    endpoints = {rule.endpoint for rule, _ in page_routes(app)}
    assert {"portal_pages.home", "identity_pages.signin", "identity_pages.signout"} <= endpoints


def test_every_page_is_the_404_page_to_another_tenants_credential(app, client, alpha, beta):
    failures = []
    for owner, intruder in ((alpha, beta), (beta, alpha)):
        for rule, method in page_routes(app):
            path = url_of(app, rule, owner.slug)
            host_path = path[len(f"/t/{owner.slug}") :] or "/"
            for url, host in ((path, "localhost"), (host_path, f"{owner.slug}.chamyeo.test")):
                for role in ROLES:
                    response = client.open(url, method=method, headers={**intruder.auth(role), "Host": host})
                    if response.status_code != 404 or response.mimetype != "text/html":
                        failures.append(f"{role} of {intruder.slug}: {method} {url} (host {host}) -> "
                                        f"{response.status_code} {response.mimetype}")
    assert failures == []


def test_every_page_with_a_role_rule_refuses_the_other_roles_with_the_403_page(app, client, alpha):
    failures = []
    for rule, method in page_routes(app):
        access = access_of(app.view_functions[rule.endpoint], method)
        if access is None:
            continue
        url = url_of(app, rule, alpha.slug)
        allowed = {role.value for role in access.roles}
        for role in ROLES:
            if role in allowed:
                continue
            response = client.open(url, method=method, headers=alpha.auth(role))
            if response.status_code != 403 or response.mimetype != "text/html":
                failures.append(f"{role}: {method} {url} -> {response.status_code} {response.mimetype}")
        anonymous = client.open(url, method=method)
        if anonymous.status_code != 303 or "/signin?next=" not in anonymous.headers.get("Location", ""):
            failures.append(f"anonymous: {method} {url} -> {anonymous.status_code}")
    assert failures == []


def test_every_page_post_without_the_csrf_token_is_the_400_page(app, client, alpha):
    failures = []
    for rule, method in page_routes(app):
        if method != "POST":
            continue
        access = access_of(app.view_functions[rule.endpoint], method)
        role = access.roles[0].value if access is not None else "resident"
        response = client.post(url_of(app, rule, alpha.slug), data={"x": "1"}, headers=alpha.auth(role))
        if response.status_code != 400 or response.mimetype != "text/html":
            failures.append(f"POST {rule.rule} -> {response.status_code} {response.mimetype}")
    assert failures == []


def test_every_page_that_needs_a_sign_in_sends_the_anonymous_to_sign_in_and_back(app, client, alpha, page_of):
    # A token of this browser, from the 400 page's form, so a POST gets past the CSRF check.
    signout = f"/t/{alpha.slug}/signout"
    token = page_of(client.post(signout)).csrf_token()
    walked, failures = 0, []
    for rule, method in page_routes(app):
        if not getattr(app.view_functions[rule.endpoint], SIGN_IN_REQUIRED, False):
            continue
        walked += 1
        url = url_of(app, rule, alpha.slug)
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        location = response.headers.get("Location", "")
        expected = f"/t/{alpha.slug}/signin?next=%2F"
        if response.status_code != 303 or not location.startswith(expected):
            failures.append(f"{method} {url} -> {response.status_code} {location}")
    assert walked >= 1, "the walk must see the invitation's accept"
    assert failures == []
