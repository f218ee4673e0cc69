"""A refusal of any layer is answered in one place: the API's error handler gives its status,
its message and the inputs at fault; the command line its message and exit status 1."""

from __future__ import annotations

import pytest

from provisioning.errors import ProvisioningRefused, TenantNotFound
from saas.core import refusals
from saas.core.extensions import api


@pytest.mark.parametrize(
    "kind, status",
    [
        (refusals.Malformed, 400),
        (refusals.Forbidden, 403),
        (refusals.NotFound, 404),
        (refusals.Conflict, 409),
        (refusals.Gone, 410),
        (refusals.Invalid, 422),
        (refusals.TooMany, 429),
        (refusals.Unavailable, 503),
    ],
)
def test_each_refusal_is_answered_with_its_status_and_message(app, kind, status):
    with app.test_request_context("/"):
        payload, code, _headers = api.handle_refusal(kind("The cycle is closed."))
    assert code == status and payload["code"] == status
    assert payload["message"] == "The cycle is closed." and "errors" not in payload


def test_a_refusal_names_the_input_at_fault(app):
    with app.test_request_context("/"):
        payload, code, _ = api.handle_refusal(ProvisioningRefused("slug: too short", field="slug"))
    assert (code, payload["errors"]) == (422, {"slug": ["slug: too short"]})
    assert payload["message"] == "slug: too short"


def test_a_fragment_is_sent_as_a_sentence_and_printed_as_written(app):
    refusal = TenantNotFound("there is no tenant 'nowhere'")
    with app.test_request_context("/"):
        payload, code, _ = api.handle_refusal(refusal)
    assert (code, payload["message"]) == (404, "There is no tenant 'nowhere'.")
    assert str(refusal) == "there is no tenant 'nowhere'"
    assert isinstance(refusal, LookupError)


def test_too_many_says_when_to_ask_again(app):
    with app.test_request_context("/"):
        _, code, headers = api.handle_refusal(refusals.TooMany("Slow down.", retry_after=30))
    assert (code, headers["Retry-After"]) == (429, "30")


def test_a_refused_command_prints_its_reason_and_exits_1(settings, monkeypatch):
    from click.testing import CliRunner

    from saas.cli import REFUSAL_EXIT_STATUS, main

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(main, ["tenants", "show", "nowhere"])
    assert result.exit_code == REFUSAL_EXIT_STATUS == 1
    assert result.output.strip() == "Error: there is no tenant 'nowhere'"


def test_a_refusal_survives_pickling_whole():
    """A job's result or exception crosses processes pickled: kind, message and fields stay."""
    import pickle

    from saas.control.billing.gateway import BillingNotConfigured

    for refusal in (
        ProvisioningRefused("slug: too short", field="slug"),
        refusals.TooMany("Slow down.", retry_after=30),
        BillingNotConfigured("Billing is not connected to Stripe: set STRIPE_API_KEY."),
    ):
        copy = pickle.loads(pickle.dumps(refusal))  # noqa: S301 - the test's own bytes
        assert (type(copy), str(copy), copy.errors, copy.headers) == (
            type(refusal),
            str(refusal),
            refusal.errors,
            refusal.headers,
        )
