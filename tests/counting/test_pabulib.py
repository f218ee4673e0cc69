"""Reading and writing pabulib files."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tenants.counting.pabulib import PabulibError, parse_pabulib, read_pabulib, write_pabulib
from tests.counting.conftest import generated_election

GOOD = """META
key;value
description;"a test; with a semicolon"
budget;100,5
vote_type;cumulative
PROJECTS
project_id;cost;name
1;60;"Park ""Green"" renewal"
c2;40.5;Library
VOTES
voter_id;vote;points;age
1;1,c2;2,1;30
2;c2;3;41
3;1,c2;2,1;none
"""


def test_reads_meta_projects_and_groups_identical_ballots():
    election = parse_pabulib(GOOD)
    assert election.budget == Fraction(201, 2)
    assert election.meta["description"] == "a test; with a semicolon"
    assert election.projects["1"].name == 'Park "Green" renewal'
    assert election.projects["c2"].cost == Fraction(81, 2)
    assert election.voter_count == 3
    assert sorted(election.counts) == [1, 2]  # voters 1 and 3 cast the same ballot


def test_accepts_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.pb"
    path.write_bytes("\ufeff".encode() + GOOD.encode())
    assert read_pabulib(path).voter_count == 3


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (GOOD.replace("1;60;", "1;sixty;"), 8, "cost of project '1' 'sixty' is not a number"),
        (GOOD.replace("2;c2;3;41", "2;c9;3;41"), 13, "unknown project 'c9'"),
        (GOOD.replace("2;c2;3;41", "2;c2;3,1;41"), 13, "1 projects but 2 points"),
        (GOOD.replace("c2;40.5;Library", "1;40.5;Library"), 9, "project '1' is listed twice"),
        (GOOD.replace("vote_type;cumulative", "vote_type;secret"), 11, "unknown vote_type"),
        (GOOD.replace("voter_id;vote;points;age", "voter_id;ballot;points;age"), 11,
         "VOTES header has no vote column"),
        (GOOD.replace("budget;100,5\n", ""), 10, "META has no budget"),
        ("hello;world\n" + GOOD, 1, "content before the META section"),
    ],
)
def test_malformed_files_name_the_line_and_the_problem(text, line, problem):
    with pytest.raises(PabulibError) as caught:
        parse_pabulib(text)
    assert caught.value.line == line
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"line {line}: ")


def test_a_missing_section_is_reported():
    with pytest.raises(PabulibError, match="no VOTES section"):
        parse_pabulib(GOOD.split("VOTES")[0])


def test_a_missing_file_is_a_pabulib_error(tmp_path):
    with pytest.raises(PabulibError, match="No such file"):
        read_pabulib(tmp_path / "absent.pb")


def test_writing_then_reading_gives_the_same_election():
    election = parse_pabulib(GOOD)
    again = parse_pabulib(write_pabulib(election))
    # The writer states the counts and writes the budget with a decimal point.
    assert again.meta == {
        **election.meta, "budget": "100.5", "num_projects": "2", "num_votes": "3"}
    assert again.projects == election.projects
    assert (again.ballots, again.counts) == (election.ballots, election.counts)
    assert again.vote_rows == election.vote_rows


@pytest.mark.parametrize("seed", range(12))
def test_generated_elections_survive_a_round_trip(seed):
    election = generated_election(seed)
    again = parse_pabulib(write_pabulib(election))
    assert again.budget == election.budget
    assert {p.id: p.cost for p in again.projects.values()} == {
        p.id: p.cost for p in election.projects.values()}
    assert sorted(zip(again.ballots, again.counts, strict=True), key=repr) == sorted(
        zip(election.ballots, election.counts, strict=True), key=repr)


def test_every_shared_file_parses_with_the_counts_its_meta_states(pabulib_folder):
    for path in sorted(pabulib_folder.glob("*.pb")):
        election = read_pabulib(path)
        assert election.voter_count == int(election.meta["num_votes"]), path.name
        assert len(election.projects) == int(election.meta["num_projects"]), path.name
