"""Ballot drafts (kept per person, cycle and envelope; never a vote; gone once the ballot is
cast, on any channel) and receipt codes (checked publicly: when and on which channel, never
the choices; guarded against guessing)."""

import dataclasses

import pytest
import redis
from sqlalchemy import func, select

from saas.core.refusals import Invalid, NotFound, TooMany
from saas.core.tenancy.binding import open_autocommit_connection, tenant_session
from tenants.voting import drafts, receipts, services, sheets
from tenants.voting.models import Ballot, BallotDraft, VoterMark
from tenants.voting.refusals import AlreadyVoted, BallotRuleBroken, ChoiceUnreadable, VotingClosed

DONG = "4111156000"  # 수원시 장안구 파장동
ADULT = {"basis": "resident", "birth_year": 1980, "district_code": DONG}


@pytest.fixture
def voting(new_cycle):
    """neighbourhood template: approval ballot, choose up to 3; four projects in one dong."""
    cycle = new_cycle(template="neighbourhood", region="41110")
    cycle.projects = [
        cycle.add_project(code, cost, envelope=f"dong-{DONG}")
        for code, cost in (("A", 10_000_000), ("B", 20_000_000), ("C", 5_000_000), ("D", 7_000_000))
    ]
    cycle.advance_to("voting")
    cycle.envelope_id = cycle.envelope(f"dong-{DONG}")["id"]
    cycle.card = cycle.client.get(
        f"{cycle.url}/voter-card", headers=cycle.tenant.auth("resident")
    ).get_json()["voter_card"]
    return cycle


@pytest.fixture
def counter(settings):
    connection = redis.Redis.from_url(settings.redis_url)
    yield connection
    connection.close()


def _save(engine, cycle, person_key, selection):
    connection = open_autocommit_connection(engine, cycle.tenant.slug)
    try:
        sheet = sheets.sheet(connection, cycle.id)
    finally:
        connection.close()
    with tenant_session(engine, cycle.tenant.slug) as session:
        return drafts.do_save_draft(
            session, sheet, envelope_id=cycle.envelope_id, person_key=person_key, selection=selection
        )


def _drafts(engine, cycle, person_key):
    with tenant_session(engine, cycle.tenant.slug) as session:
        return drafts.drafts_of(session, cycle.id, person_key)


def _vote(cycle, ids, role="resident"):
    body = {**ADULT, "choices": [{"project_id": p} for p in ids]}
    return cycle.client.post(f"{cycle.url}/votes", json=body, headers=cycle.tenant.auth(role))


def test_a_draft_is_kept_changed_and_emptied_for_its_person_only(voting, engine):
    a, b, c, _ = (p["id"] for p in voting.projects)
    standing = _save(engine, voting, voting.card, {a: 1, b: 1})
    assert standing.left == 1 and standing.complete
    assert _drafts(engine, voting, voting.card) == {voting.envelope_id: {a: 1, b: 1}}
    _save(engine, voting, voting.card, {c: 1})
    assert _drafts(engine, voting, voting.card) == {voting.envelope_id: {c: 1}}
    assert _drafts(engine, voting, "someone-else") == {}
    _save(engine, voting, voting.card, {})
    assert _drafts(engine, voting, voting.card) == {}


def test_a_draft_over_what_the_ballot_allows_or_of_another_envelope_is_not_saved(voting, engine):
    ids = [p["id"] for p in voting.projects]
    with pytest.raises(BallotRuleBroken) as over:
        _save(engine, voting, voting.card, dict.fromkeys(ids, 1))  # four picks of three
    assert over.value.rule == "k" and over.value.status == 422
    with pytest.raises(ChoiceUnreadable):
        _save(engine, voting, voting.card, {999_999: 1})
    assert _drafts(engine, voting, voting.card) == {}


def test_a_draft_is_not_a_vote(voting, engine):
    a = voting.projects[0]["id"]
    _save(engine, voting, voting.card, {a: 1})
    with tenant_session(engine, voting.tenant.slug) as session:
        assert session.scalar(select(func.count()).select_from(Ballot)) == 0
        assert session.scalar(select(func.count()).select_from(VoterMark)) == 0
    # and the person can still vote, with other choices than the draft's
    assert _vote(voting, [voting.projects[1]["id"]]).status_code == 201


def test_casting_online_deletes_the_persons_drafts(voting, engine):
    a, b = voting.projects[0]["id"], voting.projects[1]["id"]
    _save(engine, voting, voting.card, {a: 1, b: 1})
    _save(engine, voting, "another-person", {a: 1})
    assert _vote(voting, [a, b]).status_code == 201
    assert _drafts(engine, voting, voting.card) == {}
    assert _drafts(engine, voting, "another-person") == {voting.envelope_id: {a: 1}}


def test_checking_in_on_site_deletes_the_online_draft_too(voting, engine):
    a = voting.projects[0]["id"]
    _save(engine, voting, voting.card, {a: 1})
    response = voting.client.post(
        f"{voting.url}/check-ins",
        headers=voting.tenant.auth("officer"),
        json={**ADULT, "voter_card": voting.card, "channel": "onsite", "choices": [{"project_id": a}]},
    )
    assert response.status_code == 201, response.get_json()
    assert _drafts(engine, voting, voting.card) == {}


def test_a_refused_cast_keeps_the_draft(voting, engine):
    ids = [p["id"] for p in voting.projects]
    _save(engine, voting, voting.card, {ids[0]: 1})
    assert _vote(voting, ids).status_code == 422  # four of three
    assert _drafts(engine, voting, voting.card) == {voting.envelope_id: {ids[0]: 1}}


def test_drafts_are_refused_outside_voting(voting, engine):
    voting.advance_to(next(k for k in [p["key"] for p in voting.data["phases"]][::-1]))
    with pytest.raises(VotingClosed) as closed:
        _save(engine, voting, voting.card, {voting.projects[0]["id"]: 1})
    assert closed.value.status == 409 and closed.value.status_now != "voting"


def test_voting_twice_is_refused_as_already_voted_naming_the_channel(voting, engine):
    a = voting.projects[0]["id"]
    assert _vote(voting, [a]).status_code == 201
    connection = open_autocommit_connection(engine, voting.tenant.slug)
    try:
        with pytest.raises(AlreadyVoted) as again:
            services.do_cast_ballot(
                connection,
                voting.id,
                person_key=voting.card,
                channel="online",
                voter=ADULT,
                choices=[{"project_id": a}],
                marked_by="test",
            )
    finally:
        connection.close()
    assert again.value.channel == "online" and again.value.status == 409


def test_a_receipt_says_when_and_on_which_channel_and_never_the_choices(voting, engine, counter):
    a = voting.projects[0]["id"]
    cast = _vote(voting, [a]).get_json()
    code = cast["receipt_code"]
    assert len(code) == 24 and code.count("-") == 4
    with tenant_session(engine, voting.tenant.slug) as session:
        stored = session.scalar(select(Ballot.receipt))
        check = receipts.check_receipt(
            session, code.lower().replace("-", " "), asked_by="t1", counter=counter
        )
    assert stored == receipts.digest(code) and code.replace("-", "") not in stored  # only the hash
    assert check.found and check.channel == "online" and check.cycle_id == voting.id
    assert check.cast_at.isoformat() == cast["cast_at"].replace("Z", "+00:00")
    assert check.counted_at is None
    shown = {f.name for f in dataclasses.fields(check)}
    assert not shown & {"choices", "projects", "values", "ballot_id"}


def test_an_unknown_code_is_not_found_and_another_tenants_code_too(voting, new_cycle, engine, counter):
    code = _vote(voting, [voting.projects[0]["id"]]).get_json()["receipt_code"]
    other = new_cycle(template="citywide")  # another municipality
    with tenant_session(engine, other.tenant.slug) as session:
        assert not receipts.check_receipt(session, code, asked_by="t2", counter=counter).found
    with tenant_session(engine, voting.tenant.slug) as session:
        assert not receipts.check_receipt(session, receipts.new_code(), asked_by="t2", counter=counter).found


@pytest.mark.parametrize("bad", ["", "1234", "ABCD-EFGH-JKMN-PQRS-TVWU", "ABCD-EFGH-JKMN-PQRS-TVWXY"])
def test_what_is_no_receipt_code_is_refused_by_field(voting, engine, counter, bad):
    with tenant_session(engine, voting.tenant.slug) as session, pytest.raises(Invalid) as refused:
        receipts.check_receipt(session, bad, asked_by="t3", counter=counter)
    assert refused.value.field == "code"


def test_look_alike_letters_read_as_the_digits(voting):
    code = "0O1I-L234-5678-9ABC-DEFG"
    assert receipts.normalise(code) == "00111234567" + "89ABCDEFG"


def test_guessing_codes_meets_the_limit(voting, engine, counter):
    counter.delete("chamyeo:limit:receipt-check:guesser")
    with tenant_session(engine, voting.tenant.slug) as session:
        for _ in range(receipts.CHECKS_PER_WINDOW):
            assert not receipts.check_receipt(
                session, receipts.new_code(), asked_by="guesser", counter=counter
            ).found
        with pytest.raises(TooMany) as limited:
            receipts.check_receipt(session, receipts.new_code(), asked_by="guesser", counter=counter)
        assert limited.value.status == 429 and int(limited.value.headers["Retry-After"]) > 0
        # someone else is not held up by the guesser
        assert not receipts.check_receipt(
            session, receipts.new_code(), asked_by="neighbour", counter=counter
        ).found


def test_codes_are_distinct_and_long():
    codes = {receipts.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(receipts.normalise(c)) == 20 for c in codes)


def test_a_paper_check_in_deletes_drafts_and_gives_no_receipt(new_cycle, engine):
    cycle = new_cycle(template="neighbourhood", region="41110")
    project = cycle.add_project("A", 10_000_000, envelope=f"dong-{DONG}")
    cycle.advance_to("voting")
    cycle.envelope_id = cycle.envelope(f"dong-{DONG}")["id"]
    key = services.identity_document_key(
        cycle.client.application.config["CHAMYEO_SETTINGS"].voter_key_secret, "800101-1234567"
    )
    _save(engine, cycle, key, {project["id"]: 1})
    response = cycle.client.post(
        f"{cycle.url}/check-ins",
        headers=cycle.tenant.auth("officer"),
        json={**ADULT, "identity_document": "800101-1234567", "channel": "paper", "paper_ballot": 7},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["receipt_code"] is None
    assert _drafts(engine, cycle, key) == {}


def test_a_draft_of_an_unknown_envelope_is_not_found(voting, engine):
    connection = open_autocommit_connection(engine, voting.tenant.slug)
    try:
        sheet = sheets.sheet(connection, voting.id)
    finally:
        connection.close()
    with tenant_session(engine, voting.tenant.slug) as session, pytest.raises(NotFound):
        drafts.do_save_draft(session, sheet, envelope_id=987_654, person_key="k", selection={})
    with tenant_session(engine, voting.tenant.slug) as session:
        assert session.scalar(select(func.count()).select_from(BallotDraft)) == 0


def test_a_review_lists_the_drafted_choices_and_casting_it_twice_leaves_one_ballot(voting, engine, app):
    from tenants.voting import ballot_page

    a, b = voting.projects[0]["id"], voting.projects[1]["id"]
    key = f"dong-{DONG}"
    _save(engine, voting, voting.card, {a: 1, b: 1})
    with tenant_session(engine, voting.tenant.slug) as session:
        review = ballot_page.review_of(session, key, person_key=voting.card)
    assert review.ready and [p.code for p, _ in review.lines[0].chosen] == ["A", "B"]
    assert review.lines[0].standing.left == 1

    def cast():
        connection = open_autocommit_connection(engine, voting.tenant.slug)
        try:
            with (
                app.test_request_context(headers=voting.tenant.auth("resident")),
                tenant_session(engine, voting.tenant.slug) as session,
            ):
                return ballot_page.do_cast_reviewed(
                    session,
                    connection,
                    key,
                    person_key=voting.card,
                    voter={"basis": "resident", "birth_year": 1980},
                    marked_by="test",
                )
        finally:
            connection.close()

    first = cast()
    assert first.receipt_code and first.channel == "online"
    with pytest.raises(AlreadyVoted):  # the second tab: drafts are gone, the mark says why
        cast()
    with tenant_session(engine, voting.tenant.slug) as session:
        assert session.scalar(select(func.count()).select_from(Ballot)) == 1
        review = ballot_page.review_of(session, key, person_key=voting.card)
    assert review.voted == "online" and not review.ready


def test_drafts_in_two_dongs_make_no_ballot_unless_reviewed_from_one():
    from tenants.cycles.models import Envelope
    from tenants.voting.ballot_page import ballot_from_drafts

    envelopes = {
        1: Envelope(id=1, scope="citywide", area_code=None),
        2: Envelope(id=2, scope="dong", area_code="1111111111"),
        3: Envelope(id=3, scope="dong", area_code="2222222222"),
    }
    kept = {1: {10: 1}, 2: {20: 1}, 3: {30: 1}}
    with pytest.raises(BallotRuleBroken) as refused:
        ballot_from_drafts(envelopes, kept, reviewing=1)
    assert refused.value.rule == "one_dong"
    ballot = ballot_from_drafts(envelopes, kept, reviewing=3)
    assert ballot.district_code == "2222222222" and ballot.envelopes == [1, 3]
    assert [c["project_id"] for c in ballot.choices] == [10, 30]
