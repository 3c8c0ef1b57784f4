"""Real RQ jobs on real Redis (embedded locally, this machine's in CI) with a burst SimpleWorker,
real commits (committed_app): documents stored with their SHA-256, retries that never duplicate,
a killed job re-run, batch progress."""
from __future__ import annotations

import hashlib
import io

import pypdf
import pytest
from sqlalchemy import func, select

from tests.documents.conftest import payment_order_builder
from voucher.documents import services
from voucher.documents.builders import PermanentJobError, register_builder
from voucher.documents.jobs import DOCUMENT_QUEUE, enqueue_now
from voucher.documents.models import Document, JobRecord
from voucher.errors import Conflict, Forbidden
from voucher.extensions import db
from voucher.storage import read_bytes


def documents_for(subject_id: int, kind: str = "payment_order") -> list[Document]:
    db.session.remove()
    return list(db.session.scalars(select(Document).where(Document.kind == kind, Document.subject_id == subject_id)
                                   .order_by(Document.version)))


def _counter(env, name: str) -> int:
    return env.counter(name)


def test_job_stores_a_document_whose_sha256_matches_the_stored_bytes(jobs_env, app):
    finance = jobs_env.user("finance")
    record = services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    db.session.commit()
    job_id = record.id
    assert jobs_env.queued_count() == 1
    jobs_env.drain()

    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "succeeded" and record.progress == 100 and record.attempts == 1
    assert record.active_key is None and record.finished_at is not None
    [document] = documents_for(1)
    assert record.result_document_id == document.id and document.created_by_job == job_id
    data = read_bytes(document.stored_file)
    assert hashlib.sha256(data).hexdigest() == document.sha256 == document.stored_file.sha256
    assert document.status == "valid" and document.version == 1 and len(document.verification_code) == 10
    text = "".join(pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "温州智造科技有限公司" in text and "¥100,000.00" in text and "壹拾万元整" in text
    assert document.verification_code in text
    assert f"/verify/{document.verification_code}" in text
    from voucher.audit.models import AuditEvent
    from voucher.audit.services import verify_chain

    issued = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.issued"))
    assert issued.object_id == str(document.id) and issued.after["sha256"] == document.sha256
    assert verify_chain().ok


@pytest.mark.parametrize("subject_id, figures, capitals", [(2, "¥40,000.00", "肆万元整"),
                                                          (3, "¥123.45", "壹佰贰拾叁元肆角伍分")])
def test_job_pdfs_show_amounts_in_figures_and_capitals(jobs_env, app, subject_id, figures, capitals):
    finance = jobs_env.user("finance")
    services.request_document(finance.actor(), "payment_order", "disbursement", subject_id)
    db.session.commit()
    jobs_env.drain()
    [document] = documents_for(subject_id)
    data = read_bytes(document.stored_file)
    text = "".join(pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert figures in text and capitals in text and document.verification_code in text


def test_nothing_is_enqueued_before_the_commit_nor_after_a_rollback(jobs_env):
    finance = jobs_env.user("finance")
    services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    db.session.flush()
    assert jobs_env.queued_count() == 0  # still inside the transaction
    db.session.rollback()
    assert jobs_env.queued_count() == 0
    assert db.session.scalar(select(func.count()).select_from(JobRecord)) == 0
    services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    db.session.commit()
    assert jobs_env.queued_count() == 1


def test_a_job_that_raises_once_then_succeeds_leaves_one_document(jobs_env):
    def flaky(subject_id, lang, issue):
        if _counter(jobs_env, f"flaky-{subject_id}") == 1:
            raise ConnectionError("storage briefly unreachable")
        return payment_order_builder(subject_id, lang, issue)

    register_builder("payment_order", flaky)
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()

    jobs_env.work()  # first attempt fails; RQ schedules the retry 2 s later (backoff)
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "queued" and "storage briefly unreachable" in record.message
    assert jobs_env.queue.scheduled_job_registry.count == 1
    assert documents_for(1) == []

    jobs_env.drain()  # the scheduled retry falls due and succeeds
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "succeeded" and record.attempts == 2 and record.message is None
    assert len(documents_for(1)) == 1


def test_a_job_failing_every_time_ends_failed_after_its_retries(jobs_env, app):
    def broken(subject_id, lang, issue):
        raise ConnectionError("still down")

    register_builder("payment_order", broken)
    app.config["DOCUMENT_JOB_RETRY_INTERVALS"] = (0,)  # immediate retries: this test is about the count
    try:
        finance = jobs_env.user("finance")
        job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
        db.session.commit()
        jobs_env.drain()
    finally:
        app.config.pop("DOCUMENT_JOB_RETRY_INTERVALS")
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "failed" and record.attempts == 4  # first run + Retry(max=3)
    assert "still down" in record.message and record.active_key is None
    assert documents_for(1) == []


class SimulatedKill(BaseException):
    """Stands for the worker process dying: nothing after it in the job runs, nothing is caught."""


def test_a_job_killed_mid_way_is_rerun_by_retry_job_and_makes_one_document(jobs_env):
    def dies_first_time(subject_id, lang, issue):
        if _counter(jobs_env, f"kill-{subject_id}") == 1:
            raise SimulatedKill()
        return payment_order_builder(subject_id, lang, issue)

    register_builder("payment_order", dies_first_time)
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    old_rq_id = jobs_env.fresh(JobRecord, job_id).rq_job_id
    jobs_env.work(max_jobs=1)
    # The worker "died" mid-way: the record still says running, nothing was stored; the queue
    # entry is gone (a killed worker's job is eventually cleaned out of Redis).
    from rq.job import Job

    Job.fetch(old_rq_id, connection=jobs_env.conn).delete()
    jobs_env.clear_queue()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "running" and record.attempts == 1
    assert documents_for(1) == []

    services.retry_job(finance.actor(), job_id)
    db.session.commit()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "queued" and record.rq_job_id != old_rq_id
    jobs_env.drain()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "succeeded" and record.attempts == 2
    assert len(documents_for(1)) == 1

    # The old queue entry, were it ever delivered again, does nothing.
    enqueue_now([(job_id, old_rq_id)])
    jobs_env.drain()
    assert len(documents_for(1)) == 1


def test_a_permanent_failure_fails_at_once_and_retry_job_reruns_it_once(jobs_env):
    def missing_data_first(subject_id, lang, issue):
        if _counter(jobs_env, f"perm-{subject_id}") == 1:
            raise PermanentJobError("the disbursement has no bank account")
        return payment_order_builder(subject_id, lang, issue)

    register_builder("payment_order", missing_data_first)
    finance = jobs_env.user("finance")
    officer = jobs_env.user("officer")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    jobs_env.drain()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "failed" and record.attempts == 1  # not retried by RQ
    assert "no bank account" in record.message

    with pytest.raises(Forbidden):
        services.retry_job(officer.actor(), job_id)
    services.retry_job(finance.actor(), job_id)
    db.session.commit()
    with pytest.raises(Conflict):  # really queued now: a second retry is refused
        services.retry_job(finance.actor(), job_id)
    db.session.rollback()
    jobs_env.drain()
    assert jobs_env.fresh(JobRecord, job_id).status == "succeeded"
    assert len(documents_for(1)) == 1
    with pytest.raises(Conflict):
        services.retry_job(finance.actor(), job_id)


def test_a_redelivered_job_links_its_document_instead_of_making_another(jobs_env):
    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    jobs_env.drain()
    record = jobs_env.fresh(JobRecord, job_id)
    [document] = documents_for(1)
    # RQ delivers the same job again (e.g. its worker died after our commit, before RQ noted success).
    enqueue_now([(job_id, record.rq_job_id)])
    jobs_env.drain()
    assert [d.id for d in documents_for(1)] == [document.id]
    assert jobs_env.fresh(JobRecord, job_id).result_document_id == document.id


def test_asking_twice_while_queued_gives_one_job_and_asking_later_a_new_version(jobs_env):
    finance = jobs_env.user("finance")
    first = services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    second = services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    assert first.id == second.id
    db.session.commit()
    assert jobs_env.queued_count() == 1
    jobs_env.drain()
    services.request_document(finance.actor(), "payment_order", "disbursement", 1)
    db.session.commit()
    jobs_env.drain()
    v1, v2 = documents_for(1)
    assert (v1.version, v1.status) == (1, "superseded") and (v2.version, v2.status) == (2, "valid")
    assert v1.verification_code != v2.verification_code and v1.sha256 != v2.sha256


def test_a_batch_of_20_shows_progress_from_0_to_100(jobs_env):
    from voucher.documents.queries import job_view

    finance = jobs_env.user("finance")
    parent = services.request_batch(finance.actor(), "payment_order", "disbursement", range(1, 21))
    db.session.commit()
    parent_id = parent.id

    def progress() -> int:
        db.session.remove()
        return job_view(db.session.get(JobRecord, parent_id)).progress

    seen = [progress()]
    assert seen == [0] and jobs_env.queued_count() == 20
    while jobs_env.queued_count():
        jobs_env.work(max_jobs=5)
        seen.append(progress())
    assert seen == [0, 25, 50, 75, 100]
    parent = jobs_env.fresh(JobRecord, parent_id)
    assert parent.status == "succeeded" and parent.progress == 100 and parent.finished_at is not None
    assert db.session.scalar(select(func.count()).select_from(Document)) == 20


def test_the_progress_bar_polls_while_a_batch_runs_and_stops_when_done(jobs_env):
    from tests.factories import do_login

    finance = jobs_env.user("finance", password="pw-finance-bar-long")
    parent_id = services.request_batch(finance.actor(), "payment_order", "disbursement", range(1, 5)).id
    db.session.commit()
    client = jobs_env.app.test_client()
    assert do_login(client, finance.email, "pw-finance-bar-long").status_code == 302

    page = client.get(f"/jobs/{parent_id}").get_data(as_text=True)
    assert f'hx-get="/jobs/{parent_id}/progress"' in page and 'aria-valuenow="0"' in page
    jobs_env.work(max_jobs=2)
    partial = client.get(f"/jobs/{parent_id}/progress", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert 'aria-valuenow="50"' in body and "hx-get" in body and "HX-Refresh" not in partial.headers
    jobs_env.drain()
    partial = client.get(f"/jobs/{parent_id}/progress", headers={"HX-Request": "true"})
    assert 'aria-valuenow="100"' in partial.get_data(as_text=True)
    assert "hx-get" not in partial.get_data(as_text=True) and partial.headers.get("HX-Refresh") == "true"


def test_a_batch_retry_reruns_only_its_failed_children(jobs_env):
    def odd_fails_once(subject_id, lang, issue):
        if subject_id % 2 and _counter(jobs_env, f"batch-{subject_id}") == 1:
            raise PermanentJobError("odd ones fail the first time")
        return payment_order_builder(subject_id, lang, issue)

    register_builder("payment_order", odd_fails_once)
    finance = jobs_env.user("finance")
    parent_id = services.request_batch(finance.actor(), "payment_order", "disbursement", [1, 2, 3, 4]).id
    db.session.commit()
    jobs_env.drain()
    parent = jobs_env.fresh(JobRecord, parent_id)
    assert parent.status == "failed" and parent.progress == 100 and "2 of 4" in parent.message

    services.retry_job(finance.actor(), parent_id)
    db.session.commit()
    assert jobs_env.queued_count() == 2
    parent = jobs_env.fresh(JobRecord, parent_id)
    assert parent.status == "running" and parent.progress == 50
    jobs_env.drain()
    parent = jobs_env.fresh(JobRecord, parent_id)
    assert parent.status == "succeeded" and parent.progress == 100
    assert [len(documents_for(i)) for i in (1, 2, 3, 4)] == [1, 1, 1, 1]


def test_a_batch_skips_subjects_already_being_produced(jobs_env):
    finance = jobs_env.user("finance")
    single = services.request_document(finance.actor(), "payment_order", "disbursement", 2)
    parent = services.request_batch(finance.actor(), "payment_order", "disbursement", [1, 2, 3, 3])
    single_id = single.id
    db.session.commit()
    assert parent.params == {"count": 2, "skipped": [2]}
    assert jobs_env.queued_count() == 3
    jobs_env.drain()
    assert jobs_env.fresh(JobRecord, single_id).status == "succeeded"
    assert [len(documents_for(i)) for i in (1, 2, 3)] == [1, 1, 1]


def test_the_requester_is_told_when_the_document_is_ready(jobs_env):
    from voucher.notifications.models import Notification

    finance = jobs_env.user("finance")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    jobs_env.drain()
    db.session.remove()
    notes = list(db.session.scalars(select(Notification).where(Notification.user_id == finance.id)))
    assert [n.link for n in notes] == [f"/jobs/{job_id}"]


def test_the_queue_name_is_one_the_worker_listens_to(app):
    assert DOCUMENT_QUEUE in app.config["RQ_QUEUES"]


def test_a_job_that_could_not_be_enqueued_says_so_and_the_sweeper_queues_it_when_redis_is_back(jobs_env, app,
                                                                                              monkeypatch):
    finance = jobs_env.user("finance")
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "unix:///nonexistent/voucher-test-redis.sock"
    try:
        job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
        db.session.commit()  # the enqueue after the commit fails: Redis is unreachable
    finally:
        app.config["REDIS_URL"] = saved
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "queued" and "job queue could not be reached" in record.message
    assert record.active_key == "payment_order:disbursement:1"  # asking again gives this job
    from voucher.tasks import recover_jobs

    monkeypatch.setitem(app.config, "JOBS_QUEUE_GRACE_SECONDS", 0)
    db.session.remove()
    assert recover_jobs()["requeued"] == 1
    db.session.commit()
    jobs_env.drain()
    assert jobs_env.fresh(JobRecord, job_id).status == "succeeded"
    assert len(documents_for(1)) == 1


def test_a_builder_without_the_issue_context_makes_a_bank_file(jobs_env, app):
    from decimal import Decimal

    from voucher.documents.bank_file import bank_file as write_bank_file
    from voucher.documents.pdf import BankLine

    def bank_file(subject_id, lang):
        lines = [BankLine("温州智造科技有限公司", "温州银行", "6222000011112222", Decimal("40000.00"), "DSB-1",
                          bank_code="313333000017", purpose="试用券预拨款 DSB-1")]
        return f"bank-file-{subject_id}.csv", write_bank_file(lines, "generic"), "text/csv"

    register_builder("bank_file", bank_file)
    finance = jobs_env.user("finance")
    services.request_document(finance.actor(), "bank_file", "payment_batch", 5)
    db.session.commit()
    jobs_env.drain()
    [document] = documents_for(5, kind="bank_file")
    data = read_bytes(document.stored_file)
    assert document.stored_file.content_type == "text/csv" and document.stored_file.original_name == "bank-file-5.csv"
    assert data.decode("utf-8-sig").splitlines()[1] == ("温州智造科技有限公司,6222000011112222,温州银行,313333000017,"
                                                         "40000.00,试用券预拨款 DSB-1")
    assert hashlib.sha256(data).hexdigest() == document.sha256
