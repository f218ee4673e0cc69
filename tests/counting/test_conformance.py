"""Outcomes equal pabutools' (default tie-breaking: project id as a string) on every shared
pabulib file and on generated elections.

pabutools takes minutes per city-size file for MES with add1, so shared files are compared
with the cached outcomes of `make_reference.py`; pabutools runs live on the small files and on
every generated election.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import pytest

from tenants.counting.pabulib import read_pabulib, write_pabulib
from tests.counting.conftest import generated_election
from tests.counting.ours import selected

with warnings.catch_warnings():
    # pabutools is imported under the suite's warnings-as-errors; it is GPL-3.0 and a test
    # dependency only. (1.2.3 emits no warning at import; this keeps a future one from
    # breaking collection before the comparison can report anything useful.)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pabutools.election.pabulib import parse_pabulib_from_string

    from tests.counting import pabutools_rules

REFERENCE = Path(__file__).parent / "reference" / "pabutools_outcomes.json"
LIVE_LIMIT = 40_000  # bytes: files small enough for pabutools to count live in the suite
# Our add1 takes about a minute on Toulouse 2022 (199 projects, 1,600 endowment steps that
# each change a decision); files with that many projects are checked when
# CHAMYEO_SLOW_COUNTING=1. City-wide files take seconds and are always checked.
ADD1_MAX_PROJECTS = 180  # Lodz 2022 (160) takes seconds; Toulouse 2022 (199) a minute
SLOW = os.environ.get("CHAMYEO_SLOW_COUNTING") == "1"
GENERATED = 240


def reference() -> dict:
    if not REFERENCE.exists():
        pytest.fail(f"{REFERENCE} is missing: run tests/counting/make_reference.py")
    return json.loads(REFERENCE.read_text())


def test_cached_reference_matches_the_files_present(pabulib_folder):
    cached = reference()["files"]
    present = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
               for p in pabulib_folder.glob("*.pb")}
    stale = sorted(name for name, digest in present.items()
                   if name not in cached or cached[name]["sha256"] != digest)
    assert not stale, (f"cached pabutools outcomes are stale or missing for {stale}: "
                       "regenerate with .venv/bin/python tests/counting/make_reference.py")


def test_cached_reference_is_from_the_installed_pabutools():
    import importlib.metadata

    assert reference()["pabutools_version"] == importlib.metadata.version("pabutools"), (
        "regenerate with .venv/bin/python tests/counting/make_reference.py")


def shared_cases():
    folder = pytest.importorskip("tests.counting.paths").pabulib_dir()
    if folder is None or not REFERENCE.exists():
        return [pytest.param(None, None, marks=pytest.mark.skip(
            reason="shared pabulib files or cached reference absent"))]
    cached = json.loads(REFERENCE.read_text())["files"]
    cases = []
    for path in sorted(folder.glob("*.pb")):
        heavy = projects_in(path) > ADD1_MAX_PROJECTS
        for rule_id in cached.get(path.name, {}).get("outcomes", {}):
            marks = []
            if "add1" in rule_id and heavy and not SLOW:
                marks.append(pytest.mark.skip(
                    reason=f"add1 with over {ADD1_MAX_PROJECTS} projects: CHAMYEO_SLOW_COUNTING=1"))
            cases.append(pytest.param(path, rule_id, id=f"{path.stem}-{rule_id}", marks=marks))
    return cases


def projects_in(path: Path) -> int:
    """The number of project rows, read without parsing the votes (collection time)."""
    rows, section = 0, None
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            name = line.strip().upper()  # section names in any case, as the parser reads them
            if name in ("PROJECTS", "VOTES"):
                if section == "PROJECTS":
                    return rows - 1  # less the header
                section = name
            elif section == "PROJECTS":
                rows += 1
    return rows - 1


_elections: dict[Path, object] = {}


def election_of(path: Path):
    if path not in _elections:
        _elections[path] = read_pabulib(path)
    return _elections[path]


@pytest.mark.parametrize(("path", "rule_id"), shared_cases())
def test_shared_file_outcome_equals_pabutools(path, rule_id):
    expected = reference()["files"][path.name]["outcomes"][rule_id]
    if "error" in expected:
        pytest.skip(f"no pabutools reference: {expected['error']}")
    assert selected(election_of(path), rule_id) == expected["selected"]


def test_small_files_equal_pabutools_live(pabulib_folder):
    checked = 0
    for path in sorted(pabulib_folder.glob("*.pb")):
        if path.stat().st_size > LIVE_LIMIT:
            continue
        instance, profile = pabutools_rules.load(path)
        election = election_of(path)
        for rule_id in pabutools_rules.rule_ids(election.vote_type):
            if "add1" in rule_id and path.stat().st_size > 7_000:
                continue  # pabutools' add1 takes seconds to minutes here; cached instead
            expected = pabutools_rules.outcome(instance, profile, rule_id)
            assert selected(election, rule_id) == expected, (path.name, rule_id)
            checked += 1
    assert checked >= 40


@pytest.mark.parametrize("seed", range(GENERATED))
def test_generated_election_equals_pabutools(seed):
    election = generated_election(seed)
    instance, profile = parse_pabulib_from_string(write_pabulib(election))
    profile = profile.as_multiprofile()
    for rule_id in pabutools_rules.rule_ids(election.vote_type):
        expected = pabutools_rules.outcome(instance, profile, rule_id)
        assert selected(election, rule_id) == expected, rule_id
