"""Flask's own signed-cookie session is not used: sign-in state lives in the identity hub's
cookies (`saas.control.identity.sessions`). Opening one anyway cost every request a signing serializer
(about 0.1 ms); this interface opens none, and code that writes `flask.session` fails loudly
(Flask's NullSession) instead of setting a cookie nobody reads."""

from __future__ import annotations

from typing import Any

from flask.sessions import SessionInterface


class NoCookieSession(SessionInterface):
    def open_session(self, app: Any, request: Any) -> None:
        return None

    def save_session(self, app: Any, session: Any, response: Any) -> None:
        return None
