"""The shape of a schema as pg_catalog describes it, with the schema's own name taken out
so two schemas can be compared."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

_QUERIES = {
    "relations": """
        SELECT c.relname, c.relkind::text, c.relpersistence::text
        FROM pg_class c WHERE c.relnamespace = to_regnamespace(:s)::oid ORDER BY 1""",
    "columns": """
        SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, a.attcollation
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = to_regnamespace(:s)::oid AND a.attnum > 0 AND NOT a.attisdropped
          AND c.relkind IN ('r', 'p', 'v', 'm')
        ORDER BY 1, 2""",
    "indexes": """
        SELECT i.relname, pg_get_indexdef(i.oid), x.indisunique, x.indisprimary
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE i.relnamespace = to_regnamespace(:s)::oid ORDER BY 1""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.condeferrable
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE k.connamespace = to_regnamespace(:s)::oid ORDER BY 1, 2""",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, min_value, max_value, increment_by, cycle,
               cache_size
        FROM pg_sequences WHERE schemaname = :s ORDER BY 1""",
    "sequence_owners": """
        SELECT s.relname, t.relname, a.attname
        FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE s.relnamespace = to_regnamespace(:s)::oid AND d.deptype IN ('a', 'i') ORDER BY 1""",
    "version": "SELECT version_num FROM {schema}.alembic_version",
}


def schema_shape(connection: Connection, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    shape = {}
    for name, query in _QUERIES.items():
        rows = connection.execute(text(query.replace("{schema}", f'"{schema}"')), {"s": schema}).all()
        shape[name] = [tuple(_anonymous(value, schema) for value in row) for row in rows]
    return shape


def _anonymous(value: Any, schema: str) -> Any:
    return value.replace(f"{schema}.", "<schema>.") if isinstance(value, str) else value
