"""Who the caller is as a voter: the key their ballot and planning ratings are stored under,
the same whichever face (API or page) they come through."""

from __future__ import annotations

import json

from saas.core.auth import actor, current_principal, person
from saas.core.settings import current_settings
from tenants.voting.services import voter_key


def caller_voter_key() -> str:
    """The caller's voter key (inside a request). The voter key secret is its own setting, so
    rotating SECRET_KEY changes no voter key."""
    secret = current_settings().voter_key_secret
    principal = current_principal()
    national = principal.national_identity if principal is not None else None
    if national is not None:
        # Verified by the national IdP: the key derives from that identity (issuer, subject),
        # so the person is one voter whatever portal session or linked account they use.
        return voter_key(secret, "national:" + json.dumps(list(national)))
    # Otherwise the person (`account:<id>`, whichever of their credentials they use), or for a
    # token that names no one, the token itself.
    return voter_key(secret, person() or actor())
