"""Who may call comes before what they sent: on every body-carrying API route (control plane
and tenants), a caller without a credential gets 401 and one without the role gets 403,
never 422 with the schema's details (the role check runs before the body is parsed)."""

from __future__ import annotations

from tests.foundation.api_routes import operations

# Not a valid body for any route: an unknown field, a wrong type.
INVALID_BODY = {"surely_not_a_field": [1, {"x": None}]}


def _body_operations(app, client):
    found = [op for op in operations(app, client) if op.takes_body]
    assert len(found) >= 30, "the walk must see the body-carrying routes"
    return found


def test_every_secured_body_route_answers_401_before_validating_the_body(app, client, alpha):
    wrong = []
    for op in _body_operations(app, client):
        if op.access is None:
            continue
        response = client.open(op.url, method=op.method, json=INVALID_BODY)
        body = response.get_json() or {}
        if response.status_code != 401 or "errors" in body:
            wrong.append(f"{op} -> {response.status_code} {body.get('errors')}")
    assert wrong == []


def test_a_resident_gets_403_not_422_on_every_body_route_residents_may_not_use(app, client, alpha):
    from saas.core.accounts.models import Role

    wrong = []
    checked = 0
    for op in _body_operations(app, client):
        if op.access is None or Role.RESIDENT in op.access.roles:
            continue
        checked += 1
        response = client.open(op.url, method=op.method, json=INVALID_BODY, headers=alpha.auth("resident"))
        body = response.get_json() or {}
        # A tenant's resident on a control-plane route is refused for the role as well.
        if response.status_code != 403 or "errors" in body:
            wrong.append(f"{op} -> {response.status_code} {body.get('errors')}")
    assert checked >= 20
    assert wrong == []


def test_staff_route_refuses_a_resident_with_403_naming_the_roles(client, alpha):
    response = client.post(f"{alpha.api}/cycles", json={"title": 5}, headers=alpha.auth("resident"))
    assert response.status_code == 403
    assert "tenant_admin" in response.get_json()["message"]


def test_a_public_body_route_still_validates_the_body(client, alpha):
    # The lottery check is public: no credential needed, so the body is what gets refused.
    response = client.post(f"{alpha.api}/cycles/1/committees/1/lottery/verify", json=INVALID_BODY)
    assert response.status_code in (404, 422), response.get_data(as_text=True)


def test_options_names_the_methods_without_a_credential(client):
    # Flask answers OPTIONS itself; no view runs, so no role is checked.
    response = client.open("/api/v1/tenants/nobody/retry", method="OPTIONS")
    assert response.status_code == 200 and "POST" in response.headers["Allow"]
