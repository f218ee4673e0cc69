"""`chamyeo count`: JSON out, a one-line error and exit code 2 for a malformed file."""

from __future__ import annotations

import json

from click.testing import CliRunner

from saas.cli import main
from tests.counting.test_pabulib import GOOD


def run(*args):
    return CliRunner().invoke(main, ["count", *args])


def test_prints_the_outcome_as_json(tmp_path):
    path = tmp_path / "good.pb"
    path.write_text(GOOD.replace("vote_type;cumulative", "vote_type;cumulative\nrule;greedy"))
    result = run(str(path), "--explain")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rule"] == "greedy" and data["sat"] == "cost"
    assert data["budget"] == "100.5"
    # Votes: c2 by 3 voters, 1 by 2; c2 (40.5) first, then 1 (60) fits in 60 left.
    assert data["order"] == ["c2", "1"]
    assert data["selected"] == ["1", "c2"]
    assert data["total_cost"] == "100.5"
    assert isinstance(data["seconds"], float)
    assert data["projects"]["1"]["status"] == "selected"


def test_follows_the_rule_named_in_meta(pabulib_folder):
    result = run(str(pabulib_folder / "Netherlands_Assen_2024.pb"))
    data = json.loads(result.output)
    assert (data["rule"], data["completion"], data["fill"]) == ("mes", "add1-full", "none")


def test_greedy_with_a_tie_break_chain(pabulib_folder):
    result = run(str(pabulib_folder / "Poland_Swiecie_2023.pb"), "--rule", "greedy",
                 "--tie-break", "min-cost,max-votes,lot:7")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tie_break"] == "min-cost,max-votes,lot:7"


def test_a_malformed_file_gives_one_line_and_exit_code_2(tmp_path):
    path = tmp_path / "bad.pb"
    path.write_text(GOOD.replace("2;c2;3;41", "2;c9;3;41"))
    result = CliRunner().invoke(main, ["count", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "line 13" in lines[0] and "unknown project 'c9'" in lines[0]
    assert "Traceback" not in result.output


def test_a_rule_that_does_not_fit_the_ballots_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "good.pb"
    path.write_text(GOOD)
    result = run(str(path), "--sat", "borda")
    assert result.exit_code == 2
    assert "borda satisfaction needs ordinal ballots" in result.output
