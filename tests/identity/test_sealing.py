"""Sealed secrets: values sealed before the box became a MultiFernet still open, and setting
IDENTITY_ENCRYPTION_KEY later rotates onto it without losing what SECRET_KEY's key sealed."""

from __future__ import annotations

import pytest

from saas.control.identity.sealing import SecretBox
from saas.core.settings import Settings

# Sealed by the single-Fernet box this one replaced, with the settings beside each.
SEALED_WITH_SECRET_KEY = (
    "gAAAAABrESKUK1MqQRcxMGJJU4cYGTwvgIl6_JJ4rNcN9jqY-OdDDupWuEz8qf_ikMU7vX-vXtFf63F8houPEB919QwV"
    "G_AAJCCoUATD8XkwKN25q_K2_tJsgKLzLZJyD353ENn31l6J"
)
OLD_SECRET_KEY = "the-secret-key-of-an-older-release"
SEALED_WITH_IDENTITY_KEY = (
    "gAAAAABrESKUUIkj7ezvR5vYBqm43EyVXCOxvnKZTHlPWEKe8TIKa0sxPDZ8tR9On9moBtaAnQ8_sXpaqXymm52y-ZZso"
    "DZ8ew6kvx6X4tvZx6W8-8mzNHRJI1LV9Gtx3HmfY7wgyU2e"
)
IDENTITY_KEY = "an-identity-encryption-key"


def test_values_sealed_before_the_multifernet_still_open():
    only_secret_key = SecretBox(Settings(secret_key=OLD_SECRET_KEY, identity_encryption_key=None))
    assert only_secret_key.open(SEALED_WITH_SECRET_KEY) == "client-secret-sealed-before-multifernet"
    with_identity_key = SecretBox(Settings(secret_key="x", identity_encryption_key=IDENTITY_KEY))
    assert with_identity_key.open(SEALED_WITH_IDENTITY_KEY) == "hub-key-sealed-before-multifernet"


def test_setting_an_identity_key_later_rotates_onto_it():
    before = SecretBox(Settings(secret_key=OLD_SECRET_KEY, identity_encryption_key=None))
    after = SecretBox(Settings(secret_key=OLD_SECRET_KEY, identity_encryption_key=IDENTITY_KEY))
    only_new = SecretBox(Settings(secret_key="another-secret-key", identity_encryption_key=IDENTITY_KEY))
    sealed = before.seal("s3cret")
    assert after.open(sealed) == "s3cret"
    with pytest.raises(ValueError, match="does not decrypt"):
        only_new.open(sealed)
    resealed = after.reseal(sealed)
    assert only_new.open(resealed) == "s3cret"
    assert only_new.open(after.seal("new")) == "new", "new values are sealed with the identity key"


def test_a_value_of_another_key_is_refused():
    box = SecretBox(Settings(secret_key="one", identity_encryption_key=None))
    other = SecretBox(Settings(secret_key="two", identity_encryption_key=None))
    with pytest.raises(ValueError, match="does not decrypt"):
        box.open(other.seal("s3cret"))
    with pytest.raises(ValueError, match="does not decrypt"):
        box.reseal(other.seal("s3cret"))
