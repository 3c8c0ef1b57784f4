"""The jobs sweeper (``voucher.tasks.recover_jobs``, ``flask voucher jobs-recover``, scheduled by
every worker): document jobs lost by Redis or by a dead worker are done exactly once without
anyone retrying them by hand.  Real Redis, real commits, a burst SimpleWorker."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import Worker
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from voucher.db import utcnow
from voucher.documents import services
from voucher.documents.models import Document, JobRecord
from voucher.extensions import db
from voucher.tasks import AppJob, fail_jobs_of_dead_workers, recover_jobs, schedule_sweep


@pytest.fixture()
def no_grace(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_QUEUE_GRACE_SECONDS", 0)


def _documents_per_subject(ids) -> list[int]:
    db.session.remove()
    return [db.session.scalar(select(func.count()).select_from(Document).where(Document.subject_id == i))
            for i in ids]


def _statuses(ids) -> list[str]:
    db.session.remove()
    return [db.session.get(JobRecord, i).status for i in ids]


def test_after_redis_lost_its_data_the_sweeper_requeues_every_queued_job_and_each_is_done_once(jobs_env, no_grace):
    finance = jobs_env.user("finance")
    ids = [services.request_document(finance.actor(), "payment_order", "disbursement", sid).id
           for sid in range(1, 11)]
    db.session.commit()
    assert jobs_env.queued_count() == 10
    jobs_env.conn.flushdb()  # Redis restarted without persistence
    time.sleep(0.01)
    jobs_env.drain()
    assert _statuses(ids) == ["queued"] * 10  # nothing runs them: the queue forgot them

    report = recover_jobs()
    db.session.commit()
    assert report == {"dead_worker_jobs": 0, "requeued": 10, "linked": 0, "failed": 0}
    assert jobs_env.queued_count() == 10
    assert recover_jobs()["requeued"] == 0  # a second sweep finds them queued: nothing twice
    db.session.commit()
    jobs_env.drain()
    assert _statuses(ids) == ["succeeded"] * 10
    assert _documents_per_subject(range(1, 11)) == [1] * 10
    from voucher.audit.models import AuditEvent

    recovered = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "document.job_recovered"))
    assert recovered == 10


def test_a_batch_whose_queue_was_flushed_finishes_after_the_sweep(jobs_env, no_grace):
    finance = jobs_env.user("finance")
    parent_id = services.request_batch(finance.actor(), "payment_order", "disbursement", [1, 2, 3]).id
    db.session.commit()
    jobs_env.work(max_jobs=1)  # one child done, two still queued
    jobs_env.conn.flushdb()
    time.sleep(0.01)
    assert recover_jobs()["requeued"] == 2
    db.session.commit()
    jobs_env.drain()
    parent = jobs_env.fresh(JobRecord, parent_id)
    assert parent.status == "succeeded" and parent.progress == 100
    assert _documents_per_subject([1, 2, 3]) == [1, 1, 1]


def _start_as_dead_worker(jobs_env, record_id: int, worker_name: str, heartbeat_age: timedelta | None):
    """The worker ``worker_name`` took the job off the queue and started it (RQ's started
    registry, our record 'running'), then died: its heartbeat is ``heartbeat_age`` old, or its
    key is gone (None)."""
    from rq.utils import utcformat

    job, _queue = AppJob.fetch(jobs_env.fresh(JobRecord, record_id).rq_job_id, connection=jobs_env.conn), None
    worker = Worker([jobs_env.queue], name=worker_name, connection=jobs_env.conn, job_class=AppJob)
    jobs_env.queue.remove(job.id)
    worker.prepare_execution(job)  # what the worker does before it forks the job (started registry)
    worker.prepare_job_execution(job)  # and what its work horse does (status "started", worker name)
    if heartbeat_age is None:
        jobs_env.conn.delete(worker.key)
    else:
        jobs_env.conn.hset(worker.key, "last_heartbeat", utcformat(utcnow() - heartbeat_age))
    record = jobs_env.fresh(JobRecord, record_id)
    record.status, record.attempts, record.progress = "running", 1, 10
    record.started_at = record.updated_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return job


@pytest.mark.parametrize("heartbeat_age", [None, timedelta(seconds=45)], ids=["worker-key-gone", "heartbeat-stale"])
def test_a_job_whose_worker_died_is_failed_over_and_done_once(jobs_env, heartbeat_age):
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    rq_job = _start_as_dead_worker(jobs_env, job_id, "voucher-dead-4242", heartbeat_age)
    assert jobs_env.queue.started_job_registry.count == 1 and jobs_env.queued_count() == 0

    report = recover_jobs()
    db.session.commit()
    assert report["dead_worker_jobs"] == 1 and report["requeued"] == 1
    assert rq_job.get_status(refresh=True) == JobStatus.FAILED
    assert jobs_env.queue.started_job_registry.count == 0
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "queued" and record.rq_job_id != rq_job.id
    jobs_env.drain()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "succeeded" and record.attempts == 2
    assert _documents_per_subject([1]) == [1]
    # The dead worker's entry, were it ever run again, does nothing.
    from voucher.documents.jobs import enqueue_now

    enqueue_now([(job_id, rq_job.id)])
    jobs_env.drain()
    assert _documents_per_subject([1]) == [1]


def test_a_job_running_on_a_live_worker_is_left_alone(jobs_env, no_grace):
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    rq_job = _start_as_dead_worker(jobs_env, job_id, "voucher-alive-1", timedelta(seconds=3))
    assert fail_jobs_of_dead_workers(jobs_env.conn, ["voucher-documents"], 30) == []
    assert recover_jobs() == {"dead_worker_jobs": 0, "requeued": 0, "linked": 0, "failed": 0}
    db.session.rollback()
    assert rq_job.get_status(refresh=True) == JobStatus.STARTED
    assert jobs_env.fresh(JobRecord, job_id).rq_job_id == rq_job.id


def test_a_job_that_stored_its_document_before_its_worker_died_is_marked_done_not_rebuilt(jobs_env, no_grace):
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    jobs_env.drain()
    [document] = _documents_of(1)
    # As if the worker died after the document's commit but before RQ and our record noted it.
    record = jobs_env.fresh(JobRecord, job_id)
    record.status, record.result_document_id, record.updated_at = "running", None, utcnow() - timedelta(minutes=1)
    record.active_key = "payment_order:disbursement:1"
    db.session.commit()
    Job.fetch(record.rq_job_id, connection=jobs_env.conn).delete()

    assert recover_jobs()["linked"] == 1
    db.session.commit()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "succeeded" and record.result_document_id == document.id and record.active_key is None
    assert [d.id for d in _documents_of(1)] == [document.id] and jobs_env.queued_count() == 0


def _documents_of(subject_id: int) -> list[Document]:
    db.session.remove()
    return list(db.session.scalars(select(Document).where(Document.subject_id == subject_id)))


def test_a_job_lost_too_many_times_fails_for_a_person_to_look_at(jobs_env, no_grace, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_RECOVER_MAX_ATTEMPTS", 3)
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    record = jobs_env.fresh(JobRecord, job_id)
    record.status, record.attempts, record.updated_at = "running", 3, utcnow() - timedelta(minutes=1)
    db.session.commit()
    jobs_env.conn.flushdb()

    assert recover_jobs()["failed"] == 1
    db.session.commit()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "failed" and record.active_key is None and "lost 3 times" in record.message
    assert jobs_env.queued_count() == 0


def test_a_job_just_committed_is_not_requeued_before_its_enqueue_had_time(jobs_env, app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_QUEUE_GRACE_SECONDS", 60)
    finance = jobs_env.user("finance")
    services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    db.session.commit()
    jobs_env.conn.flushdb()
    assert recover_jobs()["requeued"] == 0


def test_the_cli_recovers_a_flushed_queue(jobs_env, no_grace, app):
    finance = jobs_env.user("finance")
    ids = [services.request_document(finance.actor(), "payment_order", "disbursement", sid).id for sid in (1, 2)]
    db.session.commit()
    jobs_env.conn.flushdb()
    time.sleep(0.01)
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["voucher", "jobs-recover"])
    assert result.exit_code == 0, result.output
    assert "document jobs re-queued: 2" in result.output
    assert jobs_env.queued_count() == 2
    jobs_env.drain()
    assert _statuses(ids) == ["succeeded", "succeeded"]
    assert _documents_per_subject([1, 2]) == [1, 1]


def test_workers_schedule_one_sweep_per_interval_and_again_after_a_flush(jobs_env):
    from rq import Queue

    from voucher.tasks import SWEEP_QUEUE, VoucherWorker

    sweeps = Queue(SWEEP_QUEUE, connection=jobs_env.conn)
    sweeps.empty()
    worker = VoucherWorker([sweeps], connection=jobs_env.conn, job_class=AppJob)
    worker.sweep_seconds = 30
    worker.run_maintenance_tasks()
    worker.run_maintenance_tasks()  # a second worker (or step) within the interval: no second sweep
    [sweep] = sweeps.jobs
    assert sweep.func_name == "voucher.tasks.sweep_jobs"
    from rq import SimpleWorker

    db.session.remove()
    SimpleWorker([sweeps], connection=jobs_env.conn, job_class=AppJob).work(burst=True, logging_level="WARNING")
    assert sweep.get_status(refresh=True) == JobStatus.FINISHED
    assert sweep.return_value() == {"dead_worker_jobs": 0, "requeued": 0, "linked": 0, "failed": 0}
    # The sweep also publishes the day's audit-chain head (no cron needed).
    from voucher.audit.models import AuditAnchor
    from voucher.deadlines import local_today

    assert db.session.scalar(select(AuditAnchor.chain_length).where(AuditAnchor.anchored_on == local_today())) is not None
    jobs_env.conn.flushdb()  # the schedule lives in the workers: a flushed Redis gets its sweep again
    assert schedule_sweep(jobs_env.conn, 30) is True and sweeps.count == 1
    sweeps.empty()
