"""A scripted browser for sign-in flows: one cookie jar with real host and path scoping,
redirects followed by hand (so each hop can be inspected), and names under the test
platform domain (alpha.chamyeo.test) sent to the local server with their Host header."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

PLATFORM_SUFFIX = ".chamyeo.test"


class LocalNames(HTTPAdapter):
    """Connects `*.chamyeo.test` to 127.0.0.1, keeping the name in the Host header; the
    session's cookie jar still sees the original URL."""

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.hostname and parts.hostname.endswith(PLATFORM_SUFFIX):
            request = request.copy()
            request.headers["Host"] = parts.netloc
            request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))
        return super().send(request, **kwargs)


_FORM = re.compile(r"<form[^>]*action=\"([^\"]*)\"[^>]*>(.*?)</form>", re.S | re.I)
_HIDDEN = re.compile(r"<input[^>]*type=\"hidden\"[^>]*>", re.I)
_ATTR = re.compile(r"(name|value)=\"([^\"]*)\"")


def first_form(html: str) -> tuple[str, dict[str, str]] | None:
    match = _FORM.search(html)
    if match is None:
        return None
    fields = {}
    for tag in _HIDDEN.findall(match.group(2)):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs:
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    return unescape(match.group(1)), fields


@dataclass
class Browser:
    http: requests.Session = field(default_factory=requests.Session)
    visited: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http.mount("http://", LocalNames())

    def go(
        self,
        url: str,
        *,
        method: str = "GET",
        data: dict | None = None,
        login: str | None = None,
        stop_at: str | None = None,
        max_hops: int = 30,
    ) -> requests.Response:
        """Follow redirects and the IdP's sign-in forms (filling `login`) until a page that is
        neither, or a URL starting with `stop_at` (not requested)."""
        for _ in range(max_hops):
            if stop_at is not None and url.startswith(stop_at):
                response = requests.Response()
                response.status_code = 0
                response.url = url
                return response
            self.visited.append(url)
            response = self.http.request(method, url, data=data, allow_redirects=False, timeout=10)
            method, data = "GET", None
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            form = first_form(response.text) if "html" in response.headers.get("Content-Type", "") else None
            if response.status_code == 200 and form is not None and login is not None:
                action, fields = form
                if fields.get("prompt") == "login":
                    fields.update(login=login, password="any")
                if "xsrf" in fields:  # the IdP's logout confirmation
                    fields["logout"] = "yes"
                url, method, data = urljoin(url, action), "POST", fields
                continue
            response.url = url
            return response
        raise AssertionError(f"too many hops: {self.visited[-5:]}")

    def choose(self, page: requests.Response, provider_key: str) -> str:
        """The link for one IdP on the hub's sign-in page."""
        match = re.search(rf'data-provider="{re.escape(provider_key)}" href="([^"]+)"', page.text)
        assert match, f"{provider_key} is not offered: {page.text[:500]}"
        return urljoin(page.url, unescape(match.group(1)))
