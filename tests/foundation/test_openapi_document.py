"""The OpenAPI document tells the truth: each operation lists the 4xx it answers, keywords
are JSON Schema's own, optional bodies are optional, and validated dicts are described."""

from __future__ import annotations

import json

import pytest

from saas.core.api.openapi import KNOWN_REFUSALS
from tests.foundation.api_routes import operations


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/api/openapi.json").get_json()


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def test_every_operation_lists_its_auth_errors_and_422_for_a_body_and_no_catch_all(app, client):
    missing = []
    found = operations(app, client)
    assert len(found) >= 60
    for op in found:
        listed = set(op.operation["responses"])
        needed = {"400"}
        if op.access is not None:
            needed |= {"401", "403"}
            if not op.operation.get("security"):
                missing.append(f"{op.method} {op.path}: no security")
        if op.takes_body:
            needed |= {"413", "422"}
        if "{" in op.path:
            needed.add("404")
        if not needed <= listed or "default" in listed:
            missing.append(f"{op.method} {op.path}: {sorted(listed)} lacks {sorted(needed - listed)}")
        for status in listed - {"200", "201", "202", "204"}:
            response = op.operation["responses"][status]
            if not response.get("description") or "content" not in response:
                missing.append(f"{op.method} {op.path}: {status} has no description or error body")
    assert missing == []


def test_every_known_refusal_names_an_operation_of_the_document(document):
    documented = {(m.upper(), p) for p, item in document["paths"].items() for m in item if m != "parameters"}
    assert set(KNOWN_REFUSALS) - documented == set()
    for (method, path), refusals in KNOWN_REFUSALS.items():
        for status in refusals:
            assert str(status) in document["paths"][path][method.lower()]["responses"]


def test_voting_refusals_are_documented(document):
    votes = document["paths"]["/t/{slug}/api/v1/cycles/{cycle_id}/votes"]["post"]["responses"]
    assert "assurance" in votes["403"]["description"] and "voted already" in votes["409"]["description"]
    for path in (
        "/t/{slug}/api/v1/cycles/{cycle_id}/paper-batches",
        "/t/{slug}/api/v1/cycles/{cycle_id}/paper-batches/{batch_id}/reconcile",
    ):
        assert "counted" in document["paths"][path]["post"]["responses"]["409"]["description"]
    entries = document["paths"][
        "/t/{slug}/api/v1/cycles/{cycle_id}/paper-batches/{batch_id}/entries/{round_}"
    ]["put"]["responses"]
    assert "names no person" in entries["403"]["description"]
    assert "same person" in entries["409"]["description"]


def test_keywords_are_json_schemas_own(document):
    wrong = []
    for path, node in _walk(document):
        if node.get("format") == "url":
            wrong.append(f"{path}: format url")
        if node.get("type") == "object" and ({"minLength", "maxLength"} & node.keys()):
            wrong.append(f"{path}: length on an object")
        if {"x-minimum", "x-maximum"} & node.keys():
            wrong.append(f"{path}: x-minimum/x-maximum")
    assert wrong == []
    schemas = document["components"]["schemas"]
    assert schemas["PlanningRatings"]["properties"]["ratings"]["minProperties"] == 1
    assert schemas["ProviderCreate"]["properties"]["role_mapping"]["maxProperties"] == 50
    assert schemas["ProviderCreate"]["properties"]["issuer"]["format"] == "uri"
    scopes = schemas["ProviderCreate"]["properties"]["scopes"]
    assert "openid" in scopes["description"] and "openid" in scopes["pattern"]
    term = schemas["CommitteeCreate"]["properties"]["term_starts_on"]
    assert term["pattern"] == "^(?:20[0-9]{2}|2100)-"


def test_the_ballot_rules_are_described_with_the_schema_the_service_applies(document):
    schemas = document["components"]["schemas"]
    ballot = schemas["BallotRules"]["properties"]["ballot"]
    assert ballot["allOf"] == [{"$ref": "#/components/schemas/TemplateBallot"}]
    template = schemas["TemplateBallot"]
    assert template["additionalProperties"] is False
    assert {"type", "counting", "tie_break"} <= set(template["required"])


OPTIONAL_BODIES = [
    ("post", "/api/v1/tenants/{slug}/suspend"),
    ("post", "/api/v1/tenants/{slug}/resume"),
    ("post", "/t/{slug}/api/v1/cycles/{cycle_id}/committees/{committee_id}/lottery"),
    ("post", "/t/{slug}/api/v1/cycles/{cycle_id}/committees/{committee_id}/lottery/verify"),
]


@pytest.mark.parametrize("method, path", OPTIONAL_BODIES)
def test_bodies_the_server_treats_as_optional_are_documented_optional(document, method, path):
    assert document["paths"][path][method]["requestBody"]["required"] is False


def test_bodies_with_a_required_field_stay_required(document):
    body = document["paths"]["/t/{slug}/api/v1/cycles"]["post"]["requestBody"]
    assert body["required"] is True


def test_suspend_and_resume_without_a_body_work(client, make_tenant, ministry):
    tenant = make_tenant()
    for action, status in (("suspend", "suspended"), ("resume", "active")):
        response = client.post(f"/api/v1/tenants/{tenant.slug}/{action}", headers=ministry)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["status"] == status


def test_the_document_is_json_all_the_way(document):
    json.dumps(document)  # no object apispec left unresolved
