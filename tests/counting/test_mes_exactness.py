"""MES orders and pre-screens with float copies of the budgets, but every decision is exact:
outcomes do not change when the floats settle nothing, and a difference below float
resolution still decides."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tenants.counting import mes_budgets
from tenants.counting.election import APPROVAL, Ballot, Project, build_election
from tenants.counting.mes import equal_shares
from tenants.counting.pabulib import read_pabulib
from tenants.counting.rules import RuleSpec, count
from tests.counting.conftest import generated_election

RULES = (("cost", "none"), ("cardinality", "none"), ("cost", "add1"), ("cost", "add1-full"))


def outcomes(election) -> list:
    found = []
    for sat, completion in RULES:
        outcome = equal_shares(election, sat, "id", completion=completion)
        found.append((outcome.order, {p: r.text for p, r in outcome.reasons.items()},
                      outcome.details["endowment"]))
    return found


def settle_nothing_by_floats(monkeypatch) -> None:
    """A float error bound so large that every comparison goes to the exact values."""
    monkeypatch.setattr(mes_budgets, "RELATIVE_ERROR", 1e300)


def test_generated_outcomes_do_not_depend_on_the_float_screen(monkeypatch):
    elections = [generated_election(seed) for seed in range(0, 240, 3)]
    screened = [outcomes(e) for e in elections]
    settle_nothing_by_floats(monkeypatch)
    assert [outcomes(e) for e in elections] == screened


@pytest.mark.parametrize("name", ["Poland_Swiecie_2023.pb", "Poland_Wieliczka_2023_Green_Budget.pb"])
def test_files_counted_on_exact_values_alone_give_the_same_outcome(pabulib_folder, name,
                                                                   monkeypatch):
    election = read_pabulib(pabulib_folder / name)
    spec = RuleSpec("mes", "cost", completion="add1-full")
    screened = count(election, spec)
    settle_nothing_by_floats(monkeypatch)
    exact = count(election, spec)
    assert (exact.order, exact.details) == (screened.order, screened.details)


def test_prices_closer_than_float_resolution_are_told_apart():
    # Two voters approve both projects; per voter, b costs 2**52 and a 2**52 + 1/2: equal as
    # floats. The cheaper one, b, must come first although "a" wins ties by id.
    big = 2**53
    election = build_election(
        {}, [Project("a", Fraction(big + 1)), Project("b", Fraction(big))],
        Fraction(2 * big + 10), APPROVAL, [Ballot(("a", "b")), Ballot(("a", "b"))])
    assert float(Fraction(big + 1, 2)) == float(Fraction(big, 2))
    outcome = equal_shares(election, "cardinality", "id")
    assert outcome.order == ["b", "a"]
    assert outcome.reasons["b"].facts["price_per_utility"] == Fraction(big, 2)
