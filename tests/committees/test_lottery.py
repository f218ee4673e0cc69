"""The stratified lottery on its own: reproducible from the seed, quotas met when the
applicants allow it, shortfalls reported when they do not."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tenants.committees.lottery import Entry, Quotas, draw, record, rerun, snapshot_hash

BANDS = ("16-29", "30-49", "50-64", "65+")
DONG_ASSEMBLY = Quotas(
    seats=20,
    min_per_sex=8,
    age_bands=(("16-29", 3), ("30-49", 5), ("50-64", 5), ("65+", 3)),
    reserved=(("tong_representatives", 2), ("vulnerable_groups", 2)),
)


def pool(size: int, seed: int = 7, **weights) -> list[Entry]:
    rng = random.Random(seed)
    sexes = weights.get("sexes", ("female", "male"))
    bands = weights.get("bands", BANDS)
    groups = (None,) * 8 + ("tong_representatives", "vulnerable_groups")
    return [
        Entry(i, rng.choice(sexes), rng.choice(bands), "1168051000", rng.choice(groups))
        for i in range(1, size + 1)
    ]


def drawn(entries: list[Entry], result) -> list[Entry]:
    by_id = {e.id: e for e in entries}
    return [by_id[i] for i, _ in result.seats]


def test_the_same_seed_and_applicants_give_the_same_members_whatever_their_order():
    entries = pool(120)
    first = draw("published seed 2027", entries, DONG_ASSEMBLY)
    again = draw("published seed 2027", list(reversed(entries)), DONG_ASSEMBLY)
    assert first.seats == again.seats and len(first.seats) == 20


def test_a_different_seed_gives_a_different_draw():
    entries = pool(120)
    assert draw("seed A", entries, DONG_ASSEMBLY).seats != draw("seed B", entries, DONG_ASSEMBLY).seats


@pytest.mark.parametrize("seed", [f"seed-{n}" for n in range(12)])
def test_quotas_are_met_when_the_applicants_allow_it(seed):
    entries = pool(80, seed=len(seed) * 31 + int(seed.split("-")[1]))
    result = draw(seed, entries, DONG_ASSEMBLY)
    members = drawn(entries, result)
    assert result.shortfalls == []
    assert len(members) == 20 and len({m.id for m in members}) == 20
    sexes, bands = Counter(m.sex for m in members), Counter(m.age_band for m in members)
    assert min(sexes["female"], sexes["male"]) >= 8
    assert all(bands[k] >= n for k, n in DONG_ASSEMBLY.age_bands)
    seats = Counter(seat for _, seat in result.seats)
    assert seats["reserved:tong_representatives"] == 2 and seats["reserved:vulnerable_groups"] == 2
    for member, (_, seat) in zip(members, result.seats, strict=True):
        assert seat == "lottery" or seat == f"reserved:{member.reserved}"


def test_tight_quotas_on_both_dimensions_are_met_together():
    # 16 general seats, 16 seats of sex minimums and 16 of age minimums: every pick must count twice.
    quotas = Quotas(seats=16, min_per_sex=8, age_bands=(("16-29", 3), ("30-49", 5), ("50-64", 5), ("65+", 3)))
    entries = [e for e in pool(200, seed=3) if e.reserved is None]
    members = drawn(entries, draw("tight", entries, quotas))
    assert Counter(m.sex for m in members) == {"female": 8, "male": 8}
    assert Counter(m.age_band for m in members) == {"16-29": 3, "30-49": 5, "50-64": 5, "65+": 3}


def test_dong_quotas_spread_a_city_committee():
    rng = random.Random(5)
    dongs = ("A", "B", "C", "D")
    # Dong D has only two applicants among many: a plain lottery would often miss it.
    entries = [
        Entry(i, rng.choice(("female", "male")), "30-49", rng.choice(dongs[:3])) for i in range(1, 200)
    ]
    entries += [Entry(500, "female", "30-49", "D"), Entry(501, "male", "30-49", "D")]
    quotas = Quotas(seats=8, min_per_dong=2, dongs=dongs)
    members = drawn(entries, draw("spread", entries, quotas))
    assert Counter(m.dong for m in members) == {"A": 2, "B": 2, "C": 2, "D": 2}


def test_unmeetable_quotas_fill_what_they_can_and_report_the_shortfall():
    # Three women among the applicants, no one over 65, one person for each reserved group.
    entries = [Entry(i, "male", "30-49", "x") for i in range(1, 30)]
    entries += [Entry(100 + i, "female", "16-29", "x") for i in range(3)]
    entries += [Entry(200, "male", "50-64", "x", "tong_representatives")]
    entries += [Entry(201, "male", "50-64", "x", "vulnerable_groups")]
    result = draw("short", entries, DONG_ASSEMBLY)
    members = drawn(entries, result)
    assert len(members) == 18  # general seats all filled; reserved ones stay empty, to be appointed
    assert sum(m.sex == "female" for m in members) == 3  # every woman who applied
    short = {(s.quota, s.category): (s.required, s.filled, s.short) for s in result.shortfalls}
    assert short == {
        ("seats", None): (20, 18, 2),
        ("reserved", "tong_representatives"): (2, 1, 1),
        ("reserved", "vulnerable_groups"): (2, 1, 1),
        ("sex", "female"): (8, 3, 5),
        ("age_band", "50-64"): (5, 2, 3),  # only the two reserved-group applicants
        ("age_band", "65+"): (3, 0, 3),
    }


def test_too_few_applicants_leave_seats_empty_and_say_so():
    entries = [Entry(i, "female", "30-49", "x") for i in range(1, 6)]
    result = draw("few", entries, DONG_ASSEMBLY)
    assert len(result.seats) == 5
    assert result.shortfalls[0].as_json() == {
        "quota": "seats",
        "category": None,
        "required": 20,
        "filled": 5,
        "short": 15,
    }


def test_a_published_record_re_runs_to_the_same_seats_and_a_changed_snapshot_shows():
    entries = pool(60)
    published = record("re-run me", entries, DONG_ASSEMBLY)
    checked = rerun(published)
    assert checked["seats_match"] and checked["snapshot_matches"]
    tampered = dict(published, applicants=[dict(a) for a in published["applicants"]])
    tampered["applicants"][0]["sex"] = "male" if tampered["applicants"][0]["sex"] == "female" else "female"
    assert not rerun(tampered)["snapshot_matches"]
    assert snapshot_hash(entries) == snapshot_hash(list(reversed(entries)))
