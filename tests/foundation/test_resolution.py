"""A request finds its tenant by path prefix, by <slug>.<platform domain>, or by custom domain."""

from provisioning.lifecycle import do_suspend_tenant
from saas.core.tenancy.binding import session_without_tenant


def test_path_prefix_selects_the_tenant(client, alpha):
    assert client.get("/t/alpha/api/v1/portal").get_json()["slug"] == "alpha"


def test_platform_subdomain_selects_the_tenant(client, alpha, beta):
    response = client.get("/api/v1/portal", headers={"Host": "beta.chamyeo.test"})
    assert response.status_code == 200
    assert response.get_json()["slug"] == "beta"


def test_custom_domain_selects_the_tenant(client, alpha):
    response = client.get("/api/v1/pages/notice", headers={"Host": "pb.alpha.example.kr:443"})
    assert response.status_code == 200
    assert response.get_json()["body_en"] == "Notice by Kim of Alpha"


def test_unknown_tenant_is_404_json(client):
    for path, host in [("/t/nowhere/api/v1/portal", "localhost"), ("/api/v1/portal", "nowhere.chamyeo.test")]:
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 404
        assert response.is_json and "nowhere" in response.get_json()["message"]


def test_invalid_slug_in_path_or_host_is_404(client):
    assert client.get("/t/Bad-Slug/api/v1/portal").status_code == 404
    assert client.get("/api/v1/portal", headers={"Host": "bad--x.chamyeo.test"}).status_code == 404


def test_a_tenant_host_cannot_reach_another_tenant_by_path(client, alpha, beta):
    response = client.get("/t/beta/api/v1/portal", headers={"Host": "alpha.chamyeo.test"})
    assert response.status_code == 404


def test_control_plane_is_not_reachable_under_a_tenant_host(client, alpha, ministry):
    response = client.get("/api/v1/tenants", headers={"Host": "alpha.chamyeo.test", **ministry})
    assert response.status_code == 404


def test_suspended_tenant_answers_503_with_a_message(client, engine, make_tenant):
    tenant = make_tenant()
    with session_without_tenant(engine) as session:
        do_suspend_tenant(session, tenant.slug, actor="test", reason="unpaid")
    response = client.get(f"{tenant.api}/portal")
    assert response.status_code == 503
    assert "suspended" in response.get_json()["message"]
