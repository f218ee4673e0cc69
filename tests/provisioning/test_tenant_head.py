"""A tenant built by replaying the captured head equals one built by the migrations."""

from __future__ import annotations

from sqlalchemy import text

from migrations.runner import head_statements, migrate_schema_in_transaction, migrate_schema_via_env_py
from tests.provisioning.catalog_shape import schema_shape


def test_replayed_head_equals_migrated_schema_table_for_table_index_for_index(engine, make_tenant):
    replayed = make_tenant("head_replayed").slug
    with engine.connect() as connection, connection.begin() as transaction:
        connection.execute(text('CREATE SCHEMA "head_migrated"'))
        connection.execute(text('CREATE SCHEMA "head_env_py"'))
        migrate_schema_in_transaction(connection, "head_migrated")
        migrate_schema_via_env_py(connection, "head_env_py")
        built = schema_shape(connection, f"t_{replayed}")
        migrated = schema_shape(connection, "head_migrated")
        via_env_py = schema_shape(connection, "head_env_py")
        transaction.rollback()
    assert len(built["relations"]) > 10 and built["indexes"] and built["sequences"] and built["constraints"]
    for part in built:
        assert built[part] == migrated[part], part
        assert via_env_py[part] == migrated[part], part
    assert built["version"] == [(head_statements(engine)[0],)]


def test_an_empty_tenant_stays_within_its_relation_budget(engine, make_tenant):
    slug = make_tenant("relation_budget").slug
    with engine.connect() as connection:
        relations = connection.scalar(
            text("SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace(:s)::oid"),
            {"s": f"t_{slug}"},
        )
        toast = connection.scalar(
            text(
                "SELECT count(*) FROM pg_class t JOIN pg_class c ON c.reltoastrelid = t.oid "
                "WHERE c.relnamespace = to_regnamespace(:s)::oid"
            ),
            {"s": f"t_{slug}"},
        )
    # Every relation is files on disk; at 10,000 tenants this decides restart and checkpoint times.
    assert relations > 0 and toast > 0
    assert relations + 2 * toast <= 160  # a toast table comes with its index
