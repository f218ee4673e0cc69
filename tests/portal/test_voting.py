"""Voting on every channel: rules, one ballot per person across channels (also under
concurrency), on-site check-in, paper double entry and reconciliation."""

import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, literal, select, text, update

from saas.core.audit import services as audit_services
from saas.core.tenancy.binding import tenant_session
from tenants.cycles.models import Cycle
from tenants.proposals.models import Project
from tenants.voting.models import Ballot, VoterMark

DONG = "4111156000"  # 수원시 장안구 파장동
ADULT = {"basis": "resident", "birth_year": 1980, "district_code": DONG}


@pytest.fixture
def approval_cycle(new_cycle):
    """neighbourhood template: approval ballot, choose up to 3; four projects in one dong."""
    cycle = new_cycle(template="neighbourhood", region="41110")
    cycle.projects = [
        cycle.add_project(code, cost, envelope=f"dong-{DONG}")
        for code, cost in (("A", 10_000_000), ("B", 20_000_000), ("C", 5_000_000), ("D", 7_000_000))
    ]
    cycle.advance_to("voting")
    return cycle


def _vote(cycle, choices, role="resident", **voter):
    body = {**ADULT, **voter, "choices": [{"project_id": p} if isinstance(p, int) else p for p in choices]}
    return cycle.client.post(f"{cycle.url}/votes", json=body, headers=cycle.tenant.auth(role))


def test_an_online_ballot_is_accepted_once(approval_cycle):
    ids = [p["id"] for p in approval_cycle.projects]
    first = _vote(approval_cycle, ids[:2])
    assert first.status_code == 201 and first.get_json()["channel"] == "online"
    again = _vote(approval_cycle, ids[2:3])
    assert again.status_code == 409 and "already voted" in again.get_json()["message"]


@pytest.mark.parametrize(
    "choices, rule",
    [
        (lambda ids: ids, "k: choose at most 3"),
        (lambda ids: [ids[0], ids[0]], "duplicate"),
        (lambda ids: [{"project_id": ids[0], "value": 3}], "approval ballots take no points"),
        (lambda ids: [999_999], "not on your ballot"),
        (lambda ids: [], "empty"),
    ],
)
def test_invalid_ballots_say_which_rule_failed(approval_cycle, choices, rule):
    ids = [p["id"] for p in approval_cycle.projects]
    response = _vote(approval_cycle, choices(ids))
    assert response.status_code == 422
    assert rule in str(response.get_json())


def test_eligibility_age_is_checked(approval_cycle):
    ids = [p["id"] for p in approval_cycle.projects]
    response = _vote(approval_cycle, ids[:1], birth_year=2020)
    assert response.status_code == 422 and "at least 16" in response.get_json()["message"]


def test_knapsack_ballots_stay_within_the_envelope_and_spend_the_minimum(new_cycle):
    cycle = new_cycle(template="citywide")
    budget = cycle.envelope("citywide")["budget"]  # 400,000,000
    big = cycle.add_project("BIG", budget - 1)
    half = cycle.add_project("HALF", budget // 2)
    small = cycle.add_project("SMALL", budget // 10)
    cycle.advance_to("voting")
    over = _vote(cycle, [big["id"], half["id"]])
    assert over.status_code == 422 and "over the budget" in over.get_json()["message"]
    too_little = _vote(cycle, [small["id"]])
    assert too_little.status_code == 422 and "at least" in too_little.get_json()["message"]
    assert _vote(cycle, [half["id"], small["id"]]).status_code == 201


def test_cumulative_and_ranked_ballots(new_cycle):
    youth = new_cycle(template="youth")
    a, b = youth.add_project("A", 1_000_000, "youth"), youth.add_project("B", 2_000_000, "youth")
    youth.advance_to("voting")
    too_many = _vote(
        youth,
        [{"project_id": a["id"], "value": 5}, {"project_id": b["id"], "value": 6}],
        birth_year=youth.data["fiscal_year"] - 18,
    )
    assert too_many.status_code == 422 and "max_points_per_project" in str(too_many.get_json())
    ok = _vote(
        youth,
        [{"project_id": a["id"], "value": 5}, {"project_id": b["id"], "value": 4}],
        birth_year=youth.data["fiscal_year"] - 18,
    )
    assert ok.status_code == 201

    ranked = new_cycle(template="neighbourhood", region="41110")
    rules = {**ranked.data["ballot"], "type": "ranked", "max_rank": 2}
    rules.pop("k")
    assert (
        ranked.client.put(
            f"{ranked.url}/ballot-rules", json={"ballot": rules}, headers=ranked.tenant.auth("staff")
        ).status_code
        == 200
    )
    x, y = (
        ranked.add_project("X", 1_000_000, f"dong-{DONG}"),
        ranked.add_project("Y", 1_000_000, f"dong-{DONG}"),
    )
    ranked.advance_to("voting")
    gap = _vote(ranked, [{"project_id": x["id"], "value": 1}, {"project_id": y["id"], "value": 3}])
    assert gap.status_code == 422 and "ranks" in str(gap.get_json())
    assert (
        _vote(ranked, [{"project_id": x["id"], "value": 2}, {"project_id": y["id"], "value": 1}]).status_code
        == 201
    )


def test_a_person_who_voted_online_cannot_be_checked_in_and_vice_versa(approval_cycle):
    client, auth, url = approval_cycle.client, approval_cycle.tenant.auth, approval_cycle.url
    ids = [p["id"] for p in approval_cycle.projects]
    card = client.get(f"{url}/voter-card", headers=auth("resident")).get_json()["voter_card"]
    assert _vote(approval_cycle, ids[:1]).status_code == 201
    check_in = client.post(
        f"{url}/check-ins",
        headers=auth("officer"),
        json={**ADULT, "voter_card": card, "channel": "onsite", "choices": [{"project_id": ids[0]}]},
    )
    assert check_in.status_code == 409 and "(online)" in check_in.get_json()["message"]

    walk_in = {**ADULT, "identity_document": "800101-1234567", "channel": "paper", "paper_ballot": 1}
    assert client.post(f"{url}/check-ins", headers=auth("officer"), json=walk_in).status_code == 201
    del walk_in["paper_ballot"]
    twice = client.post(
        f"{url}/check-ins",
        headers=auth("officer"),
        json={**walk_in, "channel": "onsite", "choices": [{"project_id": ids[1]}]},
    )
    assert twice.status_code == 409 and "(paper)" in twice.get_json()["message"]


def test_twenty_concurrent_attempts_by_one_person_leave_exactly_one_ballot(approval_cycle, app, engine):
    tenant, url = approval_cycle.tenant, approval_cycle.url
    ids = [p["id"] for p in approval_cycle.projects]
    card = approval_cycle.client.get(f"{url}/voter-card", headers=tenant.auth("resident")).get_json()[
        "voter_card"
    ]

    def attempt(i: int) -> int:
        client = app.test_client()
        if i % 2:
            return client.post(
                f"{url}/votes",
                headers=tenant.auth("resident"),
                json={**ADULT, "choices": [{"project_id": ids[i % 4]}]},
            ).status_code
        return client.post(
            f"{url}/check-ins",
            headers=tenant.auth("officer"),
            json={**ADULT, "voter_card": card, "channel": "onsite", "choices": [{"project_id": ids[i % 4]}]},
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert sorted(statuses) == [201] + [409] * 19
    with tenant_session(engine, tenant.slug) as session:
        cycle_id = approval_cycle.id
        assert (
            session.scalar(select(func.count()).select_from(Ballot).where(Ballot.cycle_id == cycle_id)) == 1
        )
        assert (
            session.scalar(select(func.count()).select_from(VoterMark).where(VoterMark.cycle_id == cycle_id))
            == 1
        )


def test_paper_batches_count_only_when_two_entries_agree(approval_cycle, person_auth, engine):
    client, url = approval_cycle.client, approval_cycle.url
    tenant = approval_cycle.tenant
    ids = [p["id"] for p in approval_cycle.projects]
    for number in (101, 102, 103):  # each handed to a person checked in for paper
        issued = client.post(
            f"{url}/check-ins",
            headers=tenant.auth("officer"),
            json={
                **ADULT,
                "identity_document": f"PAPER-{number}",
                "channel": "paper",
                "paper_ballot": number,
            },
        )
        assert issued.status_code == 201 and issued.get_json()["paper_ballot"] == number
    kim, lee = person_auth(tenant, "kim"), person_auth(tenant, "lee", "tenant_admin")
    batch = client.post(
        f"{url}/paper-batches",
        headers=tenant.auth("staff"),
        json={"number": 1, "first_ballot": 101, "last_ballot": 103},
    ).get_json()
    first = [
        {"ballot_number": 101, "choices": [{"project_id": ids[0]}]},
        {"ballot_number": 102, "choices": [{"project_id": ids[1]}, {"project_id": ids[2]}]},
        {"ballot_number": 103, "choices": [{"project_id": i} for i in ids]},
    ]  # 4 marks: spoilt
    entries = f"{url}/paper-batches/{batch['id']}/entries"
    assert client.put(f"{entries}/1", json={"entries": first}, headers=kim).status_code == 200
    same_clerk = client.put(f"{entries}/2", json={"entries": first}, headers=kim)
    assert same_clerk.status_code == 409 and "two different people" in same_clerk.get_json()["message"]

    typo = [dict(e) for e in first]
    typo[1] = {"ballot_number": 102, "choices": [{"project_id": ids[1]}, {"project_id": ids[3]}]}
    listed = client.put(f"{entries}/2", json={"entries": typo}, headers=lee).get_json()
    assert [m["ballot_number"] for m in listed["mismatches"]] == [102]
    refused = client.post(
        f"{url}/paper-batches/{batch['id']}/reconcile", headers=tenant.auth("staff")
    ).get_json()
    assert refused["reconciled"] is False and refused["counted"] == 0

    client.put(f"{entries}/2", json={"entries": first}, headers=lee)
    done = client.post(
        f"{url}/paper-batches/{batch['id']}/reconcile", headers=tenant.auth("staff")
    ).get_json()
    assert done["reconciled"] is True and done["counted"] == 2
    assert [i["ballot_number"] for i in done["invalid"]] == [103]
    with tenant_session(engine, tenant.slug) as session:
        paper = session.scalars(select(Ballot.paper_number).where(Ballot.channel == "paper")).all()
    assert sorted(paper) == [101, 102]


def test_a_ballot_is_stored_in_its_own_tenant_only(new_cycle, engine):
    """A check-in reads its cycle's ballot sheet (kept per process) and writes in a single
    statement on an autocommit connection: both stay in the tenant's schema. Two tenants whose
    cycles and projects share ids; the second has one project more."""
    from saas import regions

    cycles = []
    # Two municipalities (one portal each): 수원시 and 송파구, each a dong of its own.
    for region, dong, extra in (("41110", DONG, ()), ("11710", regions.dongs("11710")[0].adm_code10, ("B",))):
        cycle = new_cycle(template="neighbourhood", region=region)
        cycle.dong = dong
        cycle.projects = [
            cycle.add_project(code, 10_000_000, envelope=f"dong-{dong}") for code in ("A", *extra)
        ]
        cycle.advance_to("voting")
        cycles.append(cycle)
    first, second = cycles
    assert first.id == second.id  # the same cycle id in each schema
    assert first.projects[0]["id"] == second.projects[0]["id"]
    response = first.client.post(
        f"{first.url}/check-ins",
        headers=first.tenant.auth("officer"),
        json=_walk_in(first, "800101-1234567", first.projects[0]["id"]),
    )
    assert response.status_code == 201, response.get_json()

    def stored(cycle):
        with tenant_session(engine, cycle.tenant.slug) as session:
            return (
                session.scalar(select(func.count()).select_from(Ballot)),
                session.scalar(select(func.count()).select_from(VoterMark)),
            )

    assert stored(first) == (1, 1)
    assert stored(second) == (0, 0)
    # The same person on the other tenant's roll: a roll of its own, so not "already voted";
    # and its ballot is checked against its own sheet, where project B exists.
    again = second.client.post(
        f"{second.url}/check-ins",
        headers=second.tenant.auth("officer"),
        json=_walk_in(second, "800101-1234567", second.projects[1]["id"]),
    )
    assert again.status_code == 201, again.get_json()
    assert stored(first) == (1, 1) and stored(second) == (1, 1)
    elsewhere = first.client.post(
        f"{first.url}/check-ins",
        headers=first.tenant.auth("officer"),
        json=_walk_in(first, "800101-7654321", second.projects[1]["id"]),
    )
    assert elsewhere.status_code == 422 and "not on your ballot" in elsewhere.get_json()["message"]


def _walk_in(cycle, document: str, project_id: int) -> dict:
    choices = [{"project_id": project_id}]
    where = {"district_code": getattr(cycle, "dong", DONG)}
    return {**ADULT, **where, "identity_document": document, "channel": "onsite", "choices": choices}


def _wait_for_lock_waiters(engine, count: int, request: Future) -> None:
    """Until `count` database sessions wait for a lock; fails if `request` ends first."""
    deadline = time.monotonic() + 20
    with engine.connect() as connection:
        while time.monotonic() < deadline and not request.done():
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar()
            connection.rollback()
            if waiting >= count:
                return
            time.sleep(0.02)
    finished = request.result().status_code if request.done() else "still running"
    raise AssertionError(f"fewer than {count} sessions came to wait on a lock (the request: {finished})")


def test_no_ballot_lands_after_voting_closes(approval_cycle, app, engine):
    """A check-in checks that voting is open in the statement that stores the ballot, and
    closing voting waits for ballots under way: a ballot racing the close either lands before
    it or is refused after it."""
    cycle, tenant = approval_cycle, approval_cycle.tenant
    ids = [p["id"] for p in cycle.projects]
    keys = [p["key"] for p in cycle.data["phases"]]
    after_voting = keys[keys.index("voting") + 1]
    # A first ballot: this process now keeps the cycle's ballot sheet, read while in voting.
    first = cycle.client.post(
        f"{cycle.url}/check-ins",
        headers=tenant.auth("officer"),
        json=_walk_in(cycle, "800101-1000001", ids[0]),
    )
    assert first.status_code == 201

    # Hold the audit chain's lock, so the phase change stops inside its transaction, after
    # it has taken its locks but before it commits.
    unlock = text("SELECT pg_advisory_unlock(:key)")
    with engine.connect() as holder, ThreadPoolExecutor(max_workers=2) as pool:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": audit_services._CHAIN_LOCK_KEY})
        try:
            closing = pool.submit(
                lambda: app.test_client().post(
                    f"{cycle.url}/phase", json={"to": after_voting}, headers=tenant.auth("staff")
                )
            )
            _wait_for_lock_waiters(engine, 1, closing)
            racing = pool.submit(
                lambda: app.test_client().post(
                    f"{cycle.url}/check-ins",
                    headers=tenant.auth("officer"),
                    json=_walk_in(cycle, "800101-1000002", ids[1]),
                )
            )
            _wait_for_lock_waiters(engine, 2, racing)  # the ballot waits for the close
        finally:  # let the phase change go on, whatever happened
            holder.execute(unlock, {"key": audit_services._CHAIN_LOCK_KEY})
            holder.commit()
        assert closing.result().status_code == 200
        refused = racing.result()
    assert refused.status_code == 409, refused.get_json()
    assert "voting phase" in refused.get_json()["message"]
    with tenant_session(engine, tenant.slug) as session:
        assert session.scalar(select(func.count()).select_from(Ballot)) == 1
        assert session.scalar(select(func.count()).select_from(VoterMark)) == 1


def test_a_kept_ballot_sheet_is_read_again_when_the_cycle_is_not_that_voting(approval_cycle, engine):
    """Ballot sheets are kept per process while a cycle is in voting. Should the cycle no
    longer be the one whose sheet was kept (the same schema and id, made anew: here its
    project list and opening changed behind the API's back), the write finds out and the
    ballot is checked against the sheet read afresh."""
    cycle, tenant = approval_cycle, approval_cycle.tenant
    ids = [p["id"] for p in cycle.projects]
    assert (
        cycle.client.post(
            f"{cycle.url}/check-ins",
            headers=tenant.auth("officer"),
            json=_walk_in(cycle, "800101-2000001", ids[0]),
        ).status_code
        == 201
    )
    with tenant_session(engine, tenant.slug) as session:
        session.execute(update(Cycle).where(Cycle.id == cycle.id).values(voting_opened_at=func.now()))
        new_project = session.scalar(
            insert(Project)
            .from_select(
                [c for c in Project.__table__.c.keys() if c not in ("id", "code")] + ["code"],
                select(
                    *[c for c in Project.__table__.c if c.key not in ("id", "code")], literal("NEW")
                ).where(Project.id == ids[0]),
            )
            .returning(Project.id)
        )
        session.commit()
    response = cycle.client.post(
        f"{cycle.url}/check-ins",
        headers=tenant.auth("officer"),
        json=_walk_in(cycle, "800101-2000002", new_project),
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "again",
    [
        "8001011234567",
        " 800101 1234567 ",
        "800101 - 1234567",
        "８００１０１－１２３４５６７",
        "800101\u22121234567",  # a minus sign
        "800101\u20131234567",  # an en dash
    ],
)
def test_an_identity_document_is_one_voter_whatever_its_spaces_and_hyphens(approval_cycle, again):
    ids = [p["id"] for p in approval_cycle.projects]
    client, auth, url = approval_cycle.client, approval_cycle.tenant.auth, approval_cycle.url
    first = client.post(
        f"{url}/check-ins", headers=auth("officer"), json=_walk_in(approval_cycle, "800101-1234567", ids[0])
    )
    assert first.status_code == 201
    twice = client.post(
        f"{url}/check-ins", headers=auth("officer"), json=_walk_in(approval_cycle, again, ids[1])
    )
    assert twice.status_code == 409 and "already voted" in twice.get_json()["message"]


def test_an_identity_document_is_one_voter_whatever_its_letter_case(approval_cycle):
    ids = [p["id"] for p in approval_cycle.projects]
    client, auth, url = approval_cycle.client, approval_cycle.tenant.auth, approval_cycle.url
    passport = _walk_in(approval_cycle, "m12345678", ids[0])
    assert client.post(f"{url}/check-ins", headers=auth("officer"), json=passport).status_code == 201
    again = client.post(
        f"{url}/check-ins", headers=auth("officer"), json=_walk_in(approval_cycle, "M-1234-5678", ids[1])
    )
    assert again.status_code == 409 and "already voted" in again.get_json()["message"]
    other = _walk_in(approval_cycle, "M12345679", ids[1])  # another document is another voter
    assert client.post(f"{url}/check-ins", headers=auth("officer"), json=other).status_code == 201


def test_an_identity_document_of_spaces_and_hyphens_is_refused(approval_cycle):
    ids = [p["id"] for p in approval_cycle.projects]
    response = approval_cycle.client.post(
        f"{approval_cycle.url}/check-ins",
        headers=approval_cycle.tenant.auth("officer"),
        json=_walk_in(approval_cycle, "12 - - - 34", ids[0]),
    )
    assert response.status_code == 422 and "identity_document" in response.get_json()["errors"]["json"]


def test_two_tokens_issued_to_one_person_are_one_voter(approval_cycle, person_auth):
    ids = [p["id"] for p in approval_cycle.projects]
    client, url = approval_cycle.client, approval_cycle.url
    first, second = (person_auth(approval_cycle.tenant, "kim", "resident") for _ in range(2))
    vote = {**ADULT, "choices": [{"project_id": ids[0]}]}
    assert client.post(f"{url}/votes", json=vote, headers=first).status_code == 201
    again = client.post(f"{url}/votes", json=vote, headers=second)
    assert again.status_code == 409 and "already voted" in again.get_json()["message"]
    other = person_auth(approval_cycle.tenant, "lee", "resident")
    assert client.post(f"{url}/votes", json=vote, headers=other).status_code == 201
