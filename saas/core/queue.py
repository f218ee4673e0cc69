"""The RQ queues, and side effects deferred until a transaction commits. Jobs carry ids and
tenant slugs, never objects."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis
from flask import current_app, has_app_context
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

if TYPE_CHECKING:
    from flask import Flask

    from saas.core.settings import Settings

QUEUE_NAMES = ("provisioning", "default", "billing")


EXTENSION_KEY = "chamyeo.queues"


class Queues:
    """The queues' Redis connection. Who owns it, as for the engine (`saas.core.db`): each app
    its own (`init_app` keeps it in `app.extensions`), and a process without an app (a worker,
    a command) the one `configure` made."""

    def __init__(self) -> None:
        self._redis: redis.Redis | None = None

    def configure(self, settings: Settings) -> None:
        if not settings.redis_url:
            raise RuntimeError("settings.redis_url is unset: start the embedded server first")
        self._redis = redis.Redis.from_url(settings.redis_url)

    def init_app(self, app: Flask) -> None:
        own = Queues()
        own.configure(app.config["CHAMYEO_SETTINGS"])
        app.extensions[EXTENSION_KEY] = own
        if self._redis is None:  # the process's too, until something configures it
            self._redis = own._redis

    @property
    def connection(self) -> redis.Redis:
        owner = self
        if has_app_context():
            owner = current_app.extensions.get(EXTENSION_KEY, self)
        if owner._redis is None:
            raise RuntimeError("the queues are not configured")
        return owner._redis

    def get(self, name: str) -> Queue:
        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r}")
        return Queue(name, connection=self.connection)


# session.info key: the actions waiting for a commit, each with the (sub)transaction it was
# registered in.
_PENDING = "chamyeo.after_commit"


def after_commit(session: Session | None, action: Callable[[], Any]) -> None:
    """Run `action` once the transaction `session` is in has committed, and never if it rolls
    back (a savepoint that rolls back drops what was registered inside it; one that is
    released hands it to the enclosing transaction). With no session, or no transaction in
    progress (the work already committed), it runs now.

    The actions run in order after the COMMIT, when the session is usable again; an action's
    exception comes out of `session.commit()` (the data is committed all the same, and the
    actions after it do not run)."""
    if session is None or not session.in_transaction():
        action()
        return
    current = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((current, action))


def enqueue_after_commit(
    session: Session | None,
    queue: Queue,
    function: Callable[..., Any],
    *args: Any,
    **options: Any,  # rq.Queue.enqueue's options (job_id, job_timeout, ...)
) -> None:
    """`queue.enqueue(function, *args, **options)` once `session` commits (see `after_commit`):
    a worker never picks up a job whose rows a rollback took away, or that it would read
    before they are committed."""
    after_commit(session, functools.partial(queue.enqueue, function, *args, **options))


def _inside(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _hand_up_or_mark_ready(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    committed = session.get_nested_transaction()
    if committed is not None:  # a savepoint was released: its actions now wait for its parent
        session.info[_PENDING] = [
            (committed.parent if registered is committed else registered, action)
            for registered, action in pending
        ]
        return
    session.info[_PENDING] = [(None, action) for _, action in pending]  # None: committed


@event.listens_for(Session, "after_transaction_end")
def _run_or_drop(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if transaction.parent is None:  # the outermost transaction: run what committed, drop the rest
        del session.info[_PENDING]
        for registered, action in pending:
            if registered is None:
                action()
        return
    # A savepoint ended without being released (rolled back): what it registered goes with it.
    session.info[_PENDING] = [
        (registered, action) for registered, action in pending if not _inside(registered, transaction)
    ]
