"""Billing's refusals become JSON errors with their messages whole; a bug is a 500 that
names nothing of itself, never a 404 (a `KeyError` is a `LookupError`, and a translator that
answered every `LookupError` with 404 once turned bugs into "not found")."""

import pytest

from saas.control.billing.services import reports
from saas.core.api.errors import DEFAULT_MESSAGES
from saas.core.refusals import NotFound


def _plant(monkeypatch, error: Exception) -> None:
    """The programs list's service raises `error`, as a service with that bug or refusal would."""

    def raising(*args, **kwargs):
        raise error

    monkeypatch.setattr(reports, "list_programs", raising)


@pytest.mark.parametrize(
    "error, message",
    [
        (NotFound("no plan 'basic'"), "no plan 'basic'"),  # a quoted name keeps its quotes
        (NotFound("no subsidy program 7"), "no subsidy program 7"),
    ],
)
def test_a_lookup_refusal_is_a_404_with_its_message_whole(client, auditor, monkeypatch, error, message):
    _plant(monkeypatch, error)
    response = client.get("/api/v1/billing/programs", headers=auditor)
    assert response.status_code == 404
    assert response.get_json()["message"] == message


@pytest.mark.parametrize(
    "bug",
    [KeyError("tier_low"), LookupError("no such row"), IndexError("list index out of range")],
    ids=["KeyError", "LookupError", "IndexError"],
)
def test_a_bug_in_a_billing_service_is_a_500_without_its_traceback(client, auditor, monkeypatch, bug):
    _plant(monkeypatch, bug)
    response = client.get("/api/v1/billing/programs", headers=auditor)
    assert response.status_code == 500
    assert response.get_json() == {
        "code": 500,
        "status": "Internal Server Error",
        "message": DEFAULT_MESSAGES[500],
    }
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and type(bug).__name__ not in body and str(bug.args[0]) not in body
