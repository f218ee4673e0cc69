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
    _error(client.delete(f"{alpha.api}/portal"), 405)


def test_duplicate_invitation_is_409(client, alpha):
    member = {"email": "Kim@Example.kr", "display_name": "Kim", "role": "staff"}
    _error(client.post(f"{alpha.api}/members", json=member, headers=alpha.auth()), 409)


def test_invalid_query_parameter_is_422(client, ministry):
    _error(client.get("/api/v1/tenants?status=sleeping", headers=ministry), 422)


def test_a_valid_write_succeeds_and_is_audited(client, engine, make_tenant):
    from sqlalchemy import select

    from saas.audit.models import AuditEvent
    from saas.tenancy.binding import session_without_tenant

    tenant = make_tenant()
    response = client.put(f"{tenant.api}/pages/guide", json=PAGE, headers=tenant.auth("staff"))
    assert response.status_code == 200 and response.get_json()["title_en"] == "Guide"
    with session_without_tenant(engine) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.tenant_slug == tenant.slug)
        ).all()
    assert "page.create" in actions
