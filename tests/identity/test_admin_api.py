"""The administration API: the ministry registers the national IdP and approves a
municipality's; the municipality's admin registers its own and tests it. Secrets never
come back out, and another tenant's IdP is as absent as a missing one."""

from __future__ import annotations

import itertools

from sqlalchemy import select

_keys = itertools.count(1)
SECRET = "never-shown-s3cret"


def _body(**changes):
    n = next(_keys)
    body = {
        "key": f"api-idp-{n}",
        "display_name": "시 직원 디렉터리",
        "issuer": f"https://idp{n}.city.example.kr",
        "client_id": "chamyeo-hub",
        "client_secret": SECRET,
        "role_claim": "roles",
    }
    body.update(changes)
    return body


def test_the_ministry_registers_a_national_idp_and_its_secret_is_never_shown(
    client, ministry, engine, settings
):
    from saas.control.identity.models import IdentityProvider
    from saas.control.identity.sealing import SecretBox
    from saas.core.tenancy.binding import session_without_tenant

    body = _body(role_mapping={"minister": "ministry_admin"})
    created = client.post("/api/v1/identity-providers", json=body, headers=ministry)
    assert created.status_code == 201, created.json
    assert created.json["status"] == "approved" and created.json["tenant"] is None
    assert created.json["callback_url"].endswith(f"/identity/callback/{body['key']}")
    listed = client.get("/api/v1/identity-providers", headers=ministry)
    shown = client.get(f"/api/v1/identity-providers/{body['key']}", headers=ministry)
    for response in (created, listed, shown):
        assert SECRET not in response.get_data(as_text=True)
        assert "client_secret" not in response.get_data(as_text=True)
    with session_without_tenant(engine) as session:
        row = session.scalar(select(IdentityProvider).where(IdentityProvider.key == body["key"]))
        assert SECRET not in row.client_secret_encrypted
        assert SecretBox(settings).open(row.client_secret_encrypted) == SECRET

    again = client.post("/api/v1/identity-providers", json={**body, "key": "api-idp-dup"}, headers=ministry)
    assert again.status_code == 409, "the same issuer twice"
    tenant_role = client.post(
        "/api/v1/identity-providers", json=_body(role_mapping={"x": "staff"}), headers=ministry
    )
    assert tenant_role.status_code == 422, "the national IdP grants no tenant roles"


def test_a_tenant_admin_registers_its_idp_pending_until_the_ministry_approves(client, ministry, alpha, beta):
    body = _body(role_mapping={"pb-staff": "staff"})
    created = client.post(f"{alpha.api}/identity-providers", json=body, headers=alpha.auth())
    assert created.status_code == 201, created.json
    assert created.json["status"] == "pending" and created.json["tenant"] == "alpha"
    assert SECRET not in created.get_data(as_text=True)

    listed = client.get(f"{alpha.api}/identity-providers", headers=alpha.auth()).json
    assert body["key"] in [p["key"] for p in listed]
    assert body["key"] not in [
        p["key"] for p in client.get(f"{beta.api}/identity-providers", headers=beta.auth()).json
    ]
    # Another tenant's admin: the same 404 as for a key that does not exist.
    assert client.get(f"{beta.api}/identity-providers/{body['key']}", headers=beta.auth()).status_code == 404
    assert (
        client.post(f"{beta.api}/identity-providers/{body['key']}/test", headers=beta.auth()).status_code
        == 404
    )
    # Only the tenant admin, and never the ministry's endpoints.
    assert client.get(f"{alpha.api}/identity-providers", headers=alpha.auth("staff")).status_code == 403
    assert client.get("/api/v1/identity-providers", headers=alpha.auth()).status_code == 403
    assert (
        client.post(f"/api/v1/identity-providers/{body['key']}/approve", headers=alpha.auth()).status_code
        == 403
    )

    approved = client.post(f"/api/v1/identity-providers/{body['key']}/approve", headers=ministry)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert client.post("/api/v1/identity-providers/no-such-idp/approve", headers=ministry).status_code == 404


def test_a_municipality_cannot_grant_ministry_roles_or_register_bad_input(client, alpha):
    refused = client.post(
        f"{alpha.api}/identity-providers",
        json=_body(role_mapping={"boss": "ministry_admin"}),
        headers=alpha.auth(),
    )
    assert refused.status_code == 422 and "only the ministry" in refused.json["message"]
    for bad in (
        {"key": "Bad Key"},
        {"issuer": "not a url"},
        {"scopes": "email profile"},
        {"role_mapping": {"x": "emperor"}},
        {"client_secret": ""},
    ):
        response = client.post(f"{alpha.api}/identity-providers", json=_body(**bad), headers=alpha.auth())
        assert response.status_code == 422, (bad, response.json)


def test_testing_an_idp_reads_its_discovery_document_or_says_why_not(client, ministry, alpha, federation):
    report = client.post("/api/v1/identity-providers/national/test", headers=ministry)
    assert report.status_code == 200, report.json
    assert report.json["issuer"] == federation["national"].issuer and report.json["iss_parameter"] is True

    own = client.post(f"{alpha.api}/identity-providers/alpha-city/test", headers=alpha.auth())
    assert own.status_code == 200 and own.json["issuer"] == federation["alpha-city"].issuer

    unreachable = _body(issuer="http://127.0.0.1:9/nothing-here")
    assert (
        client.post(f"{alpha.api}/identity-providers", json=unreachable, headers=alpha.auth()).status_code
        == 201
    )
    probe = client.post(f"{alpha.api}/identity-providers/{unreachable['key']}/test", headers=alpha.auth())
    assert probe.status_code == 422 and "not usable" in probe.json["message"]


def test_testing_an_idp_is_rate_limited_per_idp_and_per_caller(client, ministry, make_tenant):
    from saas.control.identity.federation import probe_limit

    city = make_tenant()
    keys = []
    for n in range(probe_limit.PER_CALLER // probe_limit.PER_IDP + 1):
        body = _body(issuer=f"http://127.0.0.1:9/nothing-{city.slug}-{n}")
        created = client.post(f"{city.api}/identity-providers", json=body, headers=city.auth())
        assert created.status_code == 201, created.json
        keys.append(body["key"])

    def probe(key, headers=None, prefix=None):
        url = f"{prefix or city.api}/identity-providers/{key}/test"
        return client.post(url, headers=headers or city.auth())

    for _ in range(probe_limit.PER_IDP):
        assert probe(keys[0]).status_code == 422  # the IdP is not usable: tested, though
    refused = probe(keys[0])
    assert refused.status_code == 429, refused.json
    assert refused.json["code"] == 429 and "Try again in" in refused.json["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= probe_limit.WINDOW_SECONDS
    # The limit is the IdP's: another caller (the ministry) testing it is refused too.
    assert probe(keys[0], ministry, "/api/v1").status_code == 429

    # Per caller: across IdPs, at most PER_CALLER tests (the refused ones count as tries).
    tried = probe_limit.PER_IDP + 1
    statuses = []
    for key in keys[1:]:
        for _ in range(probe_limit.PER_IDP):
            statuses.append(probe(key).status_code)
    allowed = probe_limit.PER_CALLER - tried
    assert statuses[:allowed] == [422] * allowed and set(statuses[allowed:]) == {429}
