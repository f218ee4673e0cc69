"""The import-linter contracts in pyproject.toml guard the layers: a deliberately wrong import
(or a translate map outside the binding module) planted in a copy of the packages breaks them,
naming the line; and the real tree keeps them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("saas", "tenants", "provisioning", "migrations")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # Run from `root`, which lint-imports puts first on sys.path, so a copy's packages are read
    # and not the installed (editable) ones; a wide terminal keeps each finding on one line.
    env = {**os.environ, "COLUMNS": "400", "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def copy_of_the_tree(tmp_path: Path) -> Path:
    for folder in (*PACKAGES, "infra/lint"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _plant(root: Path, relative: str, line: str) -> int:
    """Append `line` to the module at `relative`; returns its line number."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(f"{text}{line}\n", encoding="utf-8")
    return text.count("\n") + 1


def _section(report: str, contract: str) -> str:
    """The broken-contract section of `report` for `contract` (up to the next section)."""
    heading = f"{contract}\n{'-' * len(contract)}\n"
    assert heading in report, f"no broken-contract section for {contract!r}:\n{report}"
    rest = report.split(heading, 1)[1]
    ends = [rest.index(f"\n{name}\n") for name in _contract_names() if f"\n{name}\n" in rest]
    return rest[: min(ends)] if ends else rest


def _contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


LAYERS = "Layers: nothing imports upward"
DEVELOPMENT_ONLY = "Development-only parts: production code never imports saas.dev"
COUNTING = "The counting engine is pure: tenants.counting imports nothing of ours outside itself"
DOMAIN_VIEWS = "PB domain: views sit on top, no model, schema or service of a domain imports a view"
BINDING = (
    "Tenant binding: only the binding module touches the translate map, search_path or quotes schema names"
)


def test_the_contracts_named_here_are_the_configured_ones() -> None:
    assert _contract_names() == [LAYERS, DEVELOPMENT_ONLY, COUNTING, DOMAIN_VIEWS, BINDING]


def _plant_and_break(root: Path, relative: str, planted: str, contract: str) -> tuple[str, int]:
    """Plant `planted` at the end of `relative`, run lint-imports on `root` and check that it
    fails with `contract` broken; returns that contract's section of the report and the line."""
    line = _plant(root, relative, planted)
    result = _lint_imports(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout
    return _section(result.stdout, contract), line


def test_an_upward_import_from_the_pb_domain_to_the_control_plane_breaks_the_layers(
    copy_of_the_tree: Path,
) -> None:
    planted = "import saas.control.billing  # planted"
    section, line = _plant_and_break(copy_of_the_tree, "tenants/cycles/models.py", planted, LAYERS)
    assert "tenants is not allowed to import saas.control" in section
    assert f"tenants.cycles.models -> saas.control.billing (l.{line})" in section


def test_an_import_of_the_development_parts_from_the_core_breaks_its_contract(copy_of_the_tree: Path) -> None:
    planted = "import saas.dev  # planted"
    section, line = _plant_and_break(copy_of_the_tree, "saas/core/clock.py", planted, DEVELOPMENT_ONLY)
    assert "saas.core is not allowed to import saas.dev" in section
    assert f"saas.core.clock -> saas.dev (l.{line})" in section


def test_the_counting_engine_importing_a_domain_package_breaks_its_contract(copy_of_the_tree: Path) -> None:
    planted = "import tenants.voting.rules  # planted"
    section, line = _plant_and_break(copy_of_the_tree, "tenants/counting/greedy.py", planted, COUNTING)
    assert f"tenants.counting.greedy -> tenants.voting.rules (l.{line})" in section


def test_a_service_importing_a_view_breaks_the_domain_contract(copy_of_the_tree: Path) -> None:
    planted = "import tenants.proposals.views  # planted"
    section, line = _plant_and_break(copy_of_the_tree, "tenants/proposals/services.py", planted, DOMAIN_VIEWS)
    assert f"tenants.proposals.services -> tenants.proposals.views (l.{line})" in section


@pytest.mark.parametrize(
    "planted",
    [
        'engine.execution_options(schema_translate_map={None: "t_alpha"})',
        'connection.exec_driver_sql("SET LOCAL search_path TO t_alpha")',
        "connection.exec_driver_sql(f'DROP SCHEMA \"{schema}\" CASCADE')",
        "connection.exec_driver_sql(f'SELECT 1 FROM \"{schema}\".proposals')",
        "preparer.quote_identifier(schema)",
        "sql.Identifier(schema)",
    ],
)
def test_touching_the_binding_outside_its_module_breaks_the_binding_contract(
    copy_of_the_tree: Path, planted: str
) -> None:
    section, line = _plant_and_break(
        copy_of_the_tree, "tenants/proposals/services.py", f"_ = lambda: {planted}", BINDING
    )
    assert f"tenants.proposals.services:{line}: _ = lambda: {planted}\n" in section


def test_the_binding_module_itself_may_touch_the_binding(copy_of_the_tree: Path) -> None:
    _plant(copy_of_the_tree, "saas/core/tenancy/binding.py", '_ = lambda: preparer.quote_identifier("t_x")')
    result = _lint_imports(copy_of_the_tree)
    assert "saas.core.tenancy.binding:" not in result.stdout


def test_the_real_tree_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout
