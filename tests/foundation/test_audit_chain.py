"""The audit trail is append-only (the database refuses changes) and hash-chained."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from saas.core.audit import services as audit
from saas.core.audit.models import AuditEvent
from saas.core.tenancy.binding import session_without_tenant


def _append(engine, n, action="test.event"):
    with session_without_tenant(engine) as session:
        ids = [audit.record(session, actor="test", action=action, data={"n": i}).id for i in range(n)]
        session.commit()
    return ids


def test_each_event_links_to_the_previous_one(engine):
    ids = _append(engine, 3)
    with session_without_tenant(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id)
        ).all()
        assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
        assert audit.verify_chain(session).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE control.audit_events SET actor = 'someone else'",
        "DELETE FROM control.audit_events",
        "TRUNCATE control.audit_events",
    ],
)
def test_the_database_refuses_to_change_audit_events(engine, statement):
    _append(engine, 1)
    with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text(statement))


def test_verify_names_the_first_tampered_event(engine):
    ids = _append(engine, 3, action="test.tamper")
    target = ids[1]
    with engine.begin() as connection:
        # A superuser can switch the trigger off; the chain still gives the edit away.
        connection.execute(text("ALTER TABLE control.audit_events DISABLE TRIGGER audit_events_append_only"))
        connection.execute(
            text("UPDATE control.audit_events SET data = '{\"n\": 99}' WHERE id = :id"), {"id": target}
        )
        connection.execute(text("ALTER TABLE control.audit_events ENABLE TRIGGER audit_events_append_only"))
    try:
        with session_without_tenant(engine) as session:
            report = audit.verify_chain(session)
        assert not report.ok
        assert report.first_broken_id == target and "content" in report.problem
    finally:
        with engine.begin() as connection:  # put it back so later tests see an intact chain
            connection.execute(
                text("ALTER TABLE control.audit_events DISABLE TRIGGER audit_events_append_only")
            )
            connection.execute(
                text("UPDATE control.audit_events SET data = '{\"n\": 1}' WHERE id = :id"), {"id": target}
            )
            connection.execute(
                text("ALTER TABLE control.audit_events ENABLE TRIGGER audit_events_append_only")
            )
    with session_without_tenant(engine) as session:
        assert audit.verify_chain(session).ok


def test_concurrent_appends_keep_one_chain(engine):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: _append(engine, 5, action="test.concurrent"), range(6)))
    with session_without_tenant(engine) as session:
        report = audit.verify_chain(session)
        prevs = session.scalars(select(AuditEvent.prev_hash)).all()
    assert report.ok
    assert len(prevs) == len(set(prevs)), "two events chained onto the same predecessor"
