"""What a newcomer reads first: the 404 for a portal that is not theirs, the docs page."""


def test_an_unknown_tenant_is_named_with_both_quotes(client, ministry):
    response = client.get("/api/v1/tenants/nowhere", headers=ministry)
    assert response.status_code == 404
    assert response.get_json()["message"] == "There is no tenant 'nowhere'."


def test_another_tenants_credential_meets_the_same_truthful_404_as_an_unknown_portal(client, alpha, beta):
    foreign = client.get("/t/beta/api/v1/members", headers=alpha.auth())
    unknown = client.get("/t/nowhere/api/v1/members", headers=alpha.auth())
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.get_json()["message"] == "No portal named 'beta' is open to this request."
    assert unknown.get_json()["message"] == "No portal named 'nowhere' is open to this request."
    assert "There is no portal" not in foreign.get_json()["message"]


def test_the_docs_show_the_bearer_placeholder_as_code(client):
    description = client.get("/api/openapi.json").get_json()["info"]["description"]
    # Swagger UI renders this as Markdown: <token> outside a code span is swallowed as HTML.
    assert "`Authorization: Bearer <token>`" in description
    outside_code = "".join(description.split("`")[::2])
    assert "<" not in outside_code
