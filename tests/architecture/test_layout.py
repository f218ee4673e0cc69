"""The layout a newcomer reads: no module longer than 800 lines, and `services.py` only inside
a domain package (one that also holds its models, schemas or views), never at a layer's root."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("saas", "tenants", "provisioning", "migrations")
LAYER_ROOTS = {"saas", "saas/core", "saas/control", "saas/dev", "tenants", "provisioning", "migrations"}
DOMAIN_NEIGHBOURS = ("models.py", "schemas.py", "views.py", "api.py")
MAX_LINES = 800


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "versions" not in path.relative_to(ROOT).parts
    )


def test_the_packages_are_where_the_layout_says():
    assert len(_modules()) > 150  # the walk below sees the tree, not an empty folder


def test_no_module_is_longer_than_800_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_services_modules_sit_in_domain_packages_only():
    misplaced = []
    for path in _modules():
        if path.name != "services.py":
            continue
        folder = path.parent
        if str(folder.relative_to(ROOT)) in LAYER_ROOTS or not any(
            (folder / neighbour).exists() for neighbour in DOMAIN_NEIGHBOURS
        ):
            misplaced.append(str(path.relative_to(ROOT)))
    assert misplaced == []


def test_every_package_folder_is_a_package():
    # A folder of modules without __init__.py is a namespace package, which the import
    # contracts do not see: its imports would go unchecked.
    folders = {path.parent for path in _modules()}
    bare = [folder for folder in folders if not (folder / "__init__.py").exists()]
    assert sorted(str(folder.relative_to(ROOT)) for folder in bare) == []
