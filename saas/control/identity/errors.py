"""Why a sign-in or logout was refused. Each refusal leaves no session behind."""

from saas.core.refusals import Malformed


class SignInRefused(Malformed):
    """A sign-in step failed a check (state, issuer, nonce, audience, signature, code...)."""


class ProviderNotOffered(SignInRefused):
    """The IdP is unknown, not approved, or not offered at this portal."""

    status = 404
