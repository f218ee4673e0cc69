"""Who has voted does not depend on SECRET_KEY: voter keys are keyed with their own secret."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest

DONG = "4111156000"
ADULT = {"basis": "resident", "birth_year": 1980, "district_code": DONG}


@contextmanager
def _running_with(app, **changes):
    """The app as it runs after a restart with other settings (restored afterwards)."""
    saved = app.config["CHAMYEO_SETTINGS"], app.config["SECRET_KEY"]
    settings = replace(saved[0], **changes)
    app.config.update(CHAMYEO_SETTINGS=settings, SECRET_KEY=settings.secret_key)
    try:
        yield
    finally:
        app.config.update(CHAMYEO_SETTINGS=saved[0], SECRET_KEY=saved[1])


@pytest.fixture
def cycle(new_cycle):
    cycle = new_cycle(template="neighbourhood", region="41110")
    cycle.project = cycle.add_project("A", 10_000_000, envelope=f"dong-{DONG}")
    cycle.advance_to("voting")
    return cycle


def _card(cycle) -> str:
    return cycle.client.get(f"{cycle.url}/voter-card", headers=cycle.tenant.auth("resident")).get_json()[
        "voter_card"
    ]


def _vote(cycle):
    body = {**ADULT, "choices": [{"project_id": cycle.project["id"]}]}
    return cycle.client.post(f"{cycle.url}/votes", json=body, headers=cycle.tenant.auth("resident"))


def _check_in(cycle, document: str):
    body = {**ADULT, "identity_document": document, "channel": "paper", "paper_ballot": 1}
    return cycle.client.post(f"{cycle.url}/check-ins", json=body, headers=cycle.tenant.auth("officer"))


def test_rotating_the_secret_key_changes_no_voter_key(app, cycle):
    card = _card(cycle)
    assert _vote(cycle).status_code == 201
    assert _check_in(cycle, "800101-1234567").status_code == 201
    with _running_with(app, secret_key="a-rotated-secret-key"):
        assert _card(cycle) == card
        again = _vote(cycle)
        assert again.status_code == 409 and "already voted" in again.get_json()["message"]
        walk_in = _check_in(cycle, "800101-1234567")
        assert walk_in.status_code == 409 and "already voted" in walk_in.get_json()["message"]


def test_voter_keys_follow_the_voter_key_secret(app, cycle):
    card = _card(cycle)
    with _running_with(app, voter_key_secret="another-voter-key-secret"):
        assert _card(cycle) != card
