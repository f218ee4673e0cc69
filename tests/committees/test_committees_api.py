"""The committee API: creation, consent, the draw and its re-run, members, representativeness,
meetings, scores, roles, and an audit event for every write."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from saas import regions
from saas.core.audit.models import AuditEvent
from saas.core.tenancy.binding import session_without_tenant, tenant_session
from tenants.committees import lottery
from tenants.committees.representativeness import population_in
from tenants.committees.services import committee_scores

BANDS = [(25, "female"), (40, "male"), (55, "female"), (70, "male"), (20, "male"), (35, "female")]


def people(n: int, dong: str | None = None, offset: int = 0):
    """n applicants cycling through ages and sexes; every tenth applies for a reserved group."""
    groups = ("tong_representatives", "vulnerable_groups")
    out = []
    for i in range(n):
        age, sex = BANDS[(i + offset) % len(BANDS)]
        out.append((sex, age + i % 5, dong, groups[i // 10 % 2] if i % 10 == 9 else None))
    return out


@pytest.fixture
def drawn(portal, cycle_id):
    committee = portal.committee(cycle_id)
    portal.apply_on_paper(cycle_id, committee["id"], people(44))
    url = f"/cycles/{cycle_id}/committees/{committee['id']}"
    published = portal.call("POST", f"{url}/lottery", expect=201, seed="2027 공개 추첨 씨앗").get_json()
    return committee, url, published


def test_a_dong_committee_is_made_from_the_template_once(portal, cycle_id):
    dong = portal.dongs()[0]
    committee = portal.committee(cycle_id)
    assert (committee["level"], committee["dong_code"], committee["seats"]) == ("dong", dong, 20)
    assert committee["quotas"]["min_per_sex"] == 8 and committee["drawn"] is False
    path = f"/cycles/{cycle_id}/committees"
    portal.call("POST", path, expect=409, key="dong_assembly", dong_code=dong)
    portal.call("POST", path, expect=422, key="no_such_committee")
    portal.call("POST", path, expect=422, key="dong_assembly")  # no dong named
    portal.call("POST", path, expect=422, key="dong_assembly", dong_code="9999999999")
    portal.call("POST", path, expect=422, key="city_committee", dong_code=dong)
    portal.call("POST", "/cycles/999999/committees", expect=404, key="city_committee")
    listed = portal.call("GET", path, who=None, expect=200).get_json()
    assert [c["id"] for c in listed] == [committee["id"]]


def test_applying_needs_consent_and_demographics_are_not_echoed(portal, cycle_id):
    committee = portal.committee(cycle_id)
    path = f"/cycles/{cycle_id}/committees/{committee['id']}/applications"
    body = {"name": "주민", "sex": "female", "age": 34}
    refused = portal.call("POST", path, who="resident", expect=422, consent=False, **body).get_json()
    assert "consent" in refused["message"]
    portal.call("POST", path, who="resident", expect=422, consent=False, name="주민")  # no consent, no seat
    receipt = portal.call("POST", path, who="resident", expect=201, consent=True, **body).get_json()
    assert receipt["consent"] is True and receipt["consented_at"]
    assert not {"sex", "age", "dong_code"} & set(receipt)
    portal.call("POST", path, who="resident", expect=409, consent=True, **body)  # once per person
    portal.call("POST", path, who="resident_2", expect=422, consent=True, name="어린이", sex="male", age=9)
    stored = portal.call("GET", path, expect=200).get_json()
    assert [(a["sex"], a["age"], a["dong_code"], a["principal"]) for a in stored] == [
        ("female", 34, committee["dong_code"], portal.actors["resident"])
    ]


def test_the_draw_fills_quotas_and_anyone_can_re_run_it(portal, cycle_id, drawn):
    committee, url, published = drawn
    assert published["shortfalls"] == [] and len(published["seats"]) == 20
    assert published["seed"] == "2027 공개 추첨 씨앗" and published["algorithm"] == lottery.ALGORITHM
    roster = portal.call("GET", f"{url}/members/roster", expect=200).get_json()
    assert len(roster) == 20
    assert min(Counter(m["sex"] for m in roster).values()) >= 8
    bands = Counter(lottery.band_key(*_band(m["age"])) for m in roster)
    assert bands["16-29"] >= 3 and bands["30-49"] >= 5 and bands["50-64"] >= 5 and bands["65+"] >= 3
    assert Counter(m["seat"] for m in roster)["reserved:tong_representatives"] == 2

    # Anyone, without credentials: the published record re-runs to the same seats ...
    public = portal.call("GET", f"{url}/lottery", who=None, expect=200).get_json()
    assert lottery.rerun(public)["seats_match"]
    verified = portal.call("POST", f"{url}/lottery/verify", who=None, expect=200).get_json()
    assert verified["seats_match"] and verified["snapshot_matches"] and verified["applicants_match"]
    # ... and another seed draws other members.
    other = portal.call("POST", f"{url}/lottery/verify", who=None, expect=200, seed="another seed").get_json()
    assert not other["seats_match"] and other["snapshot_matches"]

    portal.call("POST", f"{url}/lottery", expect=409, seed="draw it again")
    portal.call(
        "POST",
        f"{url}/applications",
        who="resident",
        expect=409,
        name="늦은 신청",
        consent=True,
        sex="male",
        age=40,
    )


def _band(age: int) -> tuple[int, int | None]:
    for lo, hi in ((16, 29), (30, 49), (50, 64), (65, None)):
        if age >= lo and (hi is None or age <= hi):
            return lo, hi
    raise AssertionError(age)


def test_a_draw_short_of_applicants_reports_every_shortfall(portal, cycle_id):
    committee = portal.committee(cycle_id)
    url = f"/cycles/{cycle_id}/committees/{committee['id']}"
    portal.apply_on_paper(cycle_id, committee["id"], [("male", 40, None, None)] * 6)
    published = portal.call("POST", f"{url}/lottery", expect=201, seed="few applicants").get_json()
    short = {(s["quota"], s["category"]): s["short"] for s in published["shortfalls"]}
    assert short == {
        ("seats", None): 14,
        ("reserved", "tong_representatives"): 2,
        ("reserved", "vulnerable_groups"): 2,
        ("sex", "female"): 8,
        ("sex", "male"): 2,
        ("age_band", "16-29"): 3,
        ("age_band", "50-64"): 5,
        ("age_band", "65+"): 3,
    }
    assert len(portal.call("GET", f"{url}/members", who=None).get_json()) == 6


def test_public_members_show_no_demographics_and_roles_have_seat_limits(portal, cycle_id, drawn):
    committee, url, _ = drawn
    public = portal.call("GET", f"{url}/members", who=None, expect=200).get_json()
    assert len(public) == 20
    assert not {"sex", "age", "dong_code", "principal", "consent"} & set().union(*public)
    portal.call("GET", f"{url}/members/roster", who="resident", expect=403)
    portal.call("GET", f"{url}/members/roster", who=None, expect=401)
    first, second = public[0]["id"], public[1]["id"]
    assert (
        portal.call("PATCH", f"{url}/members/{first}", expect=200, role="chair").get_json()["role"] == "chair"
    )
    portal.call("PATCH", f"{url}/members/{second}", expect=409, role="chair")
    portal.call("PATCH", f"{url}/members/{second}", expect=422, role="emperor")
    withdrawn = portal.call("PATCH", f"{url}/members/{second}", expect=200, consent=False).get_json()
    assert (withdrawn["consent"], withdrawn["sex"], withdrawn["age"]) == (False, None, None)
    # Seats are full: appointing more is refused.
    portal.call("POST", f"{url}/members", expect=409, name="임명", reserved_key="vulnerable_groups")


def test_representativeness_compares_members_with_the_official_population(portal, cycle_id, drawn):
    committee, url, _ = drawn
    report = portal.call("GET", f"{url}/representativeness", expect=200).get_json()
    portal.call("GET", f"{url}/representativeness", who="resident", expect=403)
    profile = regions.population_by_age_sex(committee["dong_code"])
    assert report["area_code"] == committee["dong_code"] and report["population_month"] == profile.month
    roster = portal.call("GET", f"{url}/members/roster").get_json()
    assert report["members"] == report["members_with_demographics"] == 20

    bands = [(16, 29), (30, 49), (50, 64), (65, None)]
    eligible = sum(sum(population_in(profile, lo, hi).values()) for lo, hi in bands)
    assert eligible == pytest.approx(
        sum(b.total for b in profile.bands if b.min_age >= 20) + 0.8 * profile.bands[3].total
    )  # 16–19 is four fifths of the official 15–19 band
    for group in report["groups"]:
        lo, hi = group["min_age"], group["max_age"]
        official = population_in(profile, lo, hi)[group["sex"]]
        members = sum(1 for m in roster if m["sex"] == group["sex"] and _band(m["age"]) == (lo, hi))
        assert group["population"] == round(official)
        assert group["population_share"] == pytest.approx(official / eligible, abs=1e-4)
        assert group["members"] == members and group["member_share"] == pytest.approx(members / 20, abs=1e-4)
        assert group["gap"] == pytest.approx(group["member_share"] - group["population_share"], abs=2e-4)
    female = next(s for s in report["sexes"] if s["sex"] == "female")
    assert female["population"] == round(sum(population_in(profile, lo, hi)["female"] for lo, hi in bands))


def test_city_committee_report_uses_the_municipality(portal, cycle_id):
    committee = portal.committee(cycle_id, key="city_committee")
    report = portal.call(
        "GET", f"/cycles/{cycle_id}/committees/{committee['id']}/representativeness"
    ).get_json()
    assert report["area_name"] == regions.population_by_age_sex("11650").name_ko
    assert report["members"] == 0 and all(g["member_share"] == 0 for g in report["groups"])


def _seat(portal, url: str, member_id: int, who: str) -> None:
    portal.call("PATCH", f"{url}/members/{member_id}", expect=200, principal=portal.actors[who])


def test_meetings_minutes_are_public_and_members_record_their_own_attendance(portal, cycle_id, drawn):
    committee, url, _ = drawn
    member = portal.call("GET", f"{url}/members", who=None).get_json()[0]["id"]
    _seat(portal, url, member, "committee_member")
    meeting = portal.call(
        "POST", f"{url}/meetings", expect=201, held_at="2027-04-02T19:00:00+09:00", agenda=["사업 숙의"]
    ).get_json()
    portal.call(
        "POST", f"{url}/meetings", who="committee_member", expect=403, held_at="2027-04-02T19:00:00+09:00"
    )
    path = f"{url}/meetings/{meeting['id']}"
    attended = portal.call("POST", f"{path}/attendance", who="committee_member", expect=200, status="present")
    assert attended.get_json()["attendance"] == {str(member): "present"}
    portal.call("POST", f"{path}/attendance", who="committee_member_2", expect=403, status="present")
    portal.call(
        "POST",
        f"{path}/attendance",
        who="committee_member",
        expect=403,
        member_id=member + 1,
        status="absent",
    )
    portal.call("POST", f"{path}/attendance", expect=200, member_id=member + 1, status="excused")
    # Staff name the member: without member_id the body is incomplete (422), not a missing thing.
    missing = portal.call("POST", f"{path}/attendance", expect=422, status="present").get_json()
    assert "member_id" in missing["errors"]
    portal.call("PATCH", path, expect=200, minutes="회의록: 3개 사업 숙의", decisions=["P1을 투표에 올림"])
    public = portal.call("GET", path, who=None, expect=200).get_json()
    assert public["minutes"].startswith("회의록") and public["decisions"] == ["P1을 투표에 올림"]
    assert public["attendance"] == {str(member): "present", str(member + 1): "excused"}


def test_scores_one_per_member_per_project_aggregate_to_0_1(portal, cycle_id, drawn, engine):
    committee, url, _ = drawn
    members = [m["id"] for m in portal.call("GET", f"{url}/members", who=None).get_json()[:2]]
    _seat(portal, url, members[0], "committee_member")
    _seat(portal, url, members[1], "committee_member_2")
    project, other = (
        portal.project(cycle_id, committee["dong_code"]),
        portal.project(cycle_id, committee["dong_code"]),
    )
    foreign_dong = portal.project(cycle_id, portal.dongs()[1])
    portal.call("PUT", f"{url}/scores/{project}", who="committee_member", expect=200, score=90)
    portal.call(
        "PUT", f"{url}/scores/{project}", who="committee_member", expect=200, score=80
    )  # changed, not added
    portal.call("PUT", f"{url}/scores/{project}", who="committee_member_2", expect=200, score=40)
    portal.call("PUT", f"{url}/scores/{other}", who="committee_member_2", expect=200, score=100)
    portal.call("PUT", f"{url}/scores/{foreign_dong}", who="committee_member", expect=422, score=50)
    portal.call("PUT", f"{url}/scores/{project}", who="committee_member", expect=422, score=101)
    portal.call("PUT", f"{url}/scores/{project}", who="staff", expect=403, score=50)
    portal.call("PUT", f"{url}/scores/999999", who="committee_member", expect=404, score=50)

    with tenant_session(engine, portal.tenant.slug) as session:
        assert committee_scores(session, cycle_id) == {project: 0.6, other: 1.0}
    listed = portal.call("GET", f"{url}/scores", who=None, expect=200).get_json()
    by_project = {p["project_id"]: p for p in listed}
    assert (by_project[project]["scores"], by_project[project]["mean"]) == (2, 60.0)
    assert by_project[foreign_dong]["scores"] == 0 and by_project[foreign_dong]["normalised"] is None
    cycle = portal.call("GET", f"/cycles/{cycle_id}/committees/scores", who=None, expect=200).get_json()
    assert cycle == [{"project_id": project, "score": 0.6}, {"project_id": other, "score": 1.0}]


def test_scores_are_frozen_once_voting_opens(portal, cycle_id, drawn, engine):
    from tenants.cycles.models import Cycle

    committee, url, _ = drawn
    member = portal.call("GET", f"{url}/members", who=None).get_json()[0]["id"]
    _seat(portal, url, member, "committee_member")
    project = portal.project(cycle_id, committee["dong_code"])
    with tenant_session(engine, portal.tenant.slug) as session:
        session.get(Cycle, cycle_id).voting_opened_at = func.now()
        session.commit()
    portal.call("PUT", f"{url}/scores/{project}", who="committee_member", expect=409, score=70)


@pytest.mark.parametrize(
    ("method", "suffix", "role", "body"),
    [
        ("POST", "", "resident", {"key": "city_committee"}),
        ("POST", "", "committee_member", {"key": "city_committee"}),
        ("POST", "", None, {"key": "city_committee"}),
        ("POST", "/{c}/lottery", "committee_member", {}),
        ("POST", "/{c}/lottery", "resident", {}),
        ("GET", "/{c}/applications", "resident", None),
        ("GET", "/{c}/applications", "committee_member", None),
        ("POST", "/{c}/applications", "committee_member", {"name": "x", "consent": True}),
        ("POST", "/{c}/applications", "officer", {"name": "x", "consent": True}),
        ("POST", "/{c}/members", "resident", {"name": "x"}),
        ("POST", "/{c}/meetings", "resident", {"held_at": "2027-04-02T19:00:00+09:00"}),
        ("PUT", "/{c}/scores/1", "resident", {"score": 1}),
        ("PUT", "/{c}/scores/1", "tenant_admin", {"score": 1}),
        ("GET", "/{c}/representativeness", "resident", None),
    ],
)
def test_roles_are_enforced(portal, cycle_id, method, suffix, role, body):
    committee = portal.committee(cycle_id, key="city_committee")
    path = f"/cycles/{cycle_id}/committees" + suffix.format(c=committee["id"])
    response = portal.call(method, path, who=role, **(body or {}))
    assert response.status_code == (401 if role is None else 403), response.get_json()


def _audit_actions(engine, slug: str) -> list[str]:
    with session_without_tenant(engine) as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.tenant_slug == slug, AuditEvent.action.like("committee.%"))
                .order_by(AuditEvent.id)
            )
        )


def test_every_write_is_an_audit_event_without_demographics(portal, cycle_id, engine):
    slug = portal.tenant.slug
    before = len(_audit_actions(engine, slug))
    committee = portal.committee(cycle_id, key="city_committee")
    url = f"/cycles/{cycle_id}/committees/{committee['id']}"
    dong = portal.dongs()[0]
    portal.call(
        "POST",
        f"{url}/applications",
        who="resident",
        expect=201,
        name="가",
        consent=True,
        sex="female",
        age=30,
        dong_code=dong,
    )
    portal.apply_on_paper(cycle_id, committee["id"], [("male", 50, dong, None)])
    portal.call("POST", f"{url}/lottery", expect=201, seed="audit seed 1")
    member = portal.call("POST", f"{url}/members", expect=201, name="임명 위원", role="vice_chair").get_json()
    portal.call(
        "PATCH", f"{url}/members/{member['id']}", expect=200, principal=portal.actors["committee_member"]
    )
    meeting = portal.call(
        "POST", f"{url}/meetings", expect=201, held_at="2027-04-02T19:00:00+09:00"
    ).get_json()
    portal.call("PATCH", f"{url}/meetings/{meeting['id']}", expect=200, minutes="회의록")
    portal.call(
        "POST",
        f"{url}/meetings/{meeting['id']}/attendance",
        who="committee_member",
        expect=200,
        status="present",
    )
    project = portal.project(cycle_id, dong)
    portal.call("PUT", f"{url}/scores/{project}", who="committee_member", expect=200, score=50)
    actions = _audit_actions(engine, slug)[before:]
    assert actions == [
        "committee.create",
        "committee.apply",
        "committee.apply",
        "committee.draw",
        "committee.member.appoint",
        "committee.member.update",
        "committee.meeting.schedule",
        "committee.meeting.update",
        "committee.meeting.attendance",
        "committee.score",
    ]
    with session_without_tenant(engine) as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.data).where(
                AuditEvent.tenant_slug == slug, AuditEvent.action.like("committee.%")
            )
        ).all()
    assert not any({"sex", "age"} & set(data) for _, data in events)
    assert all(
        set(data) == {"cycle_id", "applicant_id"} for action, data in events if action == "committee.apply"
    )
