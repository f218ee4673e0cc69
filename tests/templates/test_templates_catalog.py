"""Shared PB templates: every shipped file validates, and errors name file and field."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from provisioning.templates import (
    ABSENT,
    Catalog,
    TemplateError,
    TemplateNotFound,
    diff_template,
    get_template,
    list_templates,
    load_template_file,
)
from provisioning.templates.catalog import DEFAULT_ROOT

SHIPPED = sorted(p.name for p in DEFAULT_ROOT.glob("*.yaml"))


def test_the_three_required_templates_are_shipped():
    names = {t.name for t in list_templates()}
    assert {"neighbourhood", "citywide", "youth"} <= names


@pytest.mark.parametrize("file", SHIPPED)
def test_every_shipped_template_file_validates(file):
    t = load_template_file(DEFAULT_ROOT / file)
    assert file == f"{t.name}@{t.version}.yaml"
    assert len(t.checksum) == 64


def _texts(node, path=""):
    """Yield (path, node) for every {ko, en}-shaped mapping and every stray string."""
    if isinstance(node, dict):
        if set(node) == {"ko", "en"}:
            yield path, node
            return
        for k, v in node.items():
            yield from _texts(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _texts(v, f"{path}[{i}]")


@pytest.mark.parametrize("name", ["neighbourhood", "citywide", "youth"])
def test_every_resident_visible_text_has_korean_and_english(name):
    data = get_template(name).data
    texts = list(_texts(data))
    assert len(texts) > 30
    for path, text in texts:
        assert text["ko"].strip() and text["en"].strip(), path
        assert any("\uac00" <= ch <= "\ud7a3" for ch in text["ko"]), f"{path}: ko has no Hangul"
    for section in ("phases", "categories", "pages"):
        for item in data[section]:
            assert {"ko", "en"} <= set(item.get("name") or item.get("title")), section
    assert data["languages"] == ["ko", "en"]


def test_template_contents_fit_their_purpose():
    n, c, y = (get_template(x).data for x in ("neighbourhood", "citywide", "youth"))
    assert {e["scope"] for e in n["envelopes"]} == {"dong"}
    assert any(k["level"] == "dong" for k in n["committees"])
    assert {e["scope"] for e in c["envelopes"]} == {"citywide", "district", "dong"}
    assert {"planning_input", "execution_monitoring"} <= {p["key"] for p in c["phases"]}
    assert (y["eligibility"]["min_age"], y["eligibility"]["max_age"]) == (14, 24)
    rules = {t["ballot"]["counting"]["rule"] for t in (n, c, y)}
    assert rules == {"greedy", "mes", "blended"}


def test_unknown_template_and_version_are_lookup_errors():
    with pytest.raises(TemplateNotFound, match="no template named 'nope'"):
        get_template("nope")
    with pytest.raises(LookupError, match="has no version 99"):
        get_template("youth", 99)


def _copy(tmp_path: Path, name="youth") -> tuple[Path, dict]:
    src = DEFAULT_ROOT / f"{name}@1.yaml"
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    return dst, yaml.safe_load(src.read_text("utf-8"))


def _write(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


def test_latest_version_is_the_default_and_older_versions_stay_available(tmp_path):
    _, data = _copy(tmp_path)
    v2 = copy.deepcopy(data)
    v2["version"] = 2
    v2["phases"][3]["days"] = 14
    _write(tmp_path / "youth@2.yaml", v2)
    cat = Catalog(tmp_path)
    assert cat.get("youth").version == 2
    assert cat.get("youth", 1).version == 1
    assert [s.versions for s in cat.list()] == [(1, 2)]


def test_a_missing_english_text_names_the_file_and_field(tmp_path):
    path, data = _copy(tmp_path)
    del data["phases"][1]["name"]["en"]
    _write(path, data)
    with pytest.raises(TemplateError) as e:
        load_template_file(path)
    msg = str(e.value)
    assert "youth@1.yaml" in msg and "phases.1.name.en" in msg and "Missing data" in msg
    assert e.value.file.endswith("youth@1.yaml")
    assert ("phases.1.name.en", "Missing data for required field.") in e.value.problems


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (lambda d: d["ballot"].pop("points"), "ballot.points", "required by ballot type"),
        (lambda d: d["ballot"]["counting"].update(vote_weight=0.9), "committee_weight", "be 1"),
        (lambda d: d["envelopes"][0].update(share=0.5), "envelopes", "not 1"),
        (lambda d: d["eligibility"].update(max_age=10), "eligibility.max_age", "below"),
        (lambda d: d["branding"].update(primary_color="blue"), "primary_color", "colour"),
        (lambda d: d.update(languages=["ko"]), "languages", "exactly"),
        (lambda d: d["pages"].pop(1), "pages", "privacy"),
        (lambda d: d["phases"].append(dict(d["phases"][0])), "phases.6.key", "duplicate"),
        (lambda d: d["committees"][0].update(seats=10), "committees.0.roles", "more than"),
        (lambda d: d.update(colour="red"), "colour", "Unknown field"),
        (lambda d: d["ballot"].update(tie_break=["votes_desc"]), "tie_break", "lottery"),
        (
            lambda d: d["notifications"]["voting_open"]["body"].update(en="Vote until {closes}"),
            "notifications.voting_open.value.body.en",
            "placeholders differ",
        ),
    ],
)
def test_invalid_templates_are_reported_with_field_and_problem(tmp_path, change, field, says):
    path, data = _copy(tmp_path)
    change(data)
    _write(path, data)
    with pytest.raises(TemplateError) as e:
        load_template_file(path)
    assert any(field in p and says in m for p, m in e.value.problems), e.value.problems
    assert str(path) in str(e.value)


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "youth@1.yaml"
    path.write_text("name: youth\nversion: [1\n", "utf-8")
    with pytest.raises(TemplateError, match=r"youth@1\.yaml: line \d+, column \d+: YAML syntax"):
        load_template_file(path)


def test_file_name_must_match_name_and_version(tmp_path):
    _, data = _copy(tmp_path)
    other = tmp_path / "youth@3.yaml"
    _write(other, data)
    with pytest.raises(TemplateError, match="must be named youth@1.yaml"):
        load_template_file(other)
    (tmp_path / "draft.yaml").write_text("x: 1\n", "utf-8")
    with pytest.raises(TemplateError, match="<name>@<version>.yaml"):
        Catalog(tmp_path).list()


def test_diff_of_identical_templates_is_empty():
    data = get_template("citywide").data
    assert diff_template(data, copy.deepcopy(data)) == []


def test_diff_matches_list_items_by_key():
    old = get_template("neighbourhood").data
    new = copy.deepcopy(old)
    new["version"] = 2
    voting = next(p for p in new["phases"] if p["key"] == "voting")
    voting["days"] = 21
    new["categories"] = [c for c in new["categories"] if c["key"] != "community"]
    new["categories"].append({"key": "youth", "name": {"ko": "청소년", "en": "Youth"}})
    new["ballot"]["k"] = 5
    new["branding"]["primary_color"] = "#000000"
    changes = {c.path: c for c in diff_template(old, new)}
    assert (changes["version"].old, changes["version"].new) == (1, 2)
    assert (changes["phases[voting].days"].old, changes["phases[voting].days"].new) == (14, 21)
    assert changes["categories[community]"].op == "removed"
    assert changes["categories[community]"].new is ABSENT
    assert changes["categories[youth]"].op == "added"
    assert changes["ballot.k"].as_dict() == {
        "path": "ballot.k",
        "op": "changed",
        "old": 3,
        "new": 5,
    }
    assert "branding.primary_color" in changes
    assert len(changes) == 6


def test_diff_reports_reordering():
    old = get_template("youth").data
    new = copy.deepcopy(old)
    new["categories"].reverse()
    [change] = diff_template(old, new)
    assert change.path == "categories (order)"
