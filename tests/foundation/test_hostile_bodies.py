"""Hostile JSON bodies get the API's JSON 4xx on every body-carrying route, from the one
layer that reads every body (saas/core/api/bodies.py): nesting thousands of levels deep and lone
surrogates answer 400, NUL characters 422, on the control plane as on the portals."""

from __future__ import annotations

import pytest

from saas.core.api.bodies import MAX_JSON_DEPTH, HostileBody, load_json_body
from tests.foundation.api_routes import credential_for, operations

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
SURROGATE = '{"title_ko": "\\ud800", "reason": "\\udfff x"}'
NUL = '{"reason": "a\\u0000b", "title_ko": "a\\u0000b"}'


def _send(client, op, raw, headers):
    return client.open(
        op.url, method=op.method, data=raw, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize(
    "raw, status",
    [(DEEP, 400), (DEEP_OBJECT, 400), (SURROGATE, 400), (NUL, 422)],
    ids=["deep-array", "deep-object", "lone-surrogate", "nul"],
)
def test_every_body_route_refuses_hostile_json_with_a_json_4xx(
    app, client, alpha, platform_tokens, raw, status
):
    wrong = []
    body_operations = [op for op in operations(app, client) if op.takes_body]
    assert len(body_operations) >= 30
    for op in body_operations:
        response = _send(client, op, raw, credential_for(op, alpha, platform_tokens))
        body = response.get_json(silent=True) or {}
        if response.status_code != status or body.get("code") != status or not body.get("message"):
            wrong.append(f"{op} -> {response.status_code} {response.get_data(as_text=True)[:120]}")
    assert wrong == []


@pytest.mark.parametrize("raw", [DEEP, SURROGATE, NUL], ids=["deep", "lone-surrogate", "nul"])
def test_without_a_credential_hostile_json_never_reaches_a_5xx(app, client, alpha, raw):
    wrong = []
    for op in operations(app, client):
        if op.method in ("POST", "PUT", "PATCH", "DELETE"):
            response = _send(client, op, raw, {})
            if response.status_code >= 500 or not (response.get_json(silent=True) or {}).get("message"):
                wrong.append(f"{op} -> {response.status_code}")
    assert wrong == []


def test_the_message_says_what_was_wrong(client, alpha):
    response = client.put(
        f"{alpha.api}/pages/guide", data=DEEP, headers={**alpha.auth(), "Content-Type": "application/json"}
    )
    assert f"deeper than {MAX_JSON_DEPTH}" in response.get_json()["message"]
    response = client.put(
        f"{alpha.api}/pages/guide",
        data=SURROGATE,
        headers={**alpha.auth(), "Content-Type": "application/json"},
    )
    assert "surrogate" in response.get_json()["message"]


def test_nul_in_the_reason_of_a_suspension_is_422_not_a_failed_audit_insert(client, make_tenant, ministry):
    tenant = make_tenant()
    for action in ("suspend", "resume"):
        response = client.post(
            f"/api/v1/tenants/{tenant.slug}/{action}", json={"reason": "a\x00b"}, headers=ministry
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        assert "NUL" in response.get_json()["message"]


def test_depth_up_to_the_limit_is_accepted_and_one_more_level_is_not():
    assert load_json_body("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(HostileBody):
        load_json_body("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


def test_a_surrogate_pair_is_a_character_and_passes():
    assert load_json_body('{"emoji": "\\ud83d\\ude00"}') == {"emoji": "\U0001f600"}
    with pytest.raises(HostileBody):
        load_json_body('{"\\ud800": 1}')  # in a key too


@pytest.mark.parametrize(
    "raw",
    ['{"budget": ' + "9" * 5000 + "}", '{"budget": NaN}', '{"budget": Infinity}', '{"budget": 1e400}'],
    ids=["5000 digits", "NaN", "Infinity", "overflowing float"],
)
def test_numbers_json_does_not_have_or_python_cannot_read_are_400(client, alpha, raw):
    response = client.post(
        f"{alpha.api}/cycles", data=raw, headers={**alpha.auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["message"]
