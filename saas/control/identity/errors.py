"""Why a sign-in or logout was refused. Each refusal leaves no session behind."""


class SignInRefused(Exception):
    """A sign-in step failed a check (state, issuer, nonce, audience, signature, code...)."""


class ProviderNotOffered(SignInRefused):
    """The IdP is unknown, not approved, or not offered at this portal."""
