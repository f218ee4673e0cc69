"""Billing services' refusals become JSON errors with their messages whole."""

import pytest
from werkzeug.exceptions import HTTPException

from saas.control.billing.views import refusals_as_http


@pytest.mark.parametrize(
    "error, message",
    [
        (LookupError("no plan 'basic'"), "no plan 'basic'"),  # a quoted name keeps its quotes
        (KeyError("no subsidy program 7"), "no subsidy program 7"),  # str(KeyError) adds quotes
    ],
)
def test_a_lookup_refusal_is_a_404_with_its_message_whole(app, error, message):
    with app.test_request_context("/"), pytest.raises(HTTPException) as raised, refusals_as_http():
        raise error
    assert raised.value.code == 404
    assert raised.value.data["message"] == message
