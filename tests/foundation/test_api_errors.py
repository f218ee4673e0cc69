"""Bad input gets a clear JSON 4xx, never a 500."""

import pytest


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == status and body["message"]
    return body


PAGE = {"title_ko": "안내", "title_en": "Guide", "body_ko": "본문", "body_en": "Body"}


def test_malformed_json_is_400(client, alpha):
    response = client.put(
        f"{alpha.api}/pages/guide",
        data="{not json",
        headers={**alpha.auth(), "Content-Type": "application/json"},
    )
    _error(response, 400)


def test_unknown_field_is_422_naming_it(client, alpha):
    body = _error(
        client.put(f"{alpha.api}/pages/guide", json={**PAGE, "colour": "red"}, headers=alpha.auth()), 422
    )
    assert "colour" in str(body["errors"])


def test_wrong_type_and_missing_field_are_422(client, alpha):
    body = _error(
        client.put(f"{alpha.api}/pages/guide", json={**PAGE, "title_ko": 5}, headers=alpha.auth()), 422
    )
    assert "title_ko" in str(body["errors"])
    body = _error(client.put(f"{alpha.api}/pages/guide", json={"title_ko": "x"}, headers=alpha.auth()), 422)
    assert "body_en" in str(body["errors"])


def test_oversize_body_is_413(client, alpha):
    big = {**PAGE, "body_ko": "가" * 1_100_000}
    _error(client.put(f"{alpha.api}/pages/guide", json=big, headers=alpha.auth()), 413)


@pytest.mark.parametrize("path", ["/nowhere", "/api/v1/nothing", "/t/alpha/api/v1/nothing"])
def test_unknown_routes_are_404_json(client, alpha, path):
    _error(client.get(path), 404)


def test_wrong_method_is_405_json(client, alpha):
    response = client.delete(f"{alpha.api}/portal")
    _error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_duplicate_invitation_is_409(client, alpha):
    member = {"email": "Kim@Example.kr", "display_name": "Kim", "role": "staff"}
    _error(client.post(f"{alpha.api}/members", json=member, headers=alpha.auth()), 409)


def test_invalid_query_parameter_is_422(client, ministry):
    _error(client.get("/api/v1/tenants?status=sleeping", headers=ministry), 422)


def test_a_valid_write_succeeds_and_is_audited(client, engine, make_tenant):
    from sqlalchemy import select

    from saas.core.audit.models import AuditEvent
    from saas.core.tenancy.binding import session_without_tenant

    tenant = make_tenant()
    response = client.put(f"{tenant.api}/pages/guide", json=PAGE, headers=tenant.auth("staff"))
    assert response.status_code == 200 and response.get_json()["title_en"] == "Guide"
    with session_without_tenant(engine) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.tenant_slug == tenant.slug)
        ).all()
    assert "page.create" in actions


ALL_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_every_405_carries_an_allow_header_naming_the_methods(app, client, alpha):
    from tests.foundation.test_isolation_walk import _fill

    missing = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "slug" in rule.arguments and not rule.rule.startswith("/t/"):
            continue  # a control-plane slug; filled below like any string
        url = _fill(app, rule, "alpha") if rule.rule.startswith("/t/") else None
        if url is None:
            try:
                url = adapter.build(
                    rule.endpoint,
                    {a: 1 if "id" in a else "notice" for a in rule.arguments},
                    method=next(iter(rule.methods - {"HEAD", "OPTIONS"}), None),
                )
            except Exception:  # noqa: BLE001, S112 - rules whose converters refuse our values
                continue
        allowed = set()
        for method in sorted(ALL_METHODS):
            try:
                adapter.match(url, method=method)
                allowed.add(method)
            except Exception:  # noqa: BLE001, S110 - no match for this method
                pass
        for method in sorted(ALL_METHODS - allowed):
            response = client.open(url, method=method, headers=alpha.auth())
            if response.status_code != 405:
                continue
            header = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
            if not allowed <= header or response.get_json()["code"] != 405:
                missing.append(f"{method} {url}: Allow={response.headers.get('Allow')!r}")
    assert missing == []


@pytest.mark.parametrize("value", [0, 1, "true", "yes", [], {}])
def test_a_boolean_field_takes_only_true_or_false(client, ministry, value):
    body = {
        "code": "boolcheck",
        "name": "x",
        "fiscal_year": 2030,
        "budget": 1,
        "tiers": [{"tier": "low", "rate_bp": 1, "min_pct": 0, "max_pct": 100}],
        "eligibility": {"basic_local_gov_only": value},
    }
    errors = _error(client.post("/api/v1/billing/programs", json=body, headers=ministry), 422)["errors"]
    assert "basic_local_gov_only" in str(errors)


def test_a_control_plane_word_is_no_tenant_slug_in_a_url(client, ministry):
    # /api/v1/tenants/import is the import, not a tenant named "import": OPTIONS and 405
    # advertise its own method only.
    response = client.open("/api/v1/tenants/import", method="OPTIONS", headers=ministry)
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    response = client.get("/api/v1/tenants/import", headers=ministry)
    assert response.status_code == 405 and response.headers["Allow"] == "OPTIONS, POST"
