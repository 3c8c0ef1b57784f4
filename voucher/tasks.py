"""Background jobs on RQ: connection, queues, and the job class that runs inside the app context.

Jobs are enqueued with ids (never objects) after the request commits, run inside
``app.app_context()`` with one commit at their end, and are idempotent: the job's own state
lives in our tables, not in RQ's results (which expire).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue, SimpleWorker
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


class _JobHeartbeat(threading.Thread):
    """Beats for the worker while its job runs in the same process: every ``interval`` seconds the
    worker's ``last_heartbeat`` (what ``worker_alive`` reads) and the job's started-registry entry
    are refreshed, as RQ's forking worker does from its parent while the work horse runs.  A job
    that overruns its own timeout by ``grace`` seconds (hung where the timeout signal cannot reach
    it) gets no more beats, so the sweeper fails it over like a dead worker's."""

    def __init__(self, worker: "VoucherWorker", job: Job, execution, interval: float, grace: float = 60.0):
        super().__init__(name=f"heartbeat-{job.id}", daemon=True)
        self.worker, self.job, self.execution, self.interval = worker, job, execution, max(float(interval), 0.5)
        timeout = job.timeout if job.timeout and job.timeout > 0 else None
        self.deadline = time.monotonic() + timeout + grace if timeout else None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            if self.deadline is not None and time.monotonic() > self.deadline:
                log.error("job %s overran its timeout; no more heartbeats for it", self.job.id)
                return
            try:
                self.worker.maintain_heartbeats(self.job, self.execution)
            except Exception:  # Redis briefly away: the next beat tries again
                log.warning("heartbeat for job %s failed", self.job.id, exc_info=True)

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=5)


class VoucherWorker(SimpleWorker):
    """The worker ``flask voucher worker`` runs: RQ's worker **without a fork per job**.

    RQ's default worker forks a work horse for every job; the child then imports reportlab,
    registers the 5 MB CJK font and builds the styles again (about 0.4 s), and forking costs more
    than a 40 ms document.  This one runs each job in its own process, after :func:`preload` did
    that work once; each job still gets a fresh app context and database session (``AppJob``) and
    RQ's timeout (SIGALRM, main thread).  While a job runs, a thread keeps the worker's heartbeat
    (``_JobHeartbeat``), so ``fail_jobs_of_dead_workers`` tells a busy worker from a dead one
    exactly as before: a worker killed mid-job stops beating, and the sweeper fails its job over
    and re-queues it.

    It also schedules the jobs sweeper (``sweep_jobs``) from its maintenance step, every
    ``sweep_seconds``.  The schedule lives in the worker, not in Redis, so a Redis that lost its
    data (restarted without persistence, ``FLUSHDB``) gets a sweep again within one interval."""

    sweep_seconds = 0

    def execute_job(self, job: Job, queue: Queue):
        from rq.worker import WorkerStatus

        execution = self.prepare_execution(job)
        beat = _JobHeartbeat(self, job, execution, self.job_monitoring_interval)
        beat.start()
        try:
            self.perform_job(job, queue, execution)
        finally:
            beat.stop()
        self.set_state(WorkerStatus.IDLE)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        if self.sweep_seconds:
            try:
                schedule_sweep(self.connection, self.sweep_seconds)
            except Exception:  # Redis briefly away: the next maintenance step tries again
                log.exception("could not schedule the jobs sweeper")


def preload() -> None:
    """What every job would otherwise pay on its first use, done once per worker process before
    it takes jobs: reportlab and qrcode imported, the CJK font registered, the styles built, and
    one document rendered (reportlab imports and caches more on its first page), and the bureau's
    signing key loaded."""
    from voucher.documents import signing
    from voucher.documents.pdf import warm_up

    try:
        warm_up()
    except Exception:  # never keep a worker from starting: the first job pays instead
        log.exception("preloading the document renderer failed")
    signing.preload()  # the bureau's signing key, parsed once per worker process


def run_worker(burst: bool = False) -> None:
    conn = redis_connection()
    cfg = current_app.config
    names = cfg["RQ_QUEUES"]
    preload()
    # RQ's scheduler runs in a forked process: drop pooled DB connections first so it never
    # shares a socket with the worker.
    from voucher.extensions import db

    db.engine.dispose()
    sweep = int(cfg.get("JOBS_SWEEP_SECONDS") or 0)
    problem = nightly_settings_problem(cfg)
    if problem:
        log.warning(problem)
    VoucherWorker.sweep_seconds = sweep
    options = {}
    if sweep:
        # Maintenance (which schedules the sweeper) runs between dequeues: wait for a job a third
        # of the interval at most (RQ waits worker_ttl - 15 s), so an idle worker sweeps on time.
        options = {"maintenance_interval": sweep, "worker_ttl": max(5, sweep // 3) + 15}
    worker = VoucherWorker([Queue(n, connection=conn, job_class=AppJob) for n in names], connection=conn,
                           job_class=AppJob, name=f"voucher-{os.getpid()}",
                           job_monitoring_interval=int(cfg.get("RQ_JOB_MONITORING_INTERVAL") or 10), **options)
    worker.work(burst=burst, with_scheduler=True)


# --- the jobs sweeper: lost queue entries and dead workers ------------------------------------

SWEEP_DUE_KEY = "voucher:jobs-sweep:due"
SWEEP_QUEUE = "voucher-default"


def schedule_sweep(conn: Redis, every_seconds: int) -> bool:
    """Enqueue one ``sweep_jobs`` run unless one was enqueued less than ``every_seconds`` ago by
    any worker (a Redis key with that expiry says so).  True when this call enqueued it."""
    if not conn.set(SWEEP_DUE_KEY, "1", nx=True, ex=max(int(every_seconds) - 1, 1)):
        return False
    Queue(SWEEP_QUEUE, connection=conn, job_class=AppJob).enqueue(
        sweep_jobs, result_ttl=300, failure_ttl=24 * 3600, job_timeout=300, description="jobs sweeper")
    return True


def sweep_jobs() -> dict:
    """RQ job (scheduled by every worker, see ``VoucherWorker``): ``recover_jobs``, the day's
    audit-chain anchor published if nobody has yet (so the head is published daily without cron), and
    the nightly jobs enqueued once a day (:func:`schedule_nightly`)."""
    report = recover_jobs()
    if any(report.values()):
        log.warning("jobs sweeper: %s", report)
    from voucher.audit.services import ensure_daily_anchor

    if ensure_daily_anchor() is None:
        log.error("audit chain does not verify: today's anchor was not published")
    enqueued = schedule_nightly(redis_connection())
    if enqueued:
        log.info("jobs sweeper: nightly jobs enqueued: %s", ", ".join(enqueued))
    return report


# --- the nightly jobs: registered by voucher.registries, enqueued by the sweeper ----------------------

NIGHTLY_KEY = "voucher:nightly:"
_NIGHTLY: list = []


def register_nightly(func) -> None:
    """A job to run once a night (the risk scan, the benefits match); registering again changes nothing."""
    if func not in _NIGHTLY:
        _NIGHTLY.append(func)


def nightly_jobs() -> list:
    return list(_NIGHTLY)


def nightly_window(config) -> tuple[int, int] | None:
    """``(NIGHTLY_HOUR, NIGHTLY_END_HOUR)`` in Beijing hours, or None when the nightly jobs never run
    (``NIGHTLY_HOUR`` unset or 24, as in the tests, or a window of no hours).  A start after the end is a
    window across midnight (22 to 5: from 22:00 to 04:59)."""
    start, end = config.get("NIGHTLY_HOUR", 1), config.get("NIGHTLY_END_HOUR", 6)
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):  # unset, or not a number (the worker warns: nightly_settings_problem)
        return None
    if start >= 24:
        return None
    if not (0 <= start < 24 and 0 <= end <= 24) or start == end:
        return None
    return start, end


def nightly_settings_problem(config) -> str | None:
    """What a worker warns about at start: settings meant to give a night window that give none."""
    if nightly_window(config) is None and config.get("NIGHTLY_HOUR", 1) not in (None, 24):
        return (f"NIGHTLY_HOUR {config.get('NIGHTLY_HOUR')!r} and NIGHTLY_END_HOUR {config.get('NIGHTLY_END_HOUR')!r} "
                "give no window (hours 0 to 24, the start not equal to the end): the nightly risk scan and "
                "benefits match will not run")
    return None


def night_of(local: datetime, window: tuple[int, int]) -> date | None:
    """The night a local time belongs to, named by the day its window opened, or None outside it."""
    start, end = window
    if start < end:
        return local.date() if start <= local.hour < end else None
    if local.hour >= start:
        return local.date()
    if local.hour < end:  # after midnight: the night that began the day before
        return local.date() - timedelta(days=1)
    return None


def schedule_nightly(conn: Redis, now: datetime | None = None) -> list[str]:
    """Enqueue every nightly job once per local (Beijing) night, between ``NIGHTLY_HOUR`` and
    ``NIGHTLY_END_HOUR`` (:func:`nightly_window`; a window may cross midnight): the first sweeper run in
    that window does it, whichever worker runs it (a Redis key per night, set only if absent, says it is
    done).  Returns the names enqueued now.  A worker that was down at the hour catches up when it sweeps
    again before the window closes; after it, the work waits for the next night, so a worker first
    started in office hours does not run the whole-data scans while officers work.  No cron is needed;
    ``flask voucher risk-scan`` and ``flask voucher match`` run the same work by hand."""
    from voucher.deadlines import LOCAL_TZ

    now = (now or datetime.now(timezone.utc)).astimezone(LOCAL_TZ)
    window = nightly_window(current_app.config)
    night = night_of(now, window) if window and _NIGHTLY else None
    if night is None:
        return []
    if not conn.set(NIGHTLY_KEY + night.isoformat(), "1", nx=True, ex=3 * 24 * 3600):
        return []
    queue = Queue(SWEEP_QUEUE, connection=conn, job_class=AppJob)
    for func in _NIGHTLY:
        queue.enqueue(func, result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600, job_timeout=3600,
                      description=f"nightly {func.__module__}.{func.__name__}")
    return [f"{func.__module__}.{func.__name__}" for func in _NIGHTLY]


def recover_jobs(conn: Redis | None = None) -> dict:
    """Fail over the jobs of dead workers in RQ, then put every document job whose queue entry is
    gone back on the queue (``voucher.documents.services.recover_lost_jobs``).  Idempotent: a
    second run right after finds nothing to do.  The caller commits (the job class, or the CLI)."""
    conn = conn or redis_connection()
    cfg = current_app.config
    dead = fail_jobs_of_dead_workers(conn, cfg["RQ_QUEUES"], int(cfg.get("JOBS_WORKER_STALE_SECONDS", 30)))
    from voucher.documents.services import recover_lost_jobs

    outcome = recover_lost_jobs(conn)
    return {"dead_worker_jobs": len(dead), **outcome}


def worker_alive(conn: Redis, worker_name: str | None, stale_seconds: int) -> bool:
    """Whether the worker named has sent a heartbeat in the last ``stale_seconds`` (a worker beats
    every ``RQ_JOB_MONITORING_INTERVAL`` seconds while it runs a job).  A worker killed with
    SIGKILL stops beating; its Redis key outlives it for a minute or more."""
    if not worker_name:
        return False
    from rq.utils import utcparse

    last = conn.hget(f"rq:worker:{worker_name}", "last_heartbeat")
    if last is None:
        return False
    from datetime import datetime, timezone

    age = datetime.now(timezone.utc) - utcparse(last.decode()).replace(tzinfo=timezone.utc)
    return age.total_seconds() <= stale_seconds


def fail_jobs_of_dead_workers(conn: Redis, queue_names, stale_seconds: int) -> list[str]:
    """Mark FAILED (in RQ's failed registry) every started job whose worker is gone or silent for
    more than ``stale_seconds``; returns their ids.  Our own records are re-queued afterwards by
    the record sweep (a bounded number of attempts); RQ's own clean-up would wait for the entry
    to expire (minutes)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import JobStatus
    from rq.job_lifecycle import record_job_failure
    from rq.registry import StartedJobRegistry

    failed: list[str] = []
    for name in queue_names:
        registry = StartedJobRegistry(name, connection=conn, job_class=AppJob)
        for composite in conn.zrange(registry.key, 0, -1):
            composite = composite.decode()
            job_id = composite.split(":", 1)[0]
            try:
                job = AppJob.fetch(job_id, connection=conn)
            except NoSuchJobError:
                conn.zrem(registry.key, composite)  # the job's hash is gone: nothing to fail
                continue
            if job.get_status(refresh=False) != JobStatus.STARTED or worker_alive(conn, job.worker_name,
                                                                                   stale_seconds):
                continue
            with conn.pipeline() as pipe:
                record_job_failure(job, f"Worker {job.worker_name} died while running this job "
                                        f"(no heartbeat for more than {stale_seconds} s); failed over.", pipe)
                pipe.zrem(registry.key, composite)
                pipe.execute()
            log.warning("job %s: worker %s died; marked failed", job_id, job.worker_name)
            failed.append(job_id)
    return failed


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
_ROLLBACK = "voucher.tasks.after_rollback"


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


def after_rollback(callback, *args, session: Session | None = None, **kwargs) -> None:
    """Call ``callback(*args, **kwargs)`` if the current database transaction rolls back (undo
    what the database cannot: a file written for a row that is never committed); a commit calls
    nothing.  Each runs on its own (one that raises is logged)."""
    from voucher.extensions import db

    info = (session if session is not None else db.session).info
    info.setdefault(_ROLLBACK, []).append((callback, args, kwargs))


def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_CALLBACKS, None)
    session.info.pop(_COLLECTED, None)
    session.info.pop(_ROLLBACK, None)
    for callback, args, kwargs in callbacks or ():
        try:
            callback(*args, **kwargs)
        except Exception:  # the transaction is committed: never turn that into an error
            log.exception("after-commit work %s%s failed", getattr(callback, "__name__", callback), args)


def _drop_after_commit(session: Session) -> None:
    session.info.pop(_CALLBACKS, None)
    session.info.pop(_COLLECTED, None)
    for callback, args, kwargs in session.info.pop(_ROLLBACK, None) or ():
        try:
            callback(*args, **kwargs)
        except Exception:  # the rollback happened: never turn its clean-up into an error
            log.exception("after-rollback work %s%s failed", getattr(callback, "__name__", callback), args)


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
