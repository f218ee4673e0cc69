"""One municipality, one portal; custom domains outside the platform's own, each one tenant's."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, select, text

from provisioning.errors import TenantConflict
from provisioning.lifecycle import do_register_tenant
from provisioning.runner import run_provisioning
from saas.core.audit.models import AuditEvent
from saas.core.registry.models import Tenant, TenantStatus
from saas.core.tenancy.binding import session_without_tenant

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
)
PLATFORM_VARIANTS = (
    "chamyeo.test",
    "CHAMYEO.TEST",
    "chamyeo.test.",
    "x.chamyeo.test",
    "Deep.X.Chamyeo.Test.",
)


def _create(client, ministry, slug: str, region: str, **extra):
    body = {"slug": slug, "region": region, "template": "neighbourhood", **extra}
    return client.post("/api/v1/tenants", json=body, headers=ministry)


@pytest.mark.parametrize("domain", PLATFORM_VARIANTS)
def test_a_domain_equal_to_or_under_the_platform_domain_is_refused_at_creation(
    client, ministry, free_region, new_slug, domain
):
    slug = new_slug("dom")
    response = _create(client, ministry, slug, free_region(), domains=["pb.example.kr", domain])
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert "domains" in body["errors"] and "platform" in body["message"]
    assert client.get(f"/api/v1/tenants/{slug}", headers=ministry).status_code == 404


def test_a_portals_domains_are_edited_by_the_ministry_only_and_audited(
    client, ministry, auditor, alpha, make_tenant, engine
):
    tenant = make_tenant()
    url = f"/api/v1/tenants/{tenant.slug}/domains"
    assert client.put(url, json={"domains": ["pb.new.example.kr"]}, headers=auditor).status_code == 403
    assert client.put(url, json={"domains": ["pb.new.example.kr"]}).status_code == 401
    for domain in PLATFORM_VARIANTS:
        refused = client.put(url, json={"domains": [domain]}, headers=ministry)
        assert refused.status_code == 422 and "domains" in refused.get_json()["errors"], domain
    taken = client.put(url, json={"domains": ["PB.Alpha.Example.KR."]}, headers=ministry)
    assert taken.status_code == 409 and "'alpha'" in taken.get_json()["message"]
    assert client.put(url, json={"domains": "x"}, headers=ministry).status_code == 422
    assert (
        client.put("/api/v1/tenants/nobody/domains", json={"domains": []}, headers=ministry).status_code
        == 404
    )

    changed = client.put(url, json={"domains": ["PB.New.Example.KR.", "pb.new.example.kr"]}, headers=ministry)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["domains"] == ["pb.new.example.kr"]
    served = client.get("/api/v1/portal", headers={"Host": "pb.new.example.kr"})
    assert served.status_code == 200 and served.get_json()["slug"] == tenant.slug
    cleared = client.put(url, json={"domains": []}, headers=ministry)
    assert cleared.status_code == 200 and cleared.get_json()["domains"] == []
    assert client.get("/api/v1/portal", headers={"Host": "pb.new.example.kr"}).status_code == 404
    with session_without_tenant(engine) as session:
        events = session.scalars(
            select(AuditEvent.data).where(
                AuditEvent.tenant_slug == tenant.slug, AuditEvent.action == "tenant.domains"
            ).order_by(AuditEvent.id)
        ).all()
    assert [e["to"] for e in events] == [["pb.new.example.kr"], []]


def test_a_region_that_has_a_portal_is_refused_naming_it(client, ministry, alpha, new_slug):
    refused = _create(client, ministry, new_slug("again"), "11680")
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    assert "'alpha'" in message and "서울특별시 강남구" in message
    # The 10-digit code of the same municipality is the same municipality.
    assert _create(client, ministry, new_slug("again"), "1168000000").status_code == 409


def test_two_registrations_racing_for_one_region_give_one_portal_and_a_409(engine, free_region):
    """The first registration holds its row uncommitted while the second checks and inserts:
    the check sees nothing, the unique index makes it wait, then refuse."""
    region = free_region()
    code10 = f"{region}00000"
    first = engine.connect()
    transaction = first.begin()
    first.execute(
        insert(Tenant).values(
            slug="race_first",
            name="first",
            region_code=code10,
            status=TenantStatus.PROVISIONING,
            template_name="neighbourhood",
            template_version=1,
            branding={},
        )
    )
    outcome: dict[str, object] = {}

    def second() -> None:
        with session_without_tenant(engine) as session:
            try:
                do_register_tenant(
                    session,
                    slug="race_second",
                    region_code=region,
                    template="neighbourhood",
                    platform_domain="chamyeo.test",
                    actor="test",
                )
                outcome["result"] = "registered"
            except TenantConflict as error:
                outcome["result"] = error

    thread = threading.Thread(target=second)
    thread.start()
    # Until the second registration, past its check, waits on the unique index for the first.
    deadline = time.monotonic() + 20
    with engine.connect() as watcher:
        while True:
            waiting = watcher.scalar(WAITING_ON_A_LOCK)
            watcher.rollback()
            if waiting or not thread.is_alive() or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert waiting and thread.is_alive(), "the second registration waits on the first one's row"
    transaction.commit()
    first.close()
    thread.join(timeout=30)
    assert isinstance(outcome["result"], TenantConflict), outcome
    assert "'race_first'" in str(outcome["result"])
    with engine.begin() as connection:
        slugs = connection.scalars(select(Tenant.slug).where(Tenant.region_code == code10)).all()
        connection.execute(text("DELETE FROM control.tenants WHERE slug = 'race_first'"))
    assert slugs == ["race_first"]


def test_the_provisioning_job_refuses_to_build_a_second_portal_of_a_region(engine, make_tenant):
    """A tenant registered before the unique index existed (simulated by lifting it) fails in
    its first step instead of becoming a second portal."""
    holder = make_tenant()
    with engine.connect() as connection:
        region = connection.scalar(select(Tenant.region_code).where(Tenant.slug == holder.slug))
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX control.uq_tenants_region_code"))
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(Tenant).values(
                    slug="legacy_twin",
                    name="twin",
                    region_code=region,
                    status=TenantStatus.PROVISIONING,
                    template_name="neighbourhood",
                    template_version=1,
                    branding={},
                )
            )
        outcome = run_provisioning(engine, "legacy_twin")
        assert (outcome.status, outcome.failed_step) == (TenantStatus.FAILED, "create_schema")
        assert f"'{holder.slug}'" in outcome.error and "one municipality has one portal" in outcome.error
        with engine.connect() as connection:
            schema = connection.scalar(select(text("to_regnamespace('t_legacy_twin')")))
        assert schema is None
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM control.tenants WHERE slug = 'legacy_twin'"))
            connection.execute(
                text("CREATE UNIQUE INDEX uq_tenants_region_code ON control.tenants (region_code)")
            )


def test_restoring_an_export_makes_no_second_portal_of_a_region(engine, make_tenant, free_region, tmp_path):
    from provisioning.archive import export_tenant, import_tenant
    from provisioning.lifecycle import do_delete_tenant_irreversibly

    region = free_region()
    exported = make_tenant(region=region)
    file = tmp_path / "exported.tar.gz"
    with file.open("wb") as out:
        export_tenant(engine, exported.slug, out, actor="test")
    with session_without_tenant(engine) as session:
        do_delete_tenant_irreversibly(session, exported.slug, confirm=exported.slug, actor="test")
    successor = make_tenant(region=region)
    with pytest.raises(TenantConflict, match=f"already has a portal: '{successor.slug}'"):
        import_tenant(engine, file, actor="test")
    with engine.connect() as connection:
        assert connection.scalar(select(text("to_regnamespace(:s)")), {"s": f"t_{exported.slug}"}) is None
