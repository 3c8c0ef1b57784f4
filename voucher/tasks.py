"""Background jobs on RQ: connection, queues, and the job class that runs inside the app context.

Jobs are enqueued with ids (never objects) after the request commits, run inside
``app.app_context()`` with one commit at their end, and are idempotent: the job's own state
lives in our tables, not in RQ's results (which expire).
"""
from __future__ import annotations

import logging
import os
from functools import lru_cache

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def redis_connection(url: str | None = None) -> Redis:
    url = url or current_app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: start the system with `make run` (embedded Redis) "
                           "or point REDIS_URL at a Redis server.")
    return Redis.from_url(url)


@lru_cache(maxsize=1)
def _worker_app():
    from voucher import create_app

    return create_app()


class AppJob(Job):
    """Runs the job function inside a fresh Flask app context (so a fresh database session);
    commits once at the end.

    In a worker process that is the worker's app; where an app context is already active (a
    burst ``SimpleWorker`` started inside ``with app.app_context():`` in tests or the bench), a
    new context of *that* app is pushed, so the job gets the caller's configuration but its own
    session, as it would in a worker.
    """

    def perform(self):
        app = current_app._get_current_object() if has_app_context() else _worker_app()
        with app.app_context():
            return self._perform_committing()

    def _perform_committing(self):
        from voucher.extensions import db

        try:
            result = super().perform()
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def queue(name: str = "voucher-default", connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection(), job_class=AppJob)


def run_worker(burst: bool = False) -> None:
    conn = redis_connection()
    names = current_app.config["RQ_QUEUES"]
    # The forking worker gives each job a clean process; drop pooled DB connections first so
    # a child never shares a socket with its parent.
    from voucher.extensions import db

    db.engine.dispose()
    worker = Worker([Queue(n, connection=conn, job_class=AppJob) for n in names], connection=conn,
                    job_class=AppJob, name=f"voucher-{os.getpid()}")
    worker.work(burst=burst, with_scheduler=True)


# --- work done when the transaction commits ---------------------------------------------------
#
# The one after-commit mechanism: callbacks parked in the database session's ``info`` run once
# the session really commits, and are dropped when it rolls back.  Its two listeners are
# registered by ``create_app`` (``register_after_commit``), never at import time: a module
# imported lazily from inside an ``after_commit`` listener would otherwise register a listener
# while SQLAlchemy iterates them ("deque mutated during iteration": a 500 after the commit, on
# the first such request of every process).

_CALLBACKS = "voucher.tasks.after_commit"
_COLLECTED = "voucher.tasks.after_commit_collected"


def after_commit(callback, *args, session: Session | None = None, **kwargs) -> None:
    """Call ``callback(*args, **kwargs)`` once the current database transaction commits; a
    rolled-back transaction calls nothing.  Callbacks run in the order they were added, each on
    its own (one that raises is logged and does not stop the others)."""
    from voucher.extensions import db

    info = (session if session is not None else db.session).info
    info.setdefault(_CALLBACKS, []).append((callback, args, kwargs))


def collect_after_commit(key: str, items, callback, *, session: Session | None = None) -> None:
    """Gather ``items`` under ``key`` during the transaction; at the commit ``callback`` is called
    once with all of them (a list, in the order gathered).  For work batched per transaction
    (one mail job for every notification of a request)."""
    from voucher.extensions import db

    info = (session if session is not None else db.session).info
    collected = info.setdefault(_COLLECTED, {})
    if key not in collected:
        collected[key] = []
        # The list itself is the argument: items gathered later in the transaction land in it.
        after_commit(callback, collected[key], session=session)
    collected[key].extend(items)


def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_CALLBACKS, None)
    session.info.pop(_COLLECTED, None)
    for callback, args, kwargs in callbacks or ():
        try:
            callback(*args, **kwargs)
        except Exception:  # the transaction is committed: never turn that into an error
            log.exception("after-commit work %s%s failed", getattr(callback, "__name__", callback), args)


def _drop_after_commit(session: Session) -> None:
    session.info.pop(_CALLBACKS, None)
    session.info.pop(_COLLECTED, None)


def register_after_commit() -> None:
    """Install the after-commit listeners on every SQLAlchemy session (once per process; called by
    ``create_app``)."""
    if not event.contains(Session, "after_commit", _run_after_commit):
        event.listen(Session, "after_commit", _run_after_commit)
        event.listen(Session, "after_rollback", _drop_after_commit)


def enqueue_after_commit(func, *args, at=None, queue_name: str = "voucher-default", **options) -> None:
    """Enqueue ``func(*args)`` once the current database transaction commits — at ``at`` (an aware
    datetime) when given, through RQ's scheduler, which every ``voucher worker`` runs.  A rolled-back
    transaction enqueues nothing; a queue that cannot be reached is logged (the jobs that use this
    are sweeps that the next run, or ``flask voucher`` commands, catch up)."""
    after_commit(_enqueue, func, args, at, queue_name, options)


def _enqueue(func, args, at, queue_name: str, options: dict) -> None:
    if not has_app_context():
        return
    try:
        q = queue(queue_name)
        if at is not None:
            q.enqueue_at(at, func, *args, **options)
        else:
            q.enqueue(func, *args, **options)
    except Exception:  # pragma: no cover - depends on Redis being down
        log.exception("could not enqueue %s%s", getattr(func, "__name__", func), args)
