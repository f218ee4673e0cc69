"""The control-plane API of the tenant lifecycle, end to end through the queue."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from provisioning.steps import STEP_NAMES
from saas.core.audit.models import AuditEvent

_regions = {}


@pytest.fixture(autouse=True)
def _free_regions(free_region):
    """Each portal created here is another municipality's (one municipality, one portal)."""
    _regions["pick"] = free_region


def _create(client, ministry, slug: str, **extra):
    body = {"slug": slug, "region": _regions["pick"](), "template": "neighbourhood", **extra}
    return client.post("/api/v1/tenants", json=body, headers=ministry)


def test_create_answers_202_with_a_job_that_provisions_the_portal(
    client, ministry, run_queued_jobs, new_slug
):
    slug = new_slug()
    response = _create(client, ministry, slug, admin_email="Admin@Gangnam.go.kr")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["tenant"]["status"] == "provisioning"
    job_url = body["job"]["url"]
    assert job_url == f"/api/v1/jobs/{body['tenant']['job_id']}"
    assert client.get(job_url, headers=ministry).get_json()["status"] == "queued"

    assert run_queued_jobs() >= 1

    job = client.get(job_url, headers=ministry).get_json()
    assert (job["status"], job["result"]["status"], job["tenant"]["status"]) == (
        "finished",
        "active",
        "active",
    )
    shown = client.get(f"/api/v1/tenants/{slug}", headers=ministry).get_json()
    assert [s["status"] for s in shown["steps"]] == ["done"] * len(STEP_NAMES)
    assert shown["job"] is None
    assert any(url.endswith(f"/t/{slug}/api/v1/portal") for url in shown["urls"])
    assert client.get(f"/t/{slug}/api/v1/portal").status_code == 200


def test_bad_requests_are_json_4xx(client, ministry, alpha, new_slug):
    cases = [
        (_create(client, ministry, "Bad-Slug"), 422),
        (_create(client, ministry, "admin"), 422),  # reserved
        (_create(client, ministry, new_slug(), region="99999"), 422),
        (_create(client, ministry, new_slug(), template="nope"), 422),
        (_create(client, ministry, "alpha"), 409),
        (_create(client, ministry, new_slug(), domains=["pb.alpha.example.kr"]), 409),
        (client.get("/api/v1/tenants/nobody", headers=ministry), 404),
        (client.post("/api/v1/tenants/nobody/suspend", json={}, headers=ministry), 404),
        (client.get("/api/v1/templates/nope", headers=ministry), 404),
        (client.get("/api/v1/jobs/provision-nope", headers=ministry), 404),
        (client.get("/api/v1/jobs/%C2%84~", headers=ministry), 404),
        (client.post("/api/v1/tenants/alpha/retry", headers=ministry), 409),  # active: nothing to retry
    ]
    for response, status in cases:
        assert response.status_code == status, response.get_json()
        assert response.is_json and response.get_json()["message"]


def test_auditors_read_but_cannot_change_anything(client, auditor, alpha):
    assert client.get("/api/v1/tenants/alpha", headers=auditor).status_code == 200
    assert client.get("/api/v1/templates", headers=auditor).status_code == 200
    assert client.post("/api/v1/tenants/alpha/suspend", json={}, headers=auditor).status_code == 403
    assert client.post("/api/v1/tenants", json={}, headers=auditor).status_code == 403
    assert (
        client.delete("/api/v1/tenants/alpha", json={"confirm": "alpha"}, headers=auditor).status_code == 403
    )
    assert client.get("/api/v1/tenants/alpha/export", headers=auditor).status_code == 403
    assert client.get("/api/v1/tenants").status_code == 401


def test_suspend_resume_and_delete_with_confirmation(client, ministry, make_tenant, engine, new_slug):
    slug = make_tenant(new_slug()).slug
    suspended = client.post(f"/api/v1/tenants/{slug}/suspend", json={"reason": "audit"}, headers=ministry)
    assert suspended.get_json()["status"] == "suspended"
    assert client.get(f"/t/{slug}/api/v1/portal").status_code == 503
    assert (
        client.post(f"/api/v1/tenants/{slug}/resume", json={}, headers=ministry).get_json()["status"]
        == "active"
    )
    assert client.get(f"/t/{slug}/api/v1/portal").status_code == 200

    refused = client.delete(f"/api/v1/tenants/{slug}", json={"confirm": "wrong"}, headers=ministry)
    assert refused.status_code == 422
    assert (
        client.delete(f"/api/v1/tenants/{slug}", json={"confirm": slug}, headers=ministry).status_code == 204
    )
    assert client.get(f"/api/v1/tenants/{slug}", headers=ministry).status_code == 404
    assert client.get(f"/t/{slug}/api/v1/portal").status_code == 404
    with engine.connect() as connection:
        actions = list(
            connection.scalars(
                select(AuditEvent.action).where(AuditEvent.tenant_slug == slug).order_by(AuditEvent.id)
            )
        )
        assert connection.scalar(select(func.to_regnamespace(f"t_{slug}"))) is None
    assert actions[-3:] == ["tenant.suspend", "tenant.resume", "tenant.delete"]


def test_a_failed_tenant_is_retried_through_the_api(
    client, ministry, engine, run_queued_jobs, new_slug, monkeypatch
):
    import provisioning.steps as steps

    slug = new_slug()
    original = dict(steps.STEPS)

    def broken(ctx, session):
        raise RuntimeError("mail relay down")

    monkeypatch.setattr(
        steps, "STEPS", tuple((n, broken if n == "invite_admin" else f) for n, f in original.items())
    )
    import provisioning.runner as runner

    monkeypatch.setattr(runner, "STEPS", steps.STEPS)
    _create(client, ministry, slug)
    run_queued_jobs()
    failed = client.get(f"/api/v1/tenants/{slug}", headers=ministry).get_json()
    assert (failed["tenant"]["status"], failed["tenant"]["current_step"]) == ("failed", "invite_admin")
    assert "mail relay down" in failed["tenant"]["last_error"]

    monkeypatch.setattr(runner, "STEPS", tuple(original.items()))
    assert client.post(f"/api/v1/tenants/{slug}/retry", headers=ministry).status_code == 202
    run_queued_jobs()
    shown = client.get(f"/api/v1/tenants/{slug}", headers=ministry).get_json()
    assert shown["tenant"]["status"] == "active"
    attempts = {s["step"]: s["attempts"] for s in shown["steps"]}
    assert attempts == {**dict.fromkeys(STEP_NAMES, 1), "invite_admin": 2}


def test_templates_are_listed_and_shown(client, ministry):
    listed = client.get("/api/v1/templates", headers=ministry).get_json()
    assert {"neighbourhood", "citywide", "youth"} <= {t["name"] for t in listed}
    shown = client.get("/api/v1/templates/youth?version=1", headers=ministry).get_json()
    assert (shown["name"], shown["version"]) == ("youth", 1)
    assert shown["data"]["phases"]
    assert client.get("/api/v1/templates/youth?version=99", headers=ministry).status_code == 404


def test_template_upgrade_is_previewed_then_applied(client, ministry, make_tenant, engine, new_slug, request):
    from saas.core.tenancy.binding import tenant_session
    from tenants.portal.models import Category, PhasePlan, PortalSetting

    slug = make_tenant(new_slug()).slug  # at neighbourhood@1
    newer = request.getfixturevalue("catalog_with_newer_neighbourhood")
    diff = client.get(f"/api/v1/tenants/{slug}/template-diff", headers=ministry).get_json()
    assert (diff["from_version"], diff["to_version"]) == (1, 2)
    paths = {c["path"]: c["op"] for c in diff["changes"]}
    assert paths["categories[climate]"] == "added"
    assert paths["pages[climate_notice]"] == "added"

    applied = client.post(f"/api/v1/tenants/{slug}/template-upgrade", json={}, headers=ministry)
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["added"]["categories"] == 1
    again = client.post(f"/api/v1/tenants/{slug}/template-upgrade", json={"version": 2}, headers=ministry)
    assert again.status_code == 409
    with tenant_session(engine, slug) as session:
        assert session.scalar(select(Category.id).where(Category.key == "climate")) is not None
        setting = session.get(PortalSetting, "template")
        first_phase = session.scalar(select(PhasePlan).order_by(PhasePlan.position))
    assert setting.value == {"name": "neighbourhood", "version": 2}
    # Existing phases are kept as the municipality has them; only the recorded template moves.
    assert first_phase.default_days == newer["phases"][0]["days"] - 7
    shown = client.get(f"/api/v1/tenants/{slug}", headers=ministry).get_json()
    assert shown["tenant"]["template_version"] == 2


def test_export_download_and_import_upload(client, ministry, make_tenant, engine, new_slug):
    from provisioning.archive import tenant_fingerprint

    slug = make_tenant(new_slug(), admin_email="a@b.kr").slug
    before = tenant_fingerprint(engine, slug)
    download = client.get(f"/api/v1/tenants/{slug}/export", headers=ministry)
    assert download.status_code == 200 and download.mimetype == "application/gzip"
    data = download.data
    download.close()  # closes the spooled export behind send_file
    assert (
        client.delete(f"/api/v1/tenants/{slug}", json={"confirm": slug}, headers=ministry).status_code == 204
    )
    upload = client.post(
        "/api/v1/tenants/import",
        data={"file": (io.BytesIO(data), f"{slug}.tar.gz")},
        headers=ministry,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    assert upload.get_json()["tenant"]["status"] == "active"
    assert tenant_fingerprint(engine, slug) == before
    again = client.post(
        "/api/v1/tenants/import",
        data={"file": (io.BytesIO(data), "x.tar.gz")},
        headers=ministry,
        content_type="multipart/form-data",
    )
    assert again.status_code == 409
    junk = client.post(
        "/api/v1/tenants/import",
        data={"file": (io.BytesIO(b"not an export"), "x.tar.gz")},
        headers=ministry,
        content_type="multipart/form-data",
    )
    assert junk.status_code == 422
