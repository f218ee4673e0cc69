"""The hub's signing keys: the newest unretired one signs; retired ones stay published in
the JWKS for a grace period, so ID and logout tokens signed before a rotation still verify."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from saas.control.identity.models import HubSigningKey
from saas.control.identity.sealing import SecretBox
from saas.core import clock
from saas.core.audit import services as audit

SIGNING_ALG = "RS256"
RETIRED_KEY_GRACE = timedelta(days=1)
# Importing a private RSA key checks it (~50 ms on a busy 2-core machine), and one sign-in
# needs the key several times: keep each imported key by its kid (a kid never changes keys).
_imported: dict[str, RSAKey] = {}


def _import(row: HubSigningKey, box: SecretBox) -> RSAKey:
    key = _imported.get(row.kid)
    if key is None:
        key = RSAKey.import_key(json.loads(box.open(row.private_jwk_encrypted)))
        _imported[row.kid] = key
    return key


def _create(session: Session, box: SecretBox) -> tuple[str, RSAKey]:
    kid = secrets.token_urlsafe(12)
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": SIGNING_ALG}, private=True)
    session.add(HubSigningKey(kid=kid, private_jwk_encrypted=box.seal(json.dumps(key.as_dict(private=True)))))
    session.flush()
    return kid, key


def signing_key(session: Session, box: SecretBox) -> RSAKey:
    """The key to sign with now; the first call on an empty table creates one (and commits)."""
    row = session.scalar(
        select(HubSigningKey)
        .where(HubSigningKey.retired_at.is_(None))
        .order_by(HubSigningKey.created_at.desc())
        .limit(1)
    )
    if row is None:
        _, key = _create(session, box)
        session.commit()
        return key
    return _import(row, box)


def rotate_signing_key(session: Session, box: SecretBox, *, actor: str) -> str:
    """Retire the signing key(s) in use and start signing with a new one; commit; return its kid."""
    now = clock.now()
    session.execute(update(HubSigningKey).where(HubSigningKey.retired_at.is_(None)).values(retired_at=now))
    kid, _ = _create(session, box)
    audit.record(session, actor=actor, action="identity.keys.rotate", target=f"key:{kid}")
    session.commit()
    return kid


def published_keys(session: Session, box: SecretBox) -> KeySet:
    """Public keys for the JWKS: those in use and those retired within the grace period."""
    signing_key(session, box)  # a fresh deployment publishes a key before its first sign-in
    cutoff = clock.now() - RETIRED_KEY_GRACE
    rows = session.scalars(
        select(HubSigningKey).where(
            or_(HubSigningKey.retired_at.is_(None), HubSigningKey.retired_at > cutoff)
        )
    ).all()
    keys = [_import(row, box) for row in rows]
    return KeySet([RSAKey.import_key(key.as_dict(private=False)) for key in keys])
