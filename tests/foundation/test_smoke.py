def test_health_reports_database_and_queue_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_fixture_tenants_serve_their_own_portal(client, alpha, beta):
    a = client.get(f"{alpha.api}/portal").get_json()
    b = client.get(f"{beta.api}/portal").get_json()
    assert (a["slug"], a["name"]) == ("alpha", "서울특별시 강남구")
    assert (b["slug"], b["name"]) == ("beta", "경기도 성남시")
