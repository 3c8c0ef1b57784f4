"""The production worker (``flask voucher worker`` → ``voucher.tasks.run_worker``): jobs run in the
worker's own process (no fork per job) after the renderer was preloaded; a job longer than the
heartbeat interval keeps its worker alive for the sweeper; a batch is one job per document, so
any number of workers share it, and a document job delivered twice (or run by two workers)
stores one document.  Real Redis, real commits."""
from __future__ import annotations

import os
import time

from sqlalchemy import func, select

from tests.documents.conftest import payment_order_builder
from voucher.documents import services
from voucher.documents.builders import register_builder
from voucher.documents.jobs import run_document_job
from voucher.documents.models import Document, JobRecord
from voucher.extensions import db
from voucher.tasks import AppJob, VoucherWorker, fail_jobs_of_dead_workers, worker_alive


def _worker(jobs_env, **options) -> VoucherWorker:
    db.session.remove()
    return VoucherWorker([jobs_env.queue], connection=jobs_env.conn, job_class=AppJob, **options)


def _documents_per_subject(ids) -> list[int]:
    db.session.remove()
    return [db.session.scalar(select(func.count()).select_from(Document).where(Document.subject_id == i))
            for i in ids]


def test_the_worker_runs_each_job_in_its_own_process_without_forking(jobs_env, monkeypatch):
    pids: list[int] = []

    def builder(subject_id, lang, issue):
        pids.append(os.getpid())  # visible here only if the job ran in this very process
        return payment_order_builder(subject_id, lang, issue)

    def no_fork():
        raise AssertionError("the worker forked")

    register_builder("payment_order", builder)
    finance = jobs_env.user("finance")
    ids = [services.request_document(finance.actor(), "payment_order", "disbursement", sid).id for sid in (1, 2, 3)]
    db.session.commit()
    monkeypatch.setattr(os, "fork", no_fork)
    _worker(jobs_env).work(burst=True, logging_level="WARNING")
    db.session.remove()
    assert pids == [os.getpid()] * 3
    assert [db.session.get(JobRecord, i).status for i in ids] == ["succeeded"] * 3
    assert _documents_per_subject((1, 2, 3)) == [1, 1, 1]


def test_run_worker_preloads_the_renderer_before_its_first_job(jobs_env, monkeypatch):
    from voucher.documents import pdf
    from voucher.tasks import run_worker

    events: list[str] = []
    real_warm_up = pdf.warm_up

    def warm_up():
        events.append("preload")
        real_warm_up()

    def builder(subject_id, lang, issue):
        events.append(f"job {subject_id}")
        return payment_order_builder(subject_id, lang, issue)

    monkeypatch.setattr(pdf, "warm_up", warm_up)
    register_builder("payment_order", builder)
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    db.session.remove()
    run_worker(burst=True)
    assert events == ["preload", "job 1"]
    assert jobs_env.fresh(JobRecord, job_id).status == "succeeded"
    # Preloaded means registered: the font is there before any document is built.
    from reportlab.pdfbase import pdfmetrics

    assert pdf.FONT_NAME in pdfmetrics.getRegisteredFontNames()


def test_a_job_longer_than_the_heartbeat_interval_keeps_its_worker_alive(jobs_env):
    seen: dict = {}

    def slow_builder(subject_id, lang, issue):
        from rq import get_current_job

        worker_name = get_current_job().worker_name
        time.sleep(2.5)  # the job runs in the main thread; the heartbeat thread beats every second
        seen["alive"] = worker_alive(jobs_env.conn, worker_name, stale_seconds=2)
        seen["failed_over"] = fail_jobs_of_dead_workers(jobs_env.conn, [jobs_env.queue.name], 2)
        return payment_order_builder(subject_id, lang, issue)

    register_builder("payment_order", slow_builder)
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    _worker(jobs_env, job_monitoring_interval=1).work(burst=True, logging_level="WARNING")
    # Without beats during the job its last heartbeat (taken when it started) would be 2.5 s old.
    assert seen == {"alive": True, "failed_over": []}
    assert jobs_env.fresh(JobRecord, job_id).status == "succeeded"


def test_a_batch_fans_out_one_job_per_document_and_each_is_stored_once_when_delivered_twice(jobs_env):
    finance = jobs_env.user("finance")
    parent = services.request_batch(finance.actor(), "payment_order", "disbursement", range(1, 9))
    db.session.commit()
    parent_id = parent.id
    children = list(db.session.scalars(select(JobRecord).where(JobRecord.parent_id == parent_id)
                                       .order_by(JobRecord.id)))
    rq_ids = [c.rq_job_id for c in children]
    # One queue entry per document, ids in (the record id, nothing else): any worker can take any.
    assert len(set(rq_ids)) == 8 and jobs_env.queued_count() == 8
    assert [jobs_env.queue.fetch_job(i).args for i in rq_ids] == [(c.id,) for c in children]
    # Every entry delivered a second time (a redelivery, or a second worker taking the same job).
    for rq_id in rq_ids:
        jobs_env.queue.push_job_id(rq_id)
    assert jobs_env.queued_count() == 16

    # Two workers share the queue: the first takes five entries, the second the rest.
    _worker(jobs_env).work(burst=True, max_jobs=5, logging_level="WARNING")
    _worker(jobs_env).work(burst=True, logging_level="WARNING")
    assert jobs_env.queued_count() == 0
    assert _documents_per_subject(range(1, 9)) == [1] * 8
    parent = jobs_env.fresh(JobRecord, parent_id)
    assert parent.status == "succeeded" and parent.progress == 100
    statuses = db.session.scalars(select(JobRecord.status).where(JobRecord.parent_id == parent_id)).all()
    assert statuses == ["succeeded"] * 8

    # Run by hand once more (ids in, inside the app context): it links the stored document.
    child_id = children[0].id
    first = jobs_env.fresh(JobRecord, child_id).result_document_id
    db.session.remove()
    with jobs_env.app.app_context():
        assert run_document_job(child_id) == first
    assert _documents_per_subject([1]) == [1]
    assert db.session.scalar(select(func.count()).select_from(Document)) == 8
