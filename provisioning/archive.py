"""Exporting a tenant to one file and importing it back: its schema's data (PostgreSQL COPY,
text format) and its control-plane rows, with the DDL of its revision, so an archive
restores into an empty database without the migration history and without pg_dump.

Archive (gzip'd tar): `manifest.json` first, then `data/<table>.copy` per tenant table. The
manifest holds row counts and checksums per table; an import recomputes them inside its
transaction and rolls back on any difference.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from migrations.heads import TenantHead
from migrations.metadata import tenant_metadata
from migrations.runner import (
    create_tenant_schema_in_transaction,
    head_statements,
    migrate_schema_in_transaction,
    tenant_head_revision,
)
from provisioning.errors import ProvisioningRefused, TenantConflict, TenantNotFound
from saas.core import clock
from saas.core.audit import services as audit
from saas.core.registry.models import ProvisioningStep, Tenant, TenantDomain, TenantStatus
from saas.core.tenancy.binding import qualified_name, tenant_session
from saas.core.tenancy.slugs import InvalidSlug, schema_for, validate_slug

FORMAT = "chamyeo-tenant-export"
FORMAT_VERSION = 1
# Rebuilt by the DDL replay (it carries the revision), so never copied.
_VERSION_TABLE = "alembic_version"
_TENANT_FIELDS = (
    "slug",
    "name",
    "name_en",
    "region_code",
    "status",
    "template_name",
    "template_version",
    "branding",
    "admin_email",
    "schema_revision",
)
_STEP_FIELDS = ("step", "status", "attempts", "started_at", "finished_at", "duration_ms", "error")


def _raw(session: Session) -> Any:
    """The psycopg connection under the tenant session (COPY is not in SQLAlchemy's API).
    Statements on it name the tenant's schema explicitly, quoted by `binding.qualified_name`."""
    return session.connection().connection.driver_connection


def _tables(session: Session, schema: str) -> list[str]:
    """The schema's tables, parents before children (foreign keys) so COPY FROM can load them."""
    present = set(
        session.scalars(
            text(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = to_regnamespace(:s)::oid "
                "AND c.relkind IN ('r', 'p')"
            ),
            {"s": schema},
        )
    )
    ordered = [t.name for t in tenant_metadata().sorted_tables if t.name in present]
    ordered += sorted(present - set(ordered) - {_VERSION_TABLE})
    return ordered


_FINGERPRINT = "SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"


def fingerprint(session: Session, schema: str) -> dict[str, dict[str, Any]]:
    """Row count and md5 of the sorted rows of every table in `schema` (the caller's
    transaction; timestamps are rendered in UTC so the text is stable)."""
    session.execute(text("SET LOCAL TimeZone = 'UTC'"))
    raw = _raw(session)
    out = {}
    for table in _tables(session, schema):
        relation = qualified_name(schema, table)  # both names quoted by the binding module
        query = f"{_FINGERPRINT} FROM {relation} AS r"  # only quoted identifiers are interpolated
        rows, checksum = raw.execute(query).fetchone()
        out[table] = {"rows": rows, "checksum": checksum}
    return out


def tenant_fingerprint(engine: Engine, slug: str) -> dict[str, dict[str, Any]]:
    with tenant_session(engine, slug) as session:
        return fingerprint(session, schema_for(slug))


def _sequences(session: Session, schema: str) -> list[dict[str, Any]]:
    rows = session.execute(
        text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = :s ORDER BY 1"),
        {"s": schema},
    )
    return [{"name": name, "last_value": last} for name, last in rows]


def _ddl_for(engine: Engine, session: Session, revision: str | None) -> list[Any]:
    if revision == tenant_head_revision():
        return [list(s) for s in head_statements(engine)[1]]
    stored = session.scalar(select(TenantHead.statements).where(TenantHead.revision == revision))
    if stored is None:
        raise TenantConflict(
            f"the tenant is at revision {revision}, whose DDL is not known: upgrade it first"
        )
    return stored


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def export_tenant(engine: Engine, slug: str, target: str | Path | IO[bytes], *, actor: str) -> dict[str, Any]:
    """Write tenant `slug` to `target` (a path or a binary file); returns the manifest.

    One REPEATABLE READ transaction, so every table comes from the same snapshot. Raises
    `TenantNotFound`, or `TenantConflict` while the tenant is not active or suspended."""
    try:
        schema = schema_for(slug)
    except InvalidSlug:
        raise TenantNotFound(f"there is no tenant {slug!r}") from None
    with tenant_session(engine, slug) as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise TenantNotFound(f"there is no tenant {slug!r}")
        if tenant.status not in (TenantStatus.ACTIVE, TenantStatus.SUSPENDED):
            raise TenantConflict(f"tenant {slug!r} is {tenant.status.value}: only a built portal exports")
        steps = session.scalars(select(ProvisioningStep).where(ProvisioningStep.tenant_id == tenant.id))
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "exported_at": clock.now().isoformat(),
            "tenant": {field: getattr(tenant, field) for field in _TENANT_FIELDS},
            "domains": [d.domain for d in tenant.domains],
            "steps": [{field: getattr(step, field) for field in _STEP_FIELDS} for step in steps],
            "ddl": _ddl_for(engine, session, tenant.schema_revision),
            "tables": fingerprint(session, schema),
            "sequences": _sequences(session, schema),
        }
        raw = _raw(session)
        with tempfile.TemporaryDirectory(prefix="chamyeo-export-") as scratch:
            files = []
            for table in manifest["tables"]:
                path = Path(scratch) / f"{table}.copy"
                query = f"COPY {qualified_name(schema, table)} TO STDOUT"
                with path.open("wb") as out, raw.cursor().copy(query) as copy:
                    for chunk in copy:
                        out.write(chunk)
                files.append((table, path))
            if isinstance(target, str | Path):
                opened = tarfile.open(target, "w:gz")
            else:
                opened = tarfile.open(fileobj=target, mode="w:gz")
            with opened as archive:
                body = json.dumps(manifest, default=_json_default, ensure_ascii=False).encode()
                _add_bytes(archive, "manifest.json", body)
                for table, path in files:
                    archive.add(path, f"data/{table}.copy")
        audit.record(
            session,
            actor=actor,
            action="tenant.export",
            tenant_slug=slug,
            data={"tables": {t: v["rows"] for t, v in manifest["tables"].items()}},
        )
        session.commit()
    return manifest


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile("manifest.json")
        manifest = json.load(member) if member else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ProvisioningRefused("this file is not a Chamyeo tenant export")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ProvisioningRefused(f"export format version {manifest.get('format_version')} is not supported")
    return manifest


def _open(source: str | Path | IO[bytes]) -> tarfile.TarFile:
    try:
        if isinstance(source, str | Path):
            return tarfile.open(source, "r:gz")
        return tarfile.open(fileobj=source, mode="r:gz")
    except (tarfile.TarError, OSError) as error:
        raise ProvisioningRefused(f"this file is not a Chamyeo tenant export ({error})") from None


def import_tenant(engine: Engine, source: str | Path | IO[bytes], *, actor: str) -> dict[str, Any]:
    """Restore an export into this database, in one transaction: the control-plane rows,
    the schema (the archive's DDL), the data, the sequences; then migrate it to the current
    head if it is behind. Returns the manifest's tenant part.

    Raises `ProvisioningRefused` (not an export, or the data does not match its checksums)
    or `TenantConflict` (the slug, schema or a domain is taken, or the municipality has a
    portal)."""
    from provisioning.lifecycle import portal_of_region, region_taken

    with _open(source) as archive:
        manifest = read_manifest(archive)
        fields = manifest["tenant"]
        try:
            slug = validate_slug(fields["slug"])
        except InvalidSlug as error:
            raise ProvisioningRefused(f"slug: {error}") from None
        schema = schema_for(slug)
        with tenant_session(engine, slug) as session:
            if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
                raise TenantConflict(f"a tenant named {slug!r} already exists")
            if session.scalar(text("SELECT to_regnamespace(:s)"), {"s": schema}) is not None:
                raise TenantConflict(f"schema {schema} exists although no tenant owns it: drop it first")
            taken = session.scalar(
                select(TenantDomain.domain).where(TenantDomain.domain.in_(manifest["domains"]))
            )
            if taken is not None:
                raise TenantConflict(f"the domain {taken} already belongs to another tenant")
            holder = portal_of_region(session, fields["region_code"])
            if holder is not None:  # one municipality, one portal: a restore makes no second one
                raise region_taken(holder)
            tenant = Tenant(
                **{**fields, "status": TenantStatus(fields["status"])},
                domains=[TenantDomain(domain=d) for d in manifest["domains"]],
            )
            session.add(tenant)
            session.flush()
            for step in manifest["steps"]:
                for moment in ("started_at", "finished_at"):
                    if step.get(moment):
                        step[moment] = datetime.fromisoformat(step[moment])
                session.add(ProvisioningStep(tenant_id=tenant.id, **step))
            connection = session.connection()
            create_tenant_schema_in_transaction(connection, slug, [tuple(s) for s in manifest["ddl"]])
            raw = _raw(session)
            for table in manifest["tables"]:
                member = archive.extractfile(f"data/{table}.copy")
                if member is None:
                    raise ProvisioningRefused(f"the export lacks the data of table {table}")
                query = f"COPY {qualified_name(schema, table)} FROM STDIN"
                with raw.cursor().copy(query) as copy:
                    while chunk := member.read(1 << 20):
                        copy.write(chunk)
            for sequence in manifest["sequences"]:
                raw.execute(
                    "SELECT setval(%s::regclass, %s, %s)",
                    (
                        qualified_name(schema, sequence["name"]),
                        sequence["last_value"] or 1,
                        sequence["last_value"] is not None,
                    ),
                )
            restored = fingerprint(session, schema)
            if restored != manifest["tables"]:
                different = sorted(t for t in manifest["tables"] if restored.get(t) != manifest["tables"][t])
                raise ProvisioningRefused(
                    f"the restored data differs from the export in: {', '.join(different)}"
                )
            head = tenant_head_revision()
            if tenant.schema_revision != head:
                migrate_schema_in_transaction(connection, schema)
                tenant.schema_revision = head
            audit.record(
                session,
                actor=actor,
                action="tenant.import",
                tenant_slug=slug,
                data={
                    "exported_at": manifest["exported_at"],
                    "tables": {t: v["rows"] for t, v in restored.items()},
                },
            )
            session.commit()
    return fields
