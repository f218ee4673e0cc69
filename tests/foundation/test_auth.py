"""Bearer tokens: hashed at rest, bound to a role and (for tenant roles) to one tenant."""

import hashlib

from sqlalchemy import select

from saas.core.accounts.models import ApiToken, Role
from saas.core.accounts.tokens import revoke_token
from saas.core.tenancy.binding import session_without_tenant


def test_tokens_are_stored_only_as_their_hash(engine, alpha):
    secret = alpha.tokens["tenant_admin"]
    with session_without_tenant(engine) as session:
        stored = session.scalars(select(ApiToken.secret_hash)).all()
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    assert all(secret not in value for value in stored)


def test_protected_route_without_token_is_401(client, alpha):
    response = client.get(f"{alpha.api}/members")
    assert response.status_code == 401 and "Bearer" in response.get_json()["message"]


def test_unknown_or_malformed_token_is_401(client, alpha):
    for header in ["Bearer chy_nope", "Basic abc", "Bearer "]:
        response = client.get(f"{alpha.api}/members", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_a_role_without_the_right_is_403(client, alpha):
    response = client.get(f"{alpha.api}/members", headers=alpha.auth("resident"))
    assert response.status_code == 403


def test_tenant_admin_reads_own_members(client, alpha):
    response = client.get(f"{alpha.api}/members", headers=alpha.auth())
    assert response.status_code == 200
    assert [m["display_name"] for m in response.get_json() if m["email"] == "kim@example.kr"] == [
        "Kim of Alpha"
    ]


def test_platform_roles_have_no_tenant_role(client, alpha, ministry):
    assert client.get(f"{alpha.api}/members", headers=ministry).status_code == 403


def test_tenant_tokens_cannot_use_the_control_plane(client, alpha):
    assert client.get("/api/v1/tenants", headers=alpha.auth()).status_code == 403


def test_revoked_token_is_refused(client, engine, make_tenant):
    tenant = make_tenant()
    with session_without_tenant(engine) as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == f"{tenant.slug} tenant_admin"))
        assert revoke_token(session, token_id, actor="test")
    assert client.get(f"{tenant.api}/members", headers=tenant.auth()).status_code == 401


def test_a_request_that_works_in_its_session_holds_one_connection(app, alpha):
    """The token lookup's connection goes back to the pool when the session opens."""
    from saas.core.auth import current_principal
    from saas.core.extensions import db
    from saas.core.tenancy.context import close_request_session, db_session, enter_tenant

    with app.test_request_context(f"{alpha.api}/cycles", headers=alpha.auth("staff")):
        enter_tenant(alpha.slug)
        held = db.engine.pool.checkedout()
        assert current_principal().roles == {Role.STAFF}
        db_session().connection()
        assert db.engine.pool.checkedout() == held + 1
        close_request_session()
        assert db.engine.pool.checkedout() == held
