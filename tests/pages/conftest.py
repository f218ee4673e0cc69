"""Browser tests: Playwright (PyPI, pinned in requirements.lock) driving Debian's Chromium
(/usr/bin/chromium, pinned by the machine's packages; .ci/run installs it) against one live
server of the app per test session.

- `live_server`: gunicorn serving the app as `chamyeo up` does (CHAMYEO_ENV=development, so
  the development IdP signs people in), on the test database, on a free loopback port;
  `portal` is a tenant of its own with the development realms registered.
- `browser`: one Chromium per session; `page` (390×844, a phone) and `desktop_page`
  (1280×800) are fresh contexts (no cookies) in Korean. Every request of a page to a host
  other than the live server's fails the test (`guard`), as no asset may come from elsewhere.
- `axe(page)`: axe-core (tests/pages/package-lock.json) run in the page: its serious and
  critical WCAG 2.1 A/AA violations.
- `signed_in_page(person)`: a phone page signed in through the development IdP.
- `screenshot(page, name)`: docs/screenshots/<name>.png.

Without a Chromium the tests skip with a loud message; with one that Playwright cannot drive,
`test_smoke` fails.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("CHAMYEO_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PORTAL_SLUG = "pagetown"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, installed from the committed lock (once; one xdist worker at a time)."""
    if shutil.which("npm") is None:
        pytest.skip("NO npm ON THIS MACHINE: the browser tests need it to install axe-core (tests/pages)")
    lock = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    stamp = HERE / "node_modules" / ".installed-from-lock"
    with open(Path(tempfile.gettempdir()) / "chamyeo-npm-ci-pages.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not stamp.exists() or stamp.read_text() != lock:
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HERE,
                check=True,
                capture_output=True,
                timeout=180,
            )
            stamp.write_text(lock)
    return (HERE / "node_modules" / "axe-core" / "axe.min.js").read_text()


@pytest.fixture(scope="session")
def playwright_driver():
    if not CHROMIUM.exists():
        message = (
            f"NO CHROMIUM AT {CHROMIUM}: THE BROWSER TESTS ARE SKIPPED. "
            "Install it with `apt-get install -y chromium fonts-noto-cjk` (.ci/run does)."
        )
        # Loud: on the terminal past pytest's capture, and as every browser test's skip reason.
        sys.__stderr__.write(f"\n\n*** {message} ***\n\n")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
    yield browser
    browser.close()


@dataclass
class LiveServer:
    url: str
    port: int
    portal: str  # the slug of the portal the browser tests use
    engine: object = field(repr=False)

    def portal_url(self, path: str = "/") -> str:
        return f"{self.url}/t/{self.portal}{path}"


@pytest.fixture(scope="session")
def live_server(settings, engine, make_tenant, app):
    from saas.control.identity.models import IdentityProvider
    from saas.core.tenancy.binding import session_without_tenant
    from saas.dev.idp_registration import register_development_idps
    from tests.identity.servers import start_web, stop_web
    from tests.web.conftest import CYCLE, Cycle

    tenant = make_tenant(PORTAL_SLUG, template="citywide")
    api = app.test_client()
    made = api.post(f"{tenant.api}/cycles", json=CYCLE, headers=tenant.auth("staff"))
    assert made.status_code == 201, made.get_json()
    Cycle(api, tenant, made.get_json()).advance_to("voting")  # the demo's state: a cycle in voting
    port = _free_port()
    dev = replace(settings, environment="development", port=port)
    env = dict(
        os.environ,
        CHAMYEO_ENV="development",
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        SECRET_KEY=settings.secret_key,
        PLATFORM_DOMAIN=settings.platform_domain,
        PORT=str(port),
    )
    env.pop("IDENTITY_HUB_URL", None)
    with session_without_tenant(engine) as session:
        keys = register_development_idps(session, dev, [tenant.slug])
    process = start_web(env, port)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", port, tenant.slug, engine)
    finally:
        stop_web(process)
        with session_without_tenant(engine) as session:
            session.execute(delete(IdentityProvider).where(IdentityProvider.key.in_(keys)))
            session.commit()


class Guard:
    """Records every request of a page to a host other than the platform's."""

    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed
        self.foreign: list[str] = []

    def __call__(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc in self.allowed:
            route.continue_()
            return
        self.foreign.append(url)
        route.abort()


def _context(browser, live_server, viewport, guards, *, lang: str = "ko"):
    context = browser.new_context(viewport=viewport, locale="ko-KR" if lang == "ko" else "en-US")
    guard = Guard({f"127.0.0.1:{live_server.port}"})
    context.route("**/*", guard)
    guards.append(guard)
    return context


@pytest.fixture
def guards():
    """The host guards of this test's pages: a request to another host fails the test."""
    made: list[Guard] = []
    yield made
    foreign = [url for guard in made for url in guard.foreign]
    assert foreign == [], f"pages asked for hosts other than the platform's: {foreign}"


@pytest.fixture
def page(browser, live_server, guards):
    context = _context(browser, live_server, PHONE, guards)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop_page(browser, live_server, guards):
    context = _context(browser, live_server, DESKTOP, guards)
    yield context.new_page()
    context.close()


@pytest.fixture
def axe(axe_source):
    """`axe(page)`: the serious and critical WCAG 2.1 A/AA violations on the page now, each
    as "rule-id: help (selectors)". Evaluated through the debugging protocol, which the
    page's CSP (script-src 'self') does not govern, so the CSP stays what residents get."""

    def run(page) -> list[str]:
        page.evaluate(axe_source + "\n;undefined")
        results = page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                resultTypes: ["violations"],
            })"""
        )
        return [
            f"{v['id']}: {v['help']} ({', '.join(str(n['target']) for n in v['nodes'][:5])})"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return run


@pytest.fixture
def screenshot():
    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in_through_the_development_idp(page, live_server, realm: str, login: str) -> None:
    """From the portal's home, as a person would: Sign in → the provider, on the portal's
    sign-in page → the development IdP's demo person → back on the portal."""
    page.goto(live_server.portal_url("/"))
    page.get_by_role("link", name=re.compile("로그인|Sign in")).first.click()
    page.locator(f'a[data-provider="dev-{realm}"]').click()
    page.locator(f'a[data-login="{login}"]').click()
    page.wait_for_url(re.compile(re.escape(live_server.portal_url("/")) + r"$"))


@pytest.fixture
def signed_in_page(page, live_server):
    """`signed_in_page("resident")`: the phone page, signed in as that demo person (national
    realm for residents, the portal's own realm for its staff)."""

    def sign_in(login: str = "resident", realm: str = "national"):
        sign_in_through_the_development_idp(page, live_server, realm, login)
        return page

    return sign_in
