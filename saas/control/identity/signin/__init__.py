"""The hub signing people in at upstream identity providers (the hub as a relying party).

Named "signin" because this is where a person's sign-in really happens: the hub sends the
browser to the national IdP or a municipality's (`upstream`, every request through the
address-pinned `outbound` session), checks the answer, finds or links the account of that
(issuer, subject) (`accounts`), grants the roles the IdP's claims map to (`roles`), and opens
the hub session (`services`, `views`: /identity/...); an IdP's back-channel logout ends it.

Builds on the package root and on `provider` (the portals a sign-in comes from, the portals
told of a sign-out); `provider` never imports it.
"""
