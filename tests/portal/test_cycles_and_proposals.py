"""Cycles from the template, explicit phase changes, proposals through review to the ballot,
and the freeze once voting opens."""

from sqlalchemy import select

from saas.core.audit.models import AuditEvent
from saas.core.tenancy.binding import session_without_tenant


def test_a_cycle_gets_the_template_phases_rules_and_envelopes(new_cycle):
    cycle = new_cycle(template="citywide", region="11710")
    keys = [p["key"] for p in cycle.data["phases"]]
    assert keys[0] == "planning_input" and keys[-1] == "execution_monitoring"
    assert cycle.data["status"] == "draft" and cycle.data["ballot"]["type"] == "knapsack"
    scopes = {e["scope"] for e in cycle.data["envelopes"]}
    assert scopes == {"citywide", "district", "dong"}
    dongs = [e for e in cycle.data["envelopes"] if e["scope"] == "dong"]
    assert len(dongs) == 27  # 송파구 has 27 administrative dongs
    assert sum(e["budget"] for e in cycle.data["envelopes"]) <= 1_000_000_000
    phases = cycle.data["phases"]
    assert all(a["ends_on"] < b["starts_on"] for a, b in zip(phases, phases[1:], strict=False))
    hangul = [e["name_en"] for e in dongs if any("가" <= char <= "힣" for char in e["name_en"])]
    assert hangul == [], "a dong's envelope is named in English"


def test_ballot_instructions_are_derived_from_the_rules(new_cycle):
    cycle = new_cycle(template="citywide")
    staff = cycle.tenant.auth("staff")
    shown = cycle.client.get(f"{cycle.url}/ballot").get_json()["rules"]["instructions"]
    assert "at least 50 %" in shown["en"] and "50 %" in shown["ko"]
    rules = {**cycle.data["ballot"], "min_spend_share": 0.3}
    changed = cycle.client.put(f"{cycle.url}/ballot-rules", json={"ballot": rules}, headers=staff)
    assert changed.status_code == 200, changed.get_json()
    for instructions in (
        changed.get_json()["ballot"]["instructions"],
        cycle.client.get(f"{cycle.url}/ballot").get_json()["rules"]["instructions"],
    ):
        assert "at least 30 %" in instructions["en"] and "half" not in instructions["en"]
        assert "30 %" in instructions["ko"] and "절반" not in instructions["ko"]


def test_phases_open_one_after_another_and_are_audited(new_cycle, engine):
    cycle = new_cycle()
    skip = cycle.client.post(f"{cycle.url}/phase", json={"to": "voting"}, headers=cycle.tenant.auth("staff"))
    assert skip.status_code == 409 and "next phase" in skip.get_json()["message"]
    cycle.advance("planning_input")
    cycle.advance("proposal_intake")
    with session_without_tenant(engine) as session:
        moves = session.scalars(
            select(AuditEvent.data).where(
                AuditEvent.tenant_slug == cycle.tenant.slug, AuditEvent.action == "cycle.phase"
            )
        ).all()
    assert [m["to"] for m in moves] == ["planning_input", "proposal_intake"]


def test_residents_cannot_change_phases(new_cycle):
    cycle = new_cycle()
    response = cycle.client.post(
        f"{cycle.url}/phase", json={"to": "planning_input"}, headers=cycle.tenant.auth("resident")
    )
    assert response.status_code == 403


def test_a_proposal_goes_from_intake_through_review_to_the_ballot(new_cycle):
    cycle = new_cycle()
    client, auth = cycle.client, cycle.tenant.auth
    too_early = client.post(
        f"{cycle.url}/proposals",
        headers=auth("resident"),
        json={"title": "놀이터", "description": "그네", "category_key": cycle.category},
    )
    assert too_early.status_code == 409
    cycle.advance_to("proposal_intake")
    online = client.post(
        f"{cycle.url}/proposals",
        headers=auth("resident"),
        json={
            "title": "놀이터 그늘막",
            "description": "여름에 그늘이 필요합니다",
            "category_key": cycle.category,
            "estimated_cost": 30_000_000,
        },
    )
    assert online.status_code == 201 and online.get_json()["channel"] == "online"
    paper = client.post(
        f"{cycle.url}/proposals",
        headers=auth("staff"),
        json={
            "title": "경로당 보수",
            "description": "지붕 수리",
            "category_key": cycle.category,
            "channel": "paper",
            "proposer_name": "홍길동",
        },
    )
    assert paper.status_code == 201 and paper.get_json()["channel"] == "paper"
    resident_paper = client.post(
        f"{cycle.url}/proposals",
        headers=auth("resident"),
        json={"title": "x", "description": "y", "category_key": cycle.category, "channel": "paper"},
    )
    assert resident_paper.status_code == 422
    proposal_id = online.get_json()["id"]
    for _ in range(2):  # supporting twice counts once
        supported = client.post(f"{cycle.url}/proposals/{proposal_id}/supports", headers=auth("resident"))
    assert supported.get_json()["supports"] == 1

    cycle.advance("feasibility_review")
    review = client.put(
        f"{cycle.url}/proposals/{proposal_id}/review",
        headers=auth("staff"),
        json={"legal_ok": True, "cost_estimate": 35_000_000, "feasible": True, "reason": "설치 가능"},
    )
    assert review.status_code == 200 and review.get_json()["feasible"] is True
    response = client.post(
        f"{cycle.url}/projects",
        headers=auth("staff"),
        json={"envelope": "citywide", "code": "P1", "proposal_id": proposal_id},
    )
    assert response.status_code == 201
    project = response.get_json()
    assert project["cost"] == 35_000_000 and project["title_ko"] == "놀이터 그늘막"
    listed = client.get(f"{cycle.url}/proposals/{proposal_id}").get_json()
    assert listed["status"] == "shortlisted"


def test_moderation_hides_a_proposal_from_the_public_with_a_reason(new_cycle):
    cycle = new_cycle()
    cycle.advance_to("proposal_intake")
    client, auth = cycle.client, cycle.tenant.auth
    proposal = client.post(
        f"{cycle.url}/proposals",
        headers=auth("resident"),
        json={"title": "광고", "description": "스팸", "category_key": cycle.category},
    ).get_json()
    hidden = client.post(
        f"{cycle.url}/proposals/{proposal['id']}/moderation",
        headers=auth("staff"),
        json={"hidden_reason": "광고성 게시물"},
    )
    assert hidden.get_json()["hidden_reason"] == "광고성 게시물"
    assert client.get(f"{cycle.url}/proposals/{proposal['id']}").status_code == 404
    assert proposal["id"] not in [p["id"] for p in client.get(f"{cycle.url}/proposals").get_json()]
    assert client.get(f"{cycle.url}/proposals/{proposal['id']}", headers=auth("staff")).status_code == 200


def test_once_voting_opens_rules_envelopes_and_projects_are_frozen(new_cycle):
    cycle = new_cycle()
    client, auth = cycle.client, cycle.tenant.auth
    cycle.add_project("A", 100_000_000)
    cycle.advance_to("voting")
    assert cycle.data["is_frozen"] is True
    envelope = cycle.envelope("citywide")
    attempts = [
        client.post(
            f"{cycle.url}/projects",
            headers=auth("staff"),
            json={
                "envelope": "citywide",
                "code": "B",
                "title_ko": "새 사업",
                "category_key": cycle.category,
                "cost": 1,
            },
        ),
        client.patch(f"{cycle.url}/envelopes/{envelope['id']}", headers=auth("staff"), json={"budget": 1}),
        client.put(f"{cycle.url}/ballot-rules", headers=auth("staff"), json={"ballot": cycle.data["ballot"]}),
    ]
    project_id = client.get(f"{cycle.url}/projects").get_json()[0]["id"]
    attempts.append(client.delete(f"{cycle.url}/projects/{project_id}", headers=auth("staff")))
    for response in attempts:
        assert response.status_code == 409
        assert "can no longer change" in response.get_json()["message"]


def test_voting_cannot_open_with_an_empty_ballot(new_cycle):
    cycle = new_cycle()
    cycle.advance_to("committee_deliberation")
    response = cycle.client.post(
        f"{cycle.url}/phase", json={"to": "voting"}, headers=cycle.tenant.auth("staff")
    )
    assert response.status_code == 409


def test_residents_rate_spending_priorities_in_the_planning_phase(new_cycle):
    cycle = new_cycle(template="citywide")
    client, auth = cycle.client, cycle.tenant.auth
    keys = [c["key"] for c in client.get(f"{cycle.tenant.api}/categories").get_json()]
    early = client.put(
        f"{cycle.url}/planning-ratings", headers=auth("resident"), json={"ratings": {keys[0]: 5}}
    )
    assert early.status_code == 409
    cycle.advance("planning_input")
    client.put(f"{cycle.url}/planning-ratings", headers=auth("resident"), json={"ratings": {keys[0]: 2}})
    again = client.put(
        f"{cycle.url}/planning-ratings", headers=auth("resident"), json={"ratings": {keys[0]: 5, keys[1]: 3}}
    )
    assert again.status_code == 200
    summary = {row["category_key"]: row for row in client.get(f"{cycle.url}/planning-ratings").get_json()}
    assert summary[keys[0]]["respondents"] == 1 and summary[keys[0]]["mean"] == 5  # replaced, not added
    assert summary[keys[1]]["distribution"] == [0, 0, 1, 0, 0]
    unknown = client.put(
        f"{cycle.url}/planning-ratings", headers=auth("resident"), json={"ratings": {"zzz": 1}}
    )
    assert unknown.status_code == 422
