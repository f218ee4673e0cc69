"""Official results stated in the files' META (`selected` column) are reproduced."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tenants.counting.pabulib import read_pabulib
from tenants.counting.rules import RuleSpec, count, spec_from_meta

CASES = [
    ("Poland_Warszawa_2021_Mokotow.pb", RuleSpec("greedy")),
    ("Poland_Lodz_2022.pb", RuleSpec("greedy-threshold", threshold=Fraction(100))),
    ("Poland_Katowice_2023.pb", RuleSpec("greedy-threshold", threshold=Fraction(200))),
    ("Poland_Katowice_2023.pb",
     RuleSpec("greedy-threshold", "score", threshold=Fraction(200))),
    ("Poland_Wroclaw_2015_150_-_500.pb", RuleSpec("greedy-no-skip")),
    ("Poland_Krakow_2024_Podgorze.pb", RuleSpec("greedy", "score")),
    ("Netherlands_Assen_2024.pb", RuleSpec("mes", completion="add1-full")),
    ("Poland_Swiecie_2023.pb", RuleSpec("mes", completion="add1-full")),
    ("Poland_Wieliczka_2023_Green_Budget.pb", RuleSpec("mes", completion="add1-full")),
]


def official(election) -> list[str]:
    return sorted(p for p, project in election.projects.items()
                  if project.fields.get("selected") == "1")


@pytest.mark.parametrize(("name", "spec"), CASES, ids=[f"{n}-{s.rule}-{s.sat}" for n, s in CASES])
def test_official_outcome_is_reproduced(pabulib_folder, name, spec):
    election = read_pabulib(pabulib_folder / name)
    assert official(election), "the file states no official outcome"
    assert count(election, spec).selected == official(election)


@pytest.mark.parametrize("name", sorted({n for n, _ in CASES} - {"Poland_Krakow_2024_Podgorze.pb"}))
def test_the_rule_named_in_meta_reproduces_the_official_outcome(pabulib_folder, name):
    election = read_pabulib(pabulib_folder / name)
    assert count(election, spec_from_meta(election.meta)).selected == official(election)


def test_pabutools_default_add1_differs_from_the_official_wieliczka_result(pabulib_folder):
    # Why add1-full exists: stopping at the first exhaustive outcome misses the official one.
    election = read_pabulib(pabulib_folder / "Poland_Wieliczka_2023_Green_Budget.pb")
    assert count(election, RuleSpec("mes", completion="add1")).selected != official(election)
