"""The municipal admin's invitation, redeemed through the real sign-in flow: the invited
person signs in at the new portal through the hub (national IdP: the oidc-provider peer),
accepts, and is the portal's tenant admin from then on."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from saas.core import clock
from saas.core.audit.models import AuditEvent
from saas.core.tenancy.binding import session_without_tenant, tenant_session
from tenants.people.models import Member
from tests.identity.browser import Browser
from tests.identity.test_sign_in import sign_in


def _issue(client, ministry, slug: str):
    response = client.post(f"/api/v1/tenants/{slug}/invitation", headers=ministry)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_invited_admin_signs_in_accepts_once_and_runs_the_portal(
    app, hub, federation, make_tenant, ministry, engine
):
    tenant = make_tenant(admin_email="Kim@Example.kr")
    client = app.test_client()
    invitation = _issue(client, ministry, tenant.slug)
    code = invitation["code"]
    assert (invitation["email"], invitation["role"]) == ("kim@example.kr", "tenant_admin")
    assert invitation["accept_url"] == f"/t/{tenant.slug}/api/v1/invitations/{code}/accept"
    portal = hub.portal(tenant.slug)
    accept = f"{portal}/api/v1/invitations/{code}/accept"

    # Only a digest is stored; the code is the secret.
    with tenant_session(engine, tenant.slug) as session:
        stored = session.scalar(select(Member.invitation_hash).where(Member.email == "kim@example.kr"))
    assert stored == hashlib.sha256(code.encode()).hexdigest() and code not in stored

    shown = client.get(f"/t/{tenant.slug}/api/v1/invitations/{code}").get_json()
    assert (shown["status"], shown["email"], shown["accepted_at"]) == ("pending", "kim@example.kr", None)
    assert shown["sign_in_url"].startswith(f"/t/{tenant.slug}/auth/login")
    assert client.get(f"/t/{tenant.slug}/api/v1/invitations/{code}x").status_code == 404
    assert client.post(f"/t/{tenant.slug}/api/v1/invitations/{code}/accept").status_code == 401
    # A token (not a signed-in person) cannot accept either.
    by_token = client.post(
        f"/t/{tenant.slug}/api/v1/invitations/{code}/accept", headers=tenant.auth("resident")
    )
    assert by_token.status_code == 401

    # Another person, signed in through the hub: refused, the invitation stays open.
    other = Browser()
    sign_in(other, hub, tenant.slug, "national", "resident-jung")
    refused = other.http.post(accept, timeout=10)
    assert refused.status_code == 403, refused.text[:300]
    assert "kim@example.kr" in refused.json()["message"] and "jung@example.kr" in refused.json()["message"]
    nobody = Browser()
    sign_in(nobody, hub, tenant.slug, "national", "resident-lee")  # no e-mail at all
    assert nobody.http.post(accept, timeout=10).status_code == 403

    invited = Browser()
    me = sign_in(invited, hub, tenant.slug, "national", "resident-kim")
    assert me.json()["roles"] == ["resident"]
    assert invited.http.get(f"{portal}/api/v1/members", timeout=10).status_code == 403
    accepted = invited.http.post(accept, timeout=10)
    assert accepted.status_code == 200, accepted.text[:300]
    assert accepted.json()["accepted_at"] is not None and accepted.json()["role"] == "tenant_admin"
    me = invited.http.get(f"{portal}/auth/me", timeout=10).json()
    assert "tenant_admin" in me["roles"]
    members = invited.http.get(f"{portal}/api/v1/members", timeout=10)
    assert members.status_code == 200 and "kim@example.kr" in [m["email"] for m in members.json()]

    again = invited.http.post(accept, timeout=10)
    assert again.status_code == 409 and "accepted already" in again.json()["message"]
    assert client.get(f"/t/{tenant.slug}/api/v1/invitations/{code}").get_json()["status"] == "accepted"
    reissue = client.post(f"/api/v1/tenants/{tenant.slug}/invitation", headers=ministry)
    assert reissue.status_code == 409 and "accepted" in reissue.get_json()["message"]
    with session_without_tenant(engine) as session:
        accepts = session.scalars(
            select(AuditEvent).where(
                AuditEvent.tenant_slug == tenant.slug, AuditEvent.action == "member.accept"
            )
        ).all()
    assert len(accepts) == 1 and accepts[0].actor == me["actor"]


def test_an_expired_invitation_is_refused_and_a_new_one_replaces_it(
    app, hub, federation, make_tenant, ministry, engine
):
    tenant = make_tenant(admin_email="kim@example.kr")
    client = app.test_client()
    old = _issue(client, ministry, tenant.slug)["code"]
    with tenant_session(engine, tenant.slug) as session:
        session.execute(
            update(Member)
            .where(Member.email == "kim@example.kr")
            .values(invited_at=clock.now() - timedelta(days=14, seconds=1))
        )
        session.commit()
    portal = hub.portal(tenant.slug)
    invited = Browser()
    sign_in(invited, hub, tenant.slug, "national", "resident-kim")
    expired = invited.http.post(f"{portal}/api/v1/invitations/{old}/accept", timeout=10)
    assert expired.status_code == 410, expired.text[:300]
    assert "expired" in expired.json()["message"] and "new one" in expired.json()["message"]
    assert client.get(f"/t/{tenant.slug}/api/v1/invitations/{old}").get_json()["status"] == "expired"

    fresh = _issue(client, ministry, tenant.slug)["code"]
    assert invited.http.post(f"{portal}/api/v1/invitations/{old}/accept", timeout=10).status_code == 404
    assert invited.http.post(f"{portal}/api/v1/invitations/{fresh}/accept", timeout=10).status_code == 200


def test_only_the_ministry_issues_the_admin_invitation(client, auditor, alpha, make_tenant):
    tenant = make_tenant(admin_email="admin@portal.example.kr")
    assert client.post(f"/api/v1/tenants/{tenant.slug}/invitation", headers=auditor).status_code == 403
    assert client.post(f"/api/v1/tenants/{tenant.slug}/invitation", headers=tenant.auth()).status_code == 403
    assert client.post(f"/api/v1/tenants/{tenant.slug}/invitation").status_code == 401


def test_an_invitation_without_a_named_admin_or_for_an_unknown_tenant_is_refused(
    client, ministry, make_tenant
):
    tenant = make_tenant()
    refused = client.post(f"/api/v1/tenants/{tenant.slug}/invitation", headers=ministry)
    assert refused.status_code == 409 and "admin_email" in refused.get_json()["message"]
    assert client.post("/api/v1/tenants/nobody/invitation", headers=ministry).status_code == 404
