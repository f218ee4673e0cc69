"""One pooled connection serving two tenants in turn never carries one's binding into the other."""

import pytest
from sqlalchemy import bindparam, create_engine, delete, insert, literal, select, text
from sqlalchemy.exc import ProgrammingError

from saas.core.tenancy import binding
from saas.core.tenancy.slugs import InvalidSlug, schema_for
from tenants.people.models import Member
from tenants.portal.models import Page


@pytest.fixture
def one_connection_engine(engine):
    # A pool of exactly one connection: every unit of work below reuses it.
    single = create_engine(engine.url, pool_size=1, max_overflow=0)
    binding.install_connection_recycling(single, tenants_per_connection=500)
    yield single
    single.dispose()


def _backend_pid(session):
    return session.scalar(text("SELECT pg_backend_pid()"))


def test_interleaved_tenants_on_one_pooled_connection_read_their_own_rows(one_connection_engine, alpha, beta):
    seen = []
    for slug in ["alpha", "beta", "alpha", "beta", "alpha"]:
        with binding.tenant_session(one_connection_engine, slug) as session:
            person = session.scalar(select(Member.display_name).where(Member.email == "kim@example.kr"))
            body = session.scalar(select(Page.body_en).where(Page.key == "notice"))
            search_path = session.scalar(text("SHOW search_path"))
            seen.append((slug, person, body, _backend_pid(session), search_path))
    assert len({pid for *_, pid, _ in seen}) == 1, "the test must reuse one connection"
    for slug, person, body, _pid, search_path in seen:
        expected = "Kim of Alpha" if slug == "alpha" else "Kim of Beta"
        assert person == expected and body == f"Notice by {expected}"
        assert "t_" not in search_path  # the binding never touches the session's search_path


def test_a_write_in_one_tenant_lands_only_in_that_schema(one_connection_engine, make_tenant):
    first, second = make_tenant(), make_tenant()
    with binding.tenant_session(one_connection_engine, first.slug) as session:
        session.add(Member(email="only@first.kr", display_name="First", role="staff"))
        session.commit()
    with binding.tenant_session(one_connection_engine, second.slug) as session:
        assert session.scalar(select(Member.id).where(Member.email == "only@first.kr")) is None
    with one_connection_engine.connect() as connection:
        count = connection.scalar(
            text(f'SELECT count(*) FROM "{schema_for(first.slug)}".members WHERE email = :e'),
            {"e": "only@first.kr"},
        )
    assert count == 1


def test_an_autocommit_connection_binds_its_tenant_and_leaves_the_pooled_connection_transactional(
    one_connection_engine, alpha, beta
):
    with binding.open_autocommit_connection(one_connection_engine, "alpha") as connection:
        alpha_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        assert connection.scalar(select(Member.display_name).where(Member.email == "kim@example.kr")) == (
            "Kim of Alpha"
        )
        connection.execute(insert(Member).values(email="kept@alpha.kr", display_name="Kept", role="staff"))
    # The same pooled connection, in a session again: its writes wait for COMMIT as before.
    with binding.tenant_session(one_connection_engine, "beta") as session:
        assert _backend_pid(session) == alpha_pid
        assert session.scalar(select(Member.display_name).where(Member.email == "kim@example.kr")) == (
            "Kim of Beta"
        )
        session.add(Member(email="dropped@beta.kr", display_name="Dropped", role="staff"))
        session.flush()
        session.rollback()
    with binding.tenant_session(one_connection_engine, "beta") as session:
        assert session.scalar(select(Member.id).where(Member.email == "dropped@beta.kr")) is None
    with binding.tenant_session(one_connection_engine, "alpha") as session:  # committed as it ran
        assert session.scalar(select(Member.id).where(Member.email == "kept@alpha.kr")) is not None
        assert binding.schemas_seen(session.connection()) == {"t_alpha", "t_beta"}
        session.execute(delete(Member).where(Member.email == "kept@alpha.kr"))  # alpha is shared
        session.commit()


def test_a_driver_statement_runs_in_the_binding_of_its_connection(engine, alpha, beta):
    """Rendered once per schema binding and run on the driver: each tenant still reads its own
    rows, and outside any tenant the statement fails closed, with SQLAlchemy's error type."""
    statement = binding.DriverStatement(
        select(Member.display_name, literal(True)).where(Member.email == bindparam("email"))
    )
    for slug in ("alpha", "beta", "alpha"):
        with binding.open_autocommit_connection(engine, slug) as connection:
            expected = "Kim of Alpha" if slug == "alpha" else "Kim of Beta"
            assert statement.first(connection, {"email": "kim@example.kr"}) == (expected, True)
            assert statement.first(connection, {"email": "nobody@example.kr"}) is None
    with binding.open_autocommit_connection(engine, None) as connection, pytest.raises(ProgrammingError):
        statement.first(connection, {"email": "kim@example.kr"})


def test_tenant_tables_outside_a_tenant_unit_of_work_fail_closed(engine, alpha):
    with binding.session_without_tenant(engine) as session, pytest.raises(ProgrammingError):
        session.scalar(select(Member.id).limit(1))


def test_a_connection_is_replaced_after_serving_too_many_tenants(engine, alpha, beta):
    small = create_engine(engine.url, pool_size=1, max_overflow=0)
    binding.install_connection_recycling(small, tenants_per_connection=2)
    try:
        pids = []
        for slug in ["alpha", "beta", "alpha"]:
            with binding.tenant_session(small, slug) as session:
                pids.append(_backend_pid(session))
        assert pids[0] == pids[1], "two tenants fit under the limit"
        assert pids[2] != pids[1], "the third unit of work must get a fresh connection"
    finally:
        small.dispose()


@pytest.mark.parametrize("slug", ["", "A", "1abc", "a", "drop table", "x" * 40, "t-1", "control", "public"])
def test_invalid_or_reserved_slugs_never_reach_sql(slug):
    with pytest.raises(InvalidSlug):
        schema_for(slug)


def test_the_binding_names_a_connections_schema_and_quotes_schema_names_for_sql_text(engine, alpha):
    with binding.open_autocommit_connection(engine, "alpha") as connection:
        assert binding.bound_schema(connection) == "t_alpha"
        table = binding.qualified_name(binding.bound_schema(connection), Member.__tablename__)
        assert table == f'"t_alpha"."{Member.__tablename__}"'
        assert connection.scalar(text(f"SELECT count(*) FROM {table}")) >= 1
    with engine.connect() as connection:
        assert binding.bound_schema(connection) is None
    # Whatever reaches it comes out as one identifier, never as SQL.
    assert binding.quoted_schema('t_x"; DROP SCHEMA control; --') == '"t_x""; DROP SCHEMA control; --"'


def test_a_driver_statement_keeps_a_bounded_number_of_renderings(engine, alpha, beta):
    statement = binding.DriverStatement(select(Member.display_name).where(Member.email == bindparam("email")))
    statement.MAX_RENDERED = 1
    for slug, expected in (("alpha", "Kim of Alpha"), ("beta", "Kim of Beta"), ("alpha", "Kim of Alpha")):
        with binding.open_autocommit_connection(engine, slug) as connection:
            assert statement.first(connection, {"email": "kim@example.kr"}) == (expected,)
        assert list(statement._rendered) == [f"t_{slug}"], "the older rendering is dropped"
    assert binding.DriverStatement.MAX_RENDERED >= 10_000
    assert binding.bound_engine.cache_info().maxsize >= 10_000
