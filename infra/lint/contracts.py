"""import-linter contract types of our own (lint tooling, not production code).

`lint-imports` loads this module through `contract_types` in pyproject.toml; it runs from the
repository root, which it puts on sys.path, so `infra.lint.contracts` is found there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True)
class Finding:
    module: str
    line_number: int
    line: str
    pattern: str


class SourceTextContract(Contract):
    """No module outside `allowed_modules` contains a line matching one of `patterns`.

    For what an import graph cannot see: the tenant binding is a translate map and schema names
    quoted into SQL, not an import. The source of every module in the graph (the root packages)
    is read as text; a match anywhere in it, comments included, breaks the contract.

    Options:
        - patterns:        regular expressions (Python `re`), searched line by line.
        - allowed_modules: the modules that may contain them (exact names, not packages).
    """

    type_name = "source_text"

    patterns = fields.ListField(subfield=fields.StringField())
    allowed_modules = fields.SetField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        # Contract.__init__ sets each field's parsed value on the instance, over the class's Field.
        options = vars(self)
        compiled = [re.compile(pattern) for pattern in options["patterns"]]
        allowed: set[str] = set(options["allowed_modules"] or ())
        findings: list[Finding] = []
        roots: dict[str, Path] = {}
        for module in sorted(graph.modules):
            if module in allowed:
                continue
            path = _source_path(module, roots)
            if path is None:
                continue
            output.verbose_print(verbose, f"Reading {path}...")
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                for pattern in compiled:
                    if pattern.search(line):
                        findings.append(Finding(module, number, line.strip(), pattern.pattern))
        return ContractCheck(kept=not findings, metadata={"findings": findings})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for finding in check.metadata["findings"]:
            output.print_error(f"{finding.module}:{finding.line_number}: {finding.line}", bold=False)
            output.indent_cursor()
            output.print(f"(matches {finding.pattern})")
            output.new_line()


def _source_path(module: str, roots: dict[str, Path]) -> Path | None:
    """The file of `module`, found from its root package's folder, so nothing is imported."""
    root, *rest = module.split(".")
    if root not in roots:
        spec = find_spec(root)
        if spec is None or not spec.submodule_search_locations:
            return None
        roots[root] = Path(next(iter(spec.submodule_search_locations)))
    base = roots[root].joinpath(*rest)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None
