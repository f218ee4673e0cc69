"""The hub's requests to upstream IdPs connect only to the public address that was checked.

An IdP's URLs (its issuer, and the endpoints its discovery document names) come from whoever
registered it, a municipality's admin too. Unchecked, the hub could be made to read from the
platform's own network (its database, Redis, a cloud metadata service) and report in its
error messages what it met there.

Outside development, every request the hub makes to an IdP (discovery, keys, tokens, the
admin's test probe) goes through `session()`: its adapter resolves the URL's host once,
requires https and global addresses only, and connects to that very address (TLS still
verifies the certificate against the host name, and the request carries its Host header), so
an answer that changes between the check and the connection (DNS rebinding) is never used.
A redirect is another request through the same adapter: each hop is checked and pinned the
same way, at most MAX_REDIRECTS of them. Proxies from the environment are not used (a proxy
would resolve the name again). Development runs IdPs on loopback and checks nothing.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

from saas.control.identity.errors import SignInRefused
from saas.core.refusals import N_

if TYPE_CHECKING:
    from saas.core.settings import Settings

MAX_REDIRECTS = 3
# The settings of a process without an app (the command line); None: check (the safe side).
_process_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """The settings outbound checks follow in a process that has no app (the command line)."""
    global _process_settings
    _process_settings = settings


def _enforced() -> bool:
    settings = current_app.config["CHAMYEO_SETTINGS"] if has_app_context() else _process_settings
    if settings is None:
        return True
    return settings.environment != "development" and not settings.outbound_loopback_for_tests


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses (one DNS resolution; tests replace it to play a rebinding DNS)."""
    answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [str(address[0]) for *_, address in answers]


def is_public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%")[0]).is_global


def checked_address(url: str) -> str | None:
    """The one address a request to `url` may connect to; None when nothing is checked
    (development). Raises SignInRefused for a URL that is not https on a public host."""
    if not _enforced():
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise SignInRefused(N_("the IdP's URL %(url)s is not an https URL", url=repr(url)))
    try:
        addresses = resolve(parts.hostname, parts.port or 443)
    except (OSError, UnicodeError):
        raise SignInRefused(
            N_("the IdP's host %(host)s does not resolve", host=repr(parts.hostname))
        ) from None
    if not addresses:
        raise SignInRefused(N_("the IdP's host %(host)s does not resolve", host=repr(parts.hostname)))
    for address in addresses:
        if not is_public(address):
            raise SignInRefused(
                N_("the IdP's host %(host)s is not a public address", host=repr(parts.hostname))
            )
    return addresses[0]


def require_public(url: str) -> None:
    """Raise SignInRefused unless `url` may be fetched (always, in development)."""
    checked_address(url)


def _pinned(base: type[HTTPConnection], address: str) -> type[HTTPConnection]:
    class Pinned(base):  # type: ignore[valid-type, misc]  # a subclass of the class passed in
        """Connects to `address`; the host name stays for SNI, certificate and Host."""

        def _new_conn(self) -> socket.socket:
            # urllib3's own, with the checked address in place of a second resolution of
            # the host name (which it keeps as `host`: SNI, certificate check, Host header).
            try:
                return create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from error
            except OSError as error:
                raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error

    return Pinned


class PinnedAdapter(HTTPAdapter):
    """Each request (each redirect hop too) checked, then sent to the address checked."""

    def __init__(self) -> None:
        super().__init__()
        self._pinned = threading.local()  # the address of the request this thread sends

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._pinned.address = checked_address(request.url or "")
        try:
            return super().send(request, *args, **kwargs)
        finally:
            self._pinned.address = None

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Any = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        address = getattr(self._pinned, "address", None)
        if address is None:
            return super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        https = host_params["scheme"] == "https"
        pool_class = HTTPSConnectionPool if https else HTTPConnectionPool
        pool = pool_class(host_params["host"], host_params["port"], **(pool_kwargs if https else {}))
        pool.ConnectionCls = _pinned(HTTPSConnection if https else HTTPConnection, address)
        return pool


def mount(http: requests.Session) -> requests.Session:
    """`http` (a requests session, an Authlib client) with the checks on each request."""
    adapter = PinnedAdapter()
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    http.trust_env = False  # no proxy from the environment: it would resolve the name again
    http.max_redirects = MAX_REDIRECTS
    return http


def session() -> requests.Session:
    return mount(requests.Session())
