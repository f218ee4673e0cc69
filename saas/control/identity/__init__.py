"""The identity hub: one sign-in across every municipal portal.

The hub is an OpenID relying party to upstream identity providers (`upstream`) and an OpenID
provider to the portals (`provider`); portals sign people in through it (`portal`). Accounts
are identified by (issuer, subject) (`accounts`); roles come from IdP claims, scoped to the
tenant whose IdP sent them (`roles`).
"""
