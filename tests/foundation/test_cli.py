"""The `chamyeo` command against the test database (DATABASE_URL / REDIS_URL set)."""

import pytest
from click.testing import CliRunner

from saas.cli import main


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_help_lists_the_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for command in ("up", "worker", "db", "tokens", "tenants", "audit"):
        assert command in result.output


def test_models_and_migrations_agree(run, engine):
    result = run("db", "check")
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_db_check_fails_when_a_model_drifts(run, engine):
    from sqlalchemy import Column, String

    from tenants.portal.models import Category

    column = Column("colour", String(20))
    Category.__table__.append_column(column)
    try:
        result = CliRunner().invoke(main, ["db", "check"])
        assert result.exit_code != 0
        assert "colour" in result.output
    finally:
        Category.__table__._columns.remove(column)


def test_a_created_token_works_once_printed(run, client, engine):
    result = run("tokens", "create", "--role", "ministry_admin", "--name", "ops")
    assert result.exit_code == 0
    secret = result.output.strip()
    assert secret.startswith("chy_")
    assert client.get("/api/v1/tenants", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = run("tokens", "list").output
    assert "ministry_admin" in listing and secret not in listing


def test_tenant_role_token_requires_a_tenant(run, engine):
    result = CliRunner().invoke(main, ["tokens", "create", "--role", "staff", "--name", "x"])
    assert result.exit_code != 0 and "name the tenant" in result.output


def test_db_upgrade_and_status(run, alpha, beta):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    status = run("db", "status").output
    assert "(head)" in status and "behind" not in status


def test_audit_verify_reports_an_intact_chain(run, alpha):
    result = run("audit", "verify")
    assert result.exit_code == 0 and "intact" in result.output
