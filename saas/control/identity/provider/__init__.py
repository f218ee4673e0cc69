"""The hub as the portals' OpenID provider, and each portal's side of that sign-in.

Named "provider" because here the hub is the one asked: every active tenant's portal is a
client of it (`clients`), its authorization server issues codes and ID tokens signed with
the hub's keys (`server`, `keys`) on the hub's browser routes (`views`: /oidc/..., discovery),
and it tells the portals when a person signs out (`backchannel`, `services`). The portal's
own routes, which send a person to the hub and take the answer (`portal_views`:
/t/<slug>/auth/...), sit here too: they are the other end of the same protocol.

Imports only the package root (models, sessions, flows, tokens, …), never `signin` or
`federation`, which build on it.
"""
