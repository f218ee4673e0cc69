"""Side effects after commit (saas.core.queue.after_commit): a job is on the queue only once
its transaction committed, with its rows visible to any other connection, and never when the
transaction (or the savepoint it was registered in) rolled back. Real PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from saas.core.queue import after_commit, enqueue_after_commit


@pytest.fixture
def queue(private_queue):
    return private_queue


@pytest.fixture
def database(scratch_engine):
    with scratch_engine.begin() as connection:
        connection.execute(text("CREATE TABLE parcel (id int PRIMARY KEY)"))
    return scratch_engine


def _insert(session: Session, parcel: int) -> None:
    session.execute(text("INSERT INTO parcel VALUES (:id)"), {"id": parcel})


def _committed(engine, parcel: int) -> bool:
    with engine.connect() as other:  # another connection sees only what was committed
        return other.scalar(text("SELECT count(*) FROM parcel WHERE id = :id"), {"id": parcel}) == 1


def test_the_job_is_enqueued_when_the_transaction_commits_and_its_rows_are_visible(database, queue):
    seen_at_enqueue = []
    with Session(database) as session:
        _insert(session, 1)
        after_commit(session, lambda: seen_at_enqueue.append(_committed(database, 1)))
        enqueue_after_commit(session, queue, "builtins.print", 1, job_id=f"{queue.name}-1")
        assert queue.count == 0  # not before the COMMIT
        session.commit()
    assert seen_at_enqueue == [True]
    assert queue.job_ids == [f"{queue.name}-1"]
    assert queue.fetch_job(f"{queue.name}-1").args == (1,)


def test_nothing_is_enqueued_when_the_transaction_rolls_back(database, queue):
    with Session(database) as session:
        _insert(session, 2)
        enqueue_after_commit(session, queue, "builtins.print", 2)
        session.rollback()
        _insert(session, 3)  # a next transaction of the same session commits: still nothing
        session.commit()
    assert queue.count == 0
    assert not _committed(database, 2)


def test_nothing_is_enqueued_when_the_session_closes_without_committing(database, queue):
    with Session(database) as session:
        _insert(session, 4)
        enqueue_after_commit(session, queue, "builtins.print", 4)
    assert queue.count == 0
    with Session(database) as session:  # and a later session's commit does not run it either
        _insert(session, 5)
        session.commit()
    assert queue.count == 0


def test_a_rolled_back_savepoint_drops_its_jobs_and_a_released_one_keeps_them(database, queue):
    with Session(database) as session:
        _insert(session, 6)
        savepoint = session.begin_nested()
        _insert(session, 7)
        enqueue_after_commit(session, queue, "builtins.print", 7, job_id=f"{queue.name}-7")
        savepoint.rollback()
        with session.begin_nested():  # released at the end of the block
            _insert(session, 8)
            enqueue_after_commit(session, queue, "builtins.print", 8, job_id=f"{queue.name}-8")
        assert queue.count == 0  # a released savepoint is not a commit
        session.commit()
    assert queue.job_ids == [f"{queue.name}-8"]
    assert not _committed(database, 7)


def test_outside_a_transaction_the_job_is_enqueued_at_once(database, queue):
    enqueue_after_commit(None, queue, "builtins.print", 9)
    with Session(database) as session:
        _insert(session, 10)
        session.commit()  # the work is committed already: nothing to wait for
        enqueue_after_commit(session, queue, "builtins.print", 10)
    assert queue.count == 2
