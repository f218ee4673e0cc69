"""Encryption at rest for IdP client secrets and the hub's private keys (Fernet)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from saas.core.settings import Settings


class SecretBox:
    """Fernet with a key from IDENTITY_ENCRYPTION_KEY, or else derived from SECRET_KEY
    (so a deployment that sets only SECRET_KEY still encrypts; rotating it needs a re-encrypt)."""

    def __init__(self, settings: Settings) -> None:
        material = settings.identity_encryption_key or settings.secret_key
        digest = hashlib.sha256(b"chamyeo identity secrets\x00" + material.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("a stored secret does not decrypt with this key") from None
