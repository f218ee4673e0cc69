"""Flask's cookie session is not used: none is opened, and writing one fails loudly."""

import flask
import pytest


def test_no_flask_session_cookie_is_opened_or_written(app):
    response = app.test_client().get("/healthz", headers={"Cookie": "session=forged"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.test_request_context("/"):
        assert not flask.session
        with pytest.raises(RuntimeError, match="session is unavailable"):
            flask.session["signed_in"] = True
