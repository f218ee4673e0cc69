"""Where a selection stands for each ballot type (what is left, what can still be added and
why not), the no-JS form read into choices, and a selection carried in one URL parameter."""

import pytest
from werkzeug.datastructures import MultiDict

from tenants.voting import selection as sel
from tenants.voting.refusals import ChoiceUnreadable
from tenants.voting.rules import validate_ballot

KNAPSACK = {"type": "knapsack", "min_spend_share": 0.5}
APPROVAL = {"type": "approval", "k": 2, "min_k": 2}
CUMULATIVE = {"type": "cumulative", "points": 10, "max_points_per_project": 5}
RANKED = {"type": "ranked", "max_rank": 2}
PROJECTS = [(1, 600), (2, 300), (3, 200), (4, 100)]


def test_knapsack_shows_the_budget_left_and_why_a_project_no_longer_fits():
    s = sel.standing(KNAPSACK, 1000, PROJECTS, {1: 1, 3: 1})
    assert (s.total, s.used, s.left, s.minimum) == (1000, 800, 200, 500)
    assert s.complete and not s.over
    too_big = s.rooms[2]
    assert (too_big.can_add, too_big.reason, too_big.cost, too_big.left) == (False, "budget", 300, 200)
    assert s.rooms[4].can_add and s.rooms[4].reason is None
    assert s.rooms[1].value == 1 and not s.rooms[1].can_add  # chosen: nothing to add


def test_knapsack_below_the_minimum_spend_or_over_the_budget_cannot_be_cast():
    assert sel.standing(KNAPSACK, 1000, PROJECTS, {4: 1}).problem == "min_spend_share"
    over = sel.standing(KNAPSACK, 1000, PROJECTS, {1: 1, 2: 1, 3: 1})
    assert over.problem == "budget" and over.over and over.left == -100
    assert sel.standing(KNAPSACK, 1000, PROJECTS, {}).problem == "empty"


def test_approval_counts_the_picks_left():
    one = sel.standing(APPROVAL, 0, PROJECTS, {2: 1})
    assert (one.left, one.problem, one.rooms[1].can_add) == (1, "min_k", True)
    full = sel.standing(APPROVAL, 0, PROJECTS, {2: 1, 3: 1})
    assert full.complete and full.left == 0
    assert (full.rooms[1].can_add, full.rooms[1].reason) == (False, "k")
    assert sel.standing(APPROVAL, 0, PROJECTS, {1: 1, 2: 1, 3: 1}).over


def test_cumulative_counts_points_and_the_cap_per_project():
    s = sel.standing(CUMULATIVE, 0, PROJECTS, {1: 5, 2: 3})
    assert (s.used, s.left) == (8, 2)
    assert (s.rooms[1].can_add, s.rooms[1].reason, s.rooms[1].max_value) == (
        False,
        "max_points_per_project",
        5,
    )
    assert (s.rooms[2].can_add, s.rooms[2].max_value) == (True, 5)
    assert s.rooms[3].max_value == 2
    spent = sel.standing(CUMULATIVE, 0, PROJECTS, {1: 5, 2: 5})
    assert (spent.rooms[3].can_add, spent.rooms[3].reason, spent.left) == (False, "points", 0)
    assert sel.standing(CUMULATIVE, 0, PROJECTS, {1: 6}).problem == "max_points_per_project"
    assert sel.standing(CUMULATIVE, 0, PROJECTS, {1: 5, 2: 5, 3: 1}).problem == "points"


def test_ranked_counts_ranks_and_refuses_gaps():
    s = sel.standing(RANKED, 0, PROJECTS, {3: 1})
    assert s.complete and s.left == 1 and s.rooms[1].can_add
    full = sel.standing(RANKED, 0, PROJECTS, {3: 1, 1: 2})
    assert (full.rooms[2].can_add, full.rooms[2].reason) == (False, "max_rank")
    gap = sel.standing(RANKED, 0, PROJECTS, {3: 2})
    assert gap.problem == "ranks" and not gap.over
    assert sel.standing(RANKED, 0, PROJECTS, {3: 1, 1: 1}).over  # two projects ranked first


@pytest.mark.parametrize(
    "rules, selection",
    [
        (KNAPSACK, {1: 1, 3: 1}),
        (KNAPSACK, {4: 1}),
        (KNAPSACK, {1: 1, 2: 1, 3: 1}),
        (APPROVAL, {2: 1}),
        (APPROVAL, {2: 1, 3: 1}),
        (APPROVAL, {1: 1, 2: 1, 3: 1}),
        (CUMULATIVE, {1: 5, 2: 5}),
        (CUMULATIVE, {1: 6}),
        (CUMULATIVE, {1: 5, 2: 5, 3: 1}),
        (RANKED, {3: 1, 1: 2}),
        (RANKED, {3: 2}),
        (RANKED, {1: 1, 2: 2, 3: 3}),
    ],
)
def test_a_complete_standing_is_exactly_a_ballot_the_write_path_accepts(rules, selection):
    """The page's judgement and the write path's agree: complete ⇔ validate_ballot accepts."""
    from saas.core.refusals import Invalid
    from tenants.cycles.models import Cycle, Envelope
    from tenants.proposals.models import Project

    envelope = Envelope(id=7, scope="citywide", area_code=None, name_en="City", budget=1000)
    projects = {pid: Project(id=pid, code=f"P{pid}", cost=cost, envelope_id=7) for pid, cost in PROJECTS}
    cycle = Cycle(ballot=rules)
    standing = sel.standing(rules, 1000, PROJECTS, selection)
    try:
        validate_ballot(cycle, [envelope], projects, sel.as_choices(selection))
        accepted = True
    except Invalid:
        accepted = False
    assert standing.complete == accepted


def test_the_no_js_form_reads_into_the_choices_the_api_takes():
    ids = [1, 2, 3, 4]
    assert sel.parse_form(KNAPSACK, MultiDict([("project", "1"), ("project", "3")]), ids) == {1: 1, 3: 1}
    points = MultiDict({"points-1": "5", "points-2": "", "points-3": "0", "points-4": " 2 "})
    assert sel.parse_form(CUMULATIVE, points, ids) == {1: 5, 4: 2}
    assert sel.parse_form(RANKED, MultiDict({"rank-2": "1", "rank-4": "2", "rank-1": ""}), ids) == {
        2: 1,
        4: 2,
    }
    assert sel.as_choices({4: 2, 2: 1}) == [{"project_id": 2, "value": 1}, {"project_id": 4, "value": 2}]


@pytest.mark.parametrize(
    "rules, form, field, reason",
    [
        (KNAPSACK, [("project", "99")], "project", "not_on_ballot"),
        (APPROVAL, [("project", "x")], "project", "not_a_number"),
        (CUMULATIVE, [("points-2", "-1")], "points-2", "not_a_number"),
        (CUMULATIVE, [("points-2", "2.5")], "points-2", "not_a_number"),
        (CUMULATIVE, [("points-2", "9" * 400)], "points-2", "out_of_range"),
        (RANKED, [("rank-3", "3")], "rank-3", "out_of_range"),
        (RANKED, [("rank-3", "١")], "rank-3", "not_a_number"),  # an Arabic-Indic digit
    ],
)
def test_a_form_field_that_is_no_choice_is_refused_by_name(rules, form, field, reason):
    with pytest.raises(ChoiceUnreadable) as refused:
        sel.parse_form(rules, MultiDict(form), [1, 2, 3, 4])
    assert refused.value.errors == {field: [refused.value.message]}
    assert refused.value.reason == reason and refused.value.status == 422


def test_a_selection_travels_in_one_url_parameter():
    assert sel.encode({3: 1, 1: 5, 2: 0}) == "1.5-3.1"
    assert sel.decode("1.5-3.1", [1, 2, 3]) == {1: 5, 3: 1}
    assert sel.decode("", [1]) == {}
    for bad in ("9.1", "1.x", "1.5-3.1" * 5000):
        with pytest.raises(ChoiceUnreadable) as refused:
            sel.decode(bad, [1, 2, 3])
        assert refused.value.field == "sel"
