"""In production, the hub's requests to upstream IdPs go to public addresses only.

An IdP's URLs (its issuer, and the endpoints its discovery document names) come from whoever
registered it, a municipality's admin too. Unchecked, the hub could be made to read from the
platform's own network (its database, Redis, a cloud metadata service) and report in its
error messages what it met there. In production every such URL must be https, and its host
must resolve to global addresses only. Development and tests run IdPs on loopback.

The check resolves the name before the request does: a name whose answer changes between
the two (DNS rebinding) is not caught here; a resolver or egress proxy that refuses private
answers is the place for that.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app, has_app_context

from saas.identity.errors import SignInRefused


def _enforced() -> bool:
    return has_app_context() and current_app.config["CHAMYEO_SETTINGS"].is_production


def require_public(url: str) -> None:
    """Raise SignInRefused unless `url` may be fetched (always, outside production)."""
    if not _enforced():
        return
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SignInRefused(f"the IdP's URL {url!r} is not an https URL")
    try:
        answers = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise SignInRefused(f"the IdP's host {parts.hostname!r} does not resolve") from None
    for *_, address in answers:
        if not ipaddress.ip_address(address[0]).is_global:
            raise SignInRefused(f"the IdP's host {parts.hostname!r} is not a public address")
