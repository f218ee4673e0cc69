"""Paper ballots: issued to a person at a check-in that strikes them off the roll, entered
twice by two different people, counted once per issued number, and never after the count
(also when a reconciliation races the count)."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from saas.core.audit import services as audit_services
from saas.core.tenancy.binding import tenant_session
from tenants.voting.models import Ballot, PaperBallot, VoterMark

DONG = "4111156000"  # 수원시 장안구 파장동
OTHER_DONG = "4111156600"  # 수원시 장안구 율천동: another dong of the same portal
ADULT = {"basis": "resident", "birth_year": 1980, "district_code": DONG}


@pytest.fixture
def paper_cycle(new_cycle):
    """neighbourhood template (approval, up to 3); three projects in one dong, one in another."""
    cycle = new_cycle(template="neighbourhood", region="41110")
    cycle.projects = [cycle.add_project(code, 5_000_000, envelope=f"dong-{DONG}") for code in ("A", "B", "C")]
    cycle.elsewhere = cycle.add_project("Z", 5_000_000, envelope=f"dong-{OTHER_DONG}")
    cycle.advance_to("voting")
    return cycle


def _check_in(cycle, document: str, number: int | None, **voter):
    body = {**ADULT, **voter, "identity_document": document, "channel": "paper"}
    if number is not None:
        body["paper_ballot"] = number
    return cycle.client.post(f"{cycle.url}/check-ins", json=body, headers=cycle.tenant.auth("officer"))


def _issue(cycle, *numbers: int) -> None:
    for number in numbers:
        response = _check_in(cycle, f"PAPER-{cycle.id}-{number}", number)
        assert response.status_code == 201, response.get_json()


def _open(cycle, first: int, last: int, number: int = 1):
    return cycle.client.post(
        f"{cycle.url}/paper-batches",
        json={"number": number, "first_ballot": first, "last_ballot": last},
        headers=cycle.tenant.auth("staff"),
    )


def _entries(cycle, numbers, project=None) -> list[dict]:
    project = project or cycle.projects[0]
    return [{"ballot_number": n, "choices": [{"project_id": project["id"]}]} for n in numbers]


def _enter(cycle, batch_id: int, round_: int, entries: list[dict], headers: dict):
    return cycle.client.put(
        f"{cycle.url}/paper-batches/{batch_id}/entries/{round_}", json={"entries": entries}, headers=headers
    )


def _reconcile(client, cycle, batch_id: int):
    return client.post(f"{cycle.url}/paper-batches/{batch_id}/reconcile", headers=cycle.tenant.auth("staff"))


def _entered_twice(cycle, person_auth, first: int, last: int, entries: list[dict] | None = None) -> int:
    """A batch `first`..`last` opened and entered alike by two different people; its id."""
    opened = _open(cycle, first, last)
    assert opened.status_code == 201, opened.get_json()
    batch = opened.get_json()["id"]
    entries = entries or _entries(cycle, range(first, last + 1))
    for round_, name in ((1, "kim"), (2, "lee")):
        entered = _enter(cycle, batch, round_, entries, person_auth(cycle.tenant, name))
        assert entered.status_code == 200, entered.get_json()
    return batch


def _paper_ballots(engine, cycle) -> list[int]:
    with tenant_session(engine, cycle.tenant.slug) as session:
        return sorted(
            session.scalars(
                select(Ballot.paper_number).where(Ballot.cycle_id == cycle.id, Ballot.channel == "paper")
            )
        )


# Issued at a check-in -------------------------------------------------------------------------


def test_a_batch_counts_only_the_ballots_issued_at_paper_check_ins(paper_cycle, person_auth, engine):
    """A box stuffed with numbers nobody was handed: those ballots are named and not counted."""
    _issue(paper_cycle, 101, 103)
    batch = _entered_twice(paper_cycle, person_auth, 101, 105)
    done = _reconcile(paper_cycle.client, paper_cycle, batch).get_json()
    assert done["reconciled"] is True and done["counted"] == 2
    refused = {i["ballot_number"]: i["reason"] for i in done["invalid"]}
    assert sorted(refused) == [102, 104, 105]
    assert refused[104] == "Ballot 104 was never issued at a paper check-in."
    assert _paper_ballots(engine, paper_cycle) == [101, 103]


def test_a_batch_of_ballots_nobody_was_issued_counts_none(paper_cycle, person_auth, engine):
    batch = _entered_twice(paper_cycle, person_auth, 1, 3)
    done = _reconcile(paper_cycle.client, paper_cycle, batch).get_json()
    assert done["counted"] == 0 and [i["ballot_number"] for i in done["invalid"]] == [1, 2, 3]
    assert _paper_ballots(engine, paper_cycle) == []


def test_a_paper_check_in_records_the_ballot_handed_out(paper_cycle):
    missing = _check_in(paper_cycle, "PAPER-NONE", None)
    assert missing.status_code == 422 and "paper_ballot" in missing.get_json()["errors"]["json"]
    onsite = paper_cycle.client.post(
        f"{paper_cycle.url}/check-ins",
        headers=paper_cycle.tenant.auth("officer"),
        json={
            **ADULT,
            "identity_document": "ONSITE-1",
            "channel": "onsite",
            "choices": [{"project_id": paper_cycle.projects[0]["id"]}],
            "paper_ballot": 7,
        },
    )
    assert onsite.status_code == 422 and "paper_ballot" in onsite.get_json()["errors"]["json"]


def test_a_ballot_number_is_issued_once_and_a_refused_issue_strikes_no_one_off(paper_cycle, engine):
    assert _check_in(paper_cycle, "PAPER-KIM", 101).status_code == 201
    again = _check_in(paper_cycle, "PAPER-LEE", 101)
    assert again.status_code == 409
    assert "Paper ballot 101 was already handed out" in again.get_json()["message"]
    # Lee was not struck off: handed another ballot, Lee checks in.
    assert _check_in(paper_cycle, "PAPER-LEE", 102).status_code == 201
    with tenant_session(engine, paper_cycle.tenant.slug) as session:
        marks = session.scalar(
            select(func.count()).select_from(VoterMark).where(VoterMark.channel == "paper")
        )
        issued = session.scalars(select(PaperBallot.number).order_by(PaperBallot.number)).all()
    assert marks == 2 and issued == [101, 102]


def test_a_person_checked_in_for_paper_cannot_vote_online_and_gets_no_second_paper_ballot(
    paper_cycle, engine
):
    card = paper_cycle.client.get(
        f"{paper_cycle.url}/voter-card", headers=paper_cycle.tenant.auth("resident")
    )
    voter_card = card.get_json()["voter_card"]
    first = paper_cycle.client.post(
        f"{paper_cycle.url}/check-ins",
        headers=paper_cycle.tenant.auth("officer"),
        json={**ADULT, "voter_card": voter_card, "channel": "paper", "paper_ballot": 5},
    )
    assert first.status_code == 201
    online = paper_cycle.client.post(
        f"{paper_cycle.url}/votes",
        headers=paper_cycle.tenant.auth("resident"),
        json={**ADULT, "choices": [{"project_id": paper_cycle.projects[0]["id"]}]},
    )
    assert online.status_code == 409 and "(paper)" in online.get_json()["message"]
    second = paper_cycle.client.post(
        f"{paper_cycle.url}/check-ins",
        headers=paper_cycle.tenant.auth("officer"),
        json={**ADULT, "voter_card": voter_card, "channel": "paper", "paper_ballot": 6},
    )
    assert second.status_code == 409 and "already voted" in second.get_json()["message"]
    with tenant_session(engine, paper_cycle.tenant.slug) as session:
        # The refused check-in issued nothing: ballot 6 can never be counted.
        assert session.scalars(select(PaperBallot.number)).all() == [5]


def test_a_paper_ballot_counts_only_in_the_envelopes_of_its_voters_dong(paper_cycle, person_auth, engine):
    _issue(paper_cycle, 1)
    entries = _entries(paper_cycle, [1], project=paper_cycle.elsewhere)  # another dong's project
    batch = _entered_twice(paper_cycle, person_auth, 1, 1, entries)
    done = _reconcile(paper_cycle.client, paper_cycle, batch).get_json()
    assert done["counted"] == 0
    assert done["invalid"] == [
        {"ballot_number": 1, "reason": f"Project {paper_cycle.elsewhere['id']} is not on your ballot."}
    ]
    assert _paper_ballots(engine, paper_cycle) == []


def test_no_ballot_number_is_counted_in_two_batches_even_when_opened_at_once(paper_cycle, app, engine):
    """Openings are serialised on the cycle: of two overlapping batches opened at the same
    moment, the second sees the first and is refused."""
    _issue(paper_cycle, 1, 2, 3)
    with _audit_chain_held(engine) as release, ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(_open, _in_thread(paper_cycle, app), 1, 3, 1)
        _wait_for_lock_waiters(engine, 1, first)  # stopped in its transaction, at the audit
        second = pool.submit(_open, _in_thread(paper_cycle, app), 2, 5, 2)
        _wait_for_lock_waiters(engine, 2, second)
        release()
        assert first.result().status_code == 201
        refused = second.result()
    assert refused.status_code == 409 and "overlap batch 1" in refused.get_json()["message"]


# Two people, not two credentials ------------------------------------------------------------


def test_one_person_holding_a_staff_and_a_tenant_admin_token_cannot_enter_both_rounds(
    paper_cycle, person_auth, engine
):
    _issue(paper_cycle, 1, 2)
    batch = _open(paper_cycle, 1, 2).get_json()["id"]
    entries = _entries(paper_cycle, [1, 2])
    as_staff = person_auth(paper_cycle.tenant, "kim", "staff")
    as_admin = person_auth(paper_cycle.tenant, "kim", "tenant_admin")
    assert _enter(paper_cycle, batch, 1, entries, as_staff).status_code == 200
    second = _enter(paper_cycle, batch, 2, entries, as_admin)
    assert second.status_code == 409
    message = second.get_json()["message"]
    assert "two different people" in message and "two credentials of one account are one person" in message
    refused = _reconcile(paper_cycle.client, paper_cycle, batch).get_json()
    assert refused["reconciled"] is False and _paper_ballots(engine, paper_cycle) == []


def test_a_token_that_names_no_person_cannot_enter_a_round(paper_cycle):
    """Tokens not issued to an account (machines') cannot tell whose entry it is."""
    batch = _open(paper_cycle, 1, 1).get_json()["id"]
    entries = _entries(paper_cycle, [1])
    for role in ("staff", "tenant_admin"):
        refused = _enter(paper_cycle, batch, 1, entries, paper_cycle.tenant.auth(role))
        assert refused.status_code == 403
        message = refused.get_json()["message"]
        assert "names no person" in message and "token issued to your account" in message


# None after the count ---------------------------------------------------------------------------


def test_no_paper_batch_is_opened_entered_or_reconciled_after_the_count(paper_cycle, person_auth, engine):
    cycle = paper_cycle
    _issue(cycle, 1, 2, 3)
    open_batch = _open(cycle, 1, 2).get_json()["id"]
    entries = _entries(cycle, [1, 2])
    assert _enter(cycle, open_batch, 1, entries, person_auth(cycle.tenant, "kim")).status_code == 200
    cycle.advance("results")
    assert cycle.client.post(f"{cycle.url}/results", headers=cycle.tenant.auth("staff")).status_code == 201

    def refused_after_the_count() -> None:
        for response in (
            _open(cycle, 3, 3, number=2),
            _enter(cycle, open_batch, 2, entries, person_auth(cycle.tenant, "lee")),
            _reconcile(cycle.client, cycle, open_batch),
        ):
            assert response.status_code == 409, response.get_json()
            assert "no ballot is accepted after the count" in response.get_json()["message"]

    refused_after_the_count()
    publish = cycle.client.post(f"{cycle.url}/results/publish", headers=cycle.tenant.auth("tenant_admin"))
    assert publish.status_code == 200
    refused_after_the_count()
    assert _paper_ballots(engine, cycle) == []
    verified = cycle.client.post(f"{cycle.url}/results/verify").get_json()
    assert verified and all(v["match"] and v["input_unchanged"] for v in verified)


@pytest.mark.parametrize("first", ["count", "reconciliation"])
def test_a_reconciliation_racing_the_count_is_in_the_count_or_refused_after_it(
    first, paper_cycle, person_auth, app, engine
):
    """The count and a reconciliation lock the cycle's row: whichever comes second waits for
    the first to commit. Each is stopped inside its transaction (the audit chain's lock is
    held) while the other comes to wait, then both go on."""
    cycle = paper_cycle
    _issue(cycle, 1, 2)
    onsite = cycle.client.post(
        f"{cycle.url}/check-ins",
        headers=cycle.tenant.auth("officer"),
        json={
            **ADULT,
            "identity_document": "ONSITE-1",
            "channel": "onsite",
            "choices": [{"project_id": cycle.projects[1]["id"]}],
        },
    )
    assert onsite.status_code == 201
    cycle.advance("results")
    batch = _entered_twice(cycle, person_auth, 1, 2)

    def count():
        return _in_thread(cycle, app).client.post(f"{cycle.url}/results", headers=cycle.tenant.auth("staff"))

    def reconcile():
        return _reconcile(app.test_client(), cycle, batch)

    with _audit_chain_held(engine) as release, ThreadPoolExecutor(max_workers=2) as pool:
        one = pool.submit(count if first == "count" else reconcile)
        _wait_for_lock_waiters(engine, 1, one)
        other = pool.submit(reconcile if first == "count" else count)
        _wait_for_lock_waiters(engine, 2, other)
        release()
        counted, reconciled = (one, other) if first == "count" else (other, one)
        assert counted.result().status_code == 201, counted.result().get_json()
        reconciliation = reconciled.result()
    voters = next(r for r in counted.result().get_json() if r["record"]["voters"])["record"]["voters"]
    if first == "count":
        assert reconciliation.status_code == 409, reconciliation.get_json()
        assert "no ballot is accepted after the count" in reconciliation.get_json()["message"]
        assert _paper_ballots(engine, cycle) == [] and voters == 1
    else:
        assert reconciliation.status_code == 200 and reconciliation.get_json()["counted"] == 2
        assert _paper_ballots(engine, cycle) == [1, 2] and voters == 3  # the batch is in the count
    verified = cycle.client.post(f"{cycle.url}/results/verify").get_json()
    assert all(v["match"] and v["input_unchanged"] for v in verified), verified


# Helpers for the races ----------------------------------------------------------------------


def _in_thread(cycle, app):
    """The same cycle seen through a client of its own (test clients are not thread-safe)."""
    from copy import copy

    other = copy(cycle)
    other.client = app.test_client()
    return other


class _audit_chain_held:  # noqa: N801 - used as a context manager, like a function
    """Hold the audit chain's lock: an action stops inside its transaction, after taking its
    other locks, until `release()` (called on exit at the latest)."""

    def __init__(self, engine) -> None:
        self.connection = engine.connect()
        self.held = False

    def __enter__(self):
        key = {"key": audit_services._CHAIN_LOCK_KEY}
        self.connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        self.held = True
        return self.release

    def release(self) -> None:
        if self.held:
            key = {"key": audit_services._CHAIN_LOCK_KEY}
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            self.connection.commit()
            self.held = False

    def __exit__(self, *exc_info) -> None:
        self.release()
        self.connection.close()


def _wait_for_lock_waiters(engine, count: int, request: Future) -> None:
    """Until `count` sessions of this database wait for a lock; fails if `request` ends first."""
    deadline = time.monotonic() + 20
    with engine.connect() as connection:
        while time.monotonic() < deadline and not request.done():
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar()
            connection.rollback()
            if waiting >= count:
                return
            time.sleep(0.02)
    finished = request.result().get_json() if request.done() else "still running"
    raise AssertionError(f"fewer than {count} sessions came to wait on a lock (the request: {finished})")


def test_a_token_made_for_a_person_on_the_command_line_enters_as_that_person(
    paper_cycle, person_auth, settings, engine, monkeypatch
):
    from click.testing import CliRunner

    from saas.cli import main
    from tenants.voting.models import PaperEntry

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    kim = person_auth(paper_cycle.tenant, "kim")
    kim_id = person_auth.accounts["kim"]
    slug = paper_cycle.tenant.slug
    create = ["tokens", "create", "--role", "tenant_admin", "--tenant", slug, "--name", "kim's"]
    made = CliRunner().invoke(main, [*create, "--account", str(kim_id)], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    unknown = CliRunner().invoke(main, [*create, "--account", "999999999"])
    assert unknown.exit_code != 0 and "there is no account 999999999" in unknown.output

    batch = _open(paper_cycle, 1, 1).get_json()["id"]
    entries = _entries(paper_cycle, [1])
    assert _enter(paper_cycle, batch, 1, entries, kim).status_code == 200
    same = _enter(paper_cycle, batch, 2, entries, {"Authorization": f"Bearer {made.output.strip()}"})
    assert same.status_code == 409 and f"account:{kim_id}" in same.get_json()["message"]
    with tenant_session(engine, slug) as session:
        assert session.scalars(select(PaperEntry.entered_by)).all() == [f"account:{kim_id}"]
