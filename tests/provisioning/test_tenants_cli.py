"""`chamyeo tenants export/import/create-many` and `chamyeo templates`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from provisioning.archive import tenant_fingerprint
from provisioning.steps import STEP_NAMES
from saas.cli import main
from saas.core.registry.models import Tenant
from saas.core.tenancy.binding import tenant_session
from tenants.portal.models import Page


@pytest.fixture
def chamyeo(settings, monkeypatch):
    """Run `chamyeo ...` against the test database and Redis."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)

    def run(*args: str, input: str | None = None, code: int = 0):
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_export_delete_import_gives_identical_row_counts_and_checksums(
    chamyeo, make_tenant, engine, tmp_path
):
    slug = make_tenant("exported", admin_email="admin@exported.kr", domains=("pb.exported.kr",)).slug
    with tenant_session(engine, slug) as session:
        session.add(
            Page(key="notice", title_ko="공지", title_en="Notice", body_ko="본문\t탭\n줄", body_en="x\\y")
        )
        session.commit()
    before = tenant_fingerprint(engine, slug)
    assert before["pages"]["rows"] > 1 and before["members"]["rows"] == 1
    file = tmp_path / "exported.tar.gz"

    assert "tables" in chamyeo("tenants", "export", slug, str(file)).output
    chamyeo("tenants", "delete", slug, input=f"{slug}\n")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(Tenant.slug == slug)) == 0
    chamyeo("tenants", "import", str(file))

    assert tenant_fingerprint(engine, slug) == before
    shown = json.loads(chamyeo("tenants", "show", slug, "--json").output)
    assert (shown["status"], shown["domains"]) == ("active", ["pb.exported.kr"])
    assert [s["status"] for s in shown["steps"]] == ["done"] * len(STEP_NAMES)
    # Sequences were restored: a new row gets a fresh id instead of colliding.
    with tenant_session(engine, slug) as session:
        session.add(Page(key="after", title_ko="t", title_en="t", body_ko="b", body_en="b"))
        session.commit()
    refused = chamyeo("tenants", "import", str(file), code=1)
    assert "already exists" in refused.output


def test_create_many_reports_refused_rows_and_leaves_no_partial_schema(
    chamyeo, engine, tmp_path, monkeypatch, free_region
):
    import provisioning.bulk as bulk

    a, b, e = free_region(), free_region(), free_region()
    csv = tmp_path / "onboarding.csv"
    csv.write_text(
        "slug,region,template,name,domain,admin_email\n"
        f"bulk_a,{a},neighbourhood,,,a@bulk.kr\n"
        f"bulk_b,{b},citywide,참여예산,pb.bulk-b.kr,\n"
        "bulk_c,99999,youth,,,\n"
        f"Bad Slug,{a},youth,,,\n"
        f"bulk_d,{e},nope,,,\n"
        f"bulk_e,{e},youth,,,\n",
        encoding="utf-8",
    )

    def fault(step: str) -> None:  # bulk_e's job dies in its template step
        if step == "apply_template" and current["slug"] == "bulk_e":
            raise RuntimeError("injected")

    current: dict[str, str] = {}
    original = bulk.run_provisioning

    def tracking(engine_, slug, fault=None):
        current["slug"] = slug
        return original(engine_, slug, fault=fault)

    monkeypatch.setattr(bulk, "run_provisioning", tracking)
    real_onboard = bulk.onboard_many
    monkeypatch.setattr(bulk, "onboard_many", lambda *a, **k: real_onboard(*a, **k, fault=fault))

    output = chamyeo("tenants", "create-many", str(csv), "--in-process", code=1).output
    assert "2 of 6 tenant(s) active" in output
    for where in ("line 4 bulk_c", "line 5 Bad Slug", "line 6 bulk_d", "line 7 bulk_e"):
        assert where in output
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(select(Tenant.slug, Tenant.status).where(Tenant.slug.like("bulk_%"))).all()
        )
        refused_schemas = [
            connection.scalar(select(func.to_regnamespace(f"t_{s}"))) for s in ("bulk_c", "bulk_d")
        ]
        relations = {
            slug: connection.scalar(
                text("SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace(:s)::oid"),
                {"s": f"t_{slug}"},
            )
            for slug in ("bulk_a", "bulk_e")
        }
    assert {k: v.value for k, v in statuses.items()} == {
        "bulk_a": "active",
        "bulk_b": "active",
        "bulk_e": "failed",
    }
    assert refused_schemas == [None, None]
    # The failed tenant's schema is whole (its step committed), ready for the retry.
    assert relations["bulk_e"] == relations["bulk_a"] > 0


def test_templates_commands(chamyeo):
    listed = chamyeo("templates", "list").output
    assert "neighbourhood" in listed and "youth" in listed
    shown = json.loads(chamyeo("templates", "show", "citywide").output)
    assert shown["name"] == "citywide" and shown["phases"]
    assert "0 change(s)" in chamyeo("templates", "diff", "youth", "--from", "1", "--to", "1").output
    assert "no template named" in chamyeo("templates", "show", "nope", code=1).output


def test_the_command_line_refuses_a_platform_domain_and_a_second_portal_of_a_region(
    chamyeo, alpha, free_region, tmp_path, engine
):
    region = free_region()
    create = ("tenants", "create", "--template", "youth")
    under = chamyeo(*create, "cli_dom", "--region", region, "--domain", "X.Chamyeo.Localhost.", code=1).output
    assert "platform" in under and "x.chamyeo.localhost" in under
    again = chamyeo(*create, "cli_again", "--region", "11680", code=1).output
    assert "already has a portal: 'alpha'" in again

    csv = tmp_path / "twice.csv"
    csv.write_text(
        "slug,region,template,name,domain,admin_email\n"
        f"twice_a,{region},youth,,,\n"
        f"twice_b,{region},youth,,,\n"
        f"twice_c,{free_region()},youth,,pb.chamyeo.localhost,\n",
        encoding="utf-8",
    )
    output = chamyeo("tenants", "create-many", str(csv), "--in-process", code=1).output
    assert "1 of 3 tenant(s) active" in output
    assert "line 3 twice_b: " in output and "already has a portal: 'twice_a'" in output
    assert "line 4 twice_c: " in output and "platform" in output
    with engine.connect() as connection:
        slugs = connection.scalars(select(Tenant.slug).where(Tenant.slug.like("twice_%"))).all()
    assert slugs == ["twice_a"]
