"""Encryption at rest for IdP client secrets and the hub's private keys (Fernet)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from saas.core.settings import Settings


def _fernet(material: str) -> Fernet:
    digest = hashlib.sha256(b"chamyeo identity secrets\x00" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SecretBox:
    """Fernet (cryptography's `MultiFernet`) with a key from IDENTITY_ENCRYPTION_KEY, or else
    derived from SECRET_KEY, so a deployment that sets only SECRET_KEY still encrypts.

    Setting IDENTITY_ENCRYPTION_KEY later is a key rotation: new values are sealed with it,
    and what the SECRET_KEY-derived key sealed still opens (`reseal` moves a value onto the
    new key). Rotating SECRET_KEY while it is the only key needs the values sealed again."""

    def __init__(self, settings: Settings) -> None:
        keys = [_fernet(settings.secret_key)]
        if settings.identity_encryption_key:
            keys.insert(0, _fernet(settings.identity_encryption_key))
        self._fernet = MultiFernet(keys)  # the first seals; each one opens

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("a stored secret does not decrypt with this key") from None

    def reseal(self, sealed: str) -> str:
        """`sealed` sealed again with the current key (after a rotation)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("a stored secret does not decrypt with this key") from None
