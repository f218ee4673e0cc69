"""The identity hub: one sign-in across every municipal portal, split by the role it plays.

- `signin/`: the hub as relying party of the upstream IdPs (the national one, municipalities'
  own): sign-in flows there, outbound requests, identities to accounts, roles from claims,
  their back-channel logout (/identity/...).
- `provider/`: the hub as OpenID provider for the portals (authorization server, portal
  clients, signing keys, /oidc/...), and each portal's side of that sign-in (/t/<slug>/auth/...).
- `federation/`: the administration of the federation (which IdPs are trusted, their role
  mappings; the JSON API under identity-providers).

The package root holds what several roles share: the tables (`models`), the hub's and the
portals' sessions (`sessions`), the person behind a request (`principals`), sign-in flows in
flight (`flows`), the checks of signed tokens (`tokens`) and of received logout tokens
(`logout`), both used by the hub towards its IdPs and by a portal towards the hub, and
`sealing` and `errors`. The root imports none of the subpackages; `provider` imports only the
root; `signin` builds on `provider` (portals a sign-in comes from and are told of a sign-out);
`federation` builds on `signin` (discovery, role mappings).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from flask_smorest import Api


def init_app(app: Flask, api: Api) -> None:
    """Register the hub on the app: the person loader the core asks for the signed-in person,
    the hub's browser routes, the portals' sign-in routes and the federation's API."""
    from saas.control.identity import principals
    from saas.control.identity.federation import api as federation_api
    from saas.control.identity.provider import portal_views
    from saas.control.identity.provider import views as provider_views
    from saas.control.identity.signin import views as signin_views

    principals.init_app(app)
    provider_views.init_app(app)
    signin_views.init_app(app)
    app.register_blueprint(portal_views.bp)
    federation_api.init_app(api)
