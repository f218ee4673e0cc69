"""The shared PB templates: find, load, validate and compare versioned template files.

Layout: ``<root>/<name>@<version>.yaml`` (e.g. ``neighbourhood@1.yaml``), flat in this package
folder so that setuptools' ``*.yaml`` package-data glob ships them; the file repeats its
``name`` and ``version``, which must agree with its file name. Files are read on first use and
kept: templates are package data and do not change while the process runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from provisioning.templates.format import TemplateSchema, field_path
from saas.core.refusals import NotFound

DEFAULT_ROOT = Path(__file__).resolve().parent


class TemplateError(ValueError):
    """A template file is unreadable or invalid. ``problems`` is a list of
    ``(field path, message)``; the message names the file and every problem."""

    def __init__(self, file: Path | str, problems: list[tuple[str, str]]) -> None:
        self.file = str(file)
        self.problems = problems
        lines = [f"{self.file}: {path}: {msg}" for path, msg in problems]
        super().__init__("invalid template\n  " + "\n  ".join(lines))


class TemplateNotFound(NotFound):
    """No template with that name, or not that version of it (a 404; a `LookupError`)."""

    fragment = True


@dataclass(frozen=True)
class Template:
    """One validated version of a template. ``data`` is the loaded, validated content (treat
    it as read-only); ``checksum`` is the SHA-256 of the file, for a tenant to record."""

    name: str
    version: int
    data: dict[str, Any]
    source: str
    checksum: str


@dataclass(frozen=True)
class TemplateSummary:
    name: str
    latest_version: int
    versions: tuple[int, ...]
    title: dict[str, str]


@dataclass(frozen=True)
class Change:
    """One difference between two template versions. ``old`` or ``new`` is :data:`ABSENT`
    when the value exists on one side only."""

    path: str
    old: Any
    new: Any

    @property
    def op(self) -> str:
        if self.old is ABSENT:
            return "added"
        if self.new is ABSENT:
            return "removed"
        return "changed"

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "op": self.op}
        if self.old is not ABSENT:
            d["old"] = self.old
        if self.new is not ABSENT:
            d["new"] = self.new
        return d


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def load_template_file(path: Path | str) -> Template:
    """Read and validate one template file; raises :class:`TemplateError` naming the file,
    the field and the problem."""
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
        raw = yaml.safe_load(raw_bytes.decode("utf-8"))
    except OSError as e:
        raise TemplateError(path, [("(file)", f"cannot be read: {e.strerror or e}")]) from e
    except UnicodeDecodeError as e:
        raise TemplateError(path, [("(file)", f"is not UTF-8: {e}")]) from e
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}" if where else "(file)"
        problem = getattr(e, "problem", None) or str(e)
        raise TemplateError(path, [(at, f"YAML syntax error: {problem}")]) from e
    if not isinstance(raw, dict):
        raise TemplateError(path, [("(template)", "must be a YAML mapping at the top level")])
    try:
        data = TemplateSchema().load(raw)
    except ValidationError as e:
        raise TemplateError(path, field_path(e.messages)) from e
    expected = f"{data['name']}@{data['version']}.yaml"
    if path.name != expected:
        raise TemplateError(
            path,
            [
                (
                    "name",
                    f"file must be named {expected} to match its name {data['name']!r} "
                    f"and version {data['version']}",
                )
            ],
        )
    return Template(
        name=data["name"],
        version=data["version"],
        data=data,
        source=str(path),
        checksum=hashlib.sha256(raw_bytes).hexdigest(),
    )


class Catalog:
    """The templates under one folder (by default, the ones shipped in this package)."""

    def __init__(self, root: Path | str = DEFAULT_ROOT) -> None:
        self.root = Path(root)
        self._loaded: dict[tuple[str, int], Template] = {}

    @cached_property
    def _files(self) -> dict[str, dict[int, Path]]:
        found: dict[str, dict[int, Path]] = {}
        for f in sorted(self.root.glob("*.yaml")):
            name, at, version = f.stem.partition("@")
            if not at or not version.isdigit() or not name:
                raise TemplateError(f, [("(file)", "file name must be <name>@<version>.yaml")])
            found.setdefault(name, {})[int(version)] = f
        return found

    def get(self, name: str, version: int | None = None) -> Template:
        versions = self._files.get(name)
        if not versions:
            known = ", ".join(sorted(self._files)) or "none"
            raise TemplateNotFound(f"no template named {name!r} (known: {known})")
        v = max(versions) if version is None else version
        if v not in versions:
            have = ", ".join(str(x) for x in sorted(versions))
            raise TemplateNotFound(f"template {name!r} has no version {v} (versions: {have})")
        if (name, v) not in self._loaded:
            self._loaded[(name, v)] = load_template_file(versions[v])
        return self._loaded[(name, v)]

    def list(self) -> list[TemplateSummary]:
        out = []
        for name, versions in self._files.items():
            for v in versions:
                self.get(name, v)  # every version must validate, not only the latest
            latest = self.get(name)
            out.append(
                TemplateSummary(
                    name, latest.version, tuple(sorted(versions)), dict(latest.data["title"])
                )
            )
        return out


_default: Catalog | None = None


def _catalog() -> Catalog:
    global _default
    if _default is None:
        _default = Catalog()
    return _default


def list_templates() -> list[TemplateSummary]:
    """Every shipped template, by name, with its versions; validates all versions and raises
    :class:`TemplateError` if any file is invalid."""
    return _catalog().list()


def get_template(name: str, version: int | None = None) -> Template:
    """The shipped template ``name`` at ``version`` (the latest when None).

    Raises :class:`TemplateNotFound` (a ``LookupError``) for an unknown name or version and
    :class:`TemplateError` if the file is invalid."""
    return _catalog().get(name, version)


def _keyed(items: Any) -> dict[str, Any] | None:
    if (
        isinstance(items, list)
        and items
        and all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in items)
    ):
        keys = [i["key"] for i in items]
        if len(set(keys)) == len(keys):
            return {k: i for k, i in zip(keys, items, strict=True)}
    return None


def diff_template(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Return the differences from ``old`` to ``new`` (template data, e.g. ``Template.data``
    or a tenant's applied copy), in a stable order.

    Paths are dotted; items of a list whose elements carry a unique ``key`` (phases,
    envelopes, categories, committees, roles, pages) are matched by key and written
    ``phases[voting].days``, so reordering alone is reported as ``phases (order)``; other lists
    (languages, tie_break) are compared as whole values.
    """
    changes: list[Change] = []
    _diff(old, new, "", changes)
    return changes


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _diff_members(
    old: dict[Any, Any], new: dict[Any, Any], label: Callable[[Any], str], out: list[Change]
) -> None:
    for k in list(old) + [k for k in new if k not in old]:
        if k not in new:
            out.append(Change(label(k), old[k], ABSENT))
        elif k not in old:
            out.append(Change(label(k), ABSENT, new[k]))
        else:
            _diff(old[k], new[k], label(k), out)


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        _diff_members(old, new, lambda k: _join(path, str(k)), out)
        return
    ko, kn = _keyed(old), _keyed(new)
    if ko is not None and kn is not None:
        _diff_members(ko, kn, lambda k: f"{path}[{k}]", out)
        common_old = [k for k in ko if k in kn]
        common_new = [k for k in kn if k in ko]
        if common_old != common_new:
            out.append(Change(f"{path} (order)", common_old, common_new))
        return
    if old != new or type(old) is not type(new):
        out.append(Change(path or "(template)", old, new))
