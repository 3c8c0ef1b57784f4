"""The document job: RQ runs :func:`run_document_job` with a JobRecord id, inside the app context
(``voucher.tasks.AppJob``).

**Enqueue after commit.**  Services never talk to Redis while their transaction is open: they
call :func:`enqueue_after_commit`, which parks ``(record id, RQ job id)`` pairs with the one
after-commit mechanism (``voucher.tasks.collect_after_commit``, whose listeners ``create_app``
registers); they are enqueued once the session really commits and dropped on a rollback.  This works
wherever the commit happens: at the end of a request, at the end of a job (a job may request
documents), or in a CLI command.  A rolled-back request enqueues nothing, and a worker can
never pick up a job whose record is not yet visible.

**Transactions inside the job.**  The job's bookkeeping is committed as it goes so pages can
show it (``running`` and progress); the document itself (the stored file's row, the Document
row, the success status, the audit event and the batch parent's progress) commits in **one**
transaction at the end.  The file bytes are written to disk just before that commit; should
the commit fail, the file is an unreferenced orphan, never a Document.

**Idempotence.**  ``Document.created_by_job`` is unique: a job re-delivered by RQ, retried
after a crash, or retried by a person finds "its" document and links it instead of building
another.  The record also holds the RQ job id it expects; a stale RQ job (one the record no
longer points to, e.g. after ``retry_job`` gave it a new id) does nothing.

**Signing.**  A kind marked ``signed`` (``KINDS`` / ``register_builder(..., signed=True)``) is signed
with the bureau's key between the build and the store (``voucher.documents.signing``): visibly on the
seal box the renderer drew, at the issue time.  Signing happens once per version: a re-run links the
stored document, and a PDF that already carries a signature is never signed again.

**Failures.**  A builder's ``PermanentJobError`` or ``DomainError`` fails the record at once.
Any other exception is transient: RQ retries it with backoff (``Retry(max=3, interval=[2, 10,
30])``; delayed retries need a worker started with the scheduler, as ``voucher.tasks.run_worker``
does) and the record shows ``queued`` with the last error until the last attempt fails.

**Recovery.**  A job RQ will never run — Redis lost it (restarted without persistence,
``FLUSHDB``, unreachable at the enqueue) or its worker died mid-job — is put back on the queue
under a new RQ id by the jobs sweeper (``voucher.tasks.recover_jobs``: scheduled by every worker,
and ``flask voucher jobs-recover``), a bounded number of times; see
``voucher.documents.services.recover_lost_jobs``.
"""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import current_app
from rq import Retry, get_current_job
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from voucher.audit.services import Actor, record_event
from voucher.db import DEFERRED_BEGIN, utcnow
from voucher.documents.builders import IssueContext, PermanentJobError, builder_for, is_signed
from voucher.documents.models import Document, JobRecord
from voucher.documents.pdf import recording_seal_boxes
from voucher.documents.signing import sign_built
from voucher.errors import N_, DomainError
from voucher.extensions import db

log = logging.getLogger(__name__)

DOCUMENT_QUEUE = "voucher-documents"
DEFAULT_RETRY_INTERVALS = (2, 10, 30)
JOB_TIMEOUT_SECONDS = 600
_PENDING_KEY = "voucher.documents.pending_enqueue"
# Human-typable: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
SYSTEM_ACTOR = Actor.system("document job")



# --- verification codes -----------------------------------------------------------------------

def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str:
    """What a person typed → the stored form: upper case, no spaces or hyphens."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t\u3000")[:32]


def display_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def verification_url(code: str) -> str:
    from voucher.config import public_url

    return public_url(f"/verify/{code}")


# --- enqueue after commit ---------------------------------------------------------------------

def new_rq_job_id() -> str:
    return f"voucher-doc-{secrets.token_hex(12)}"


def retry_policy() -> Retry:
    intervals = list(current_app.config.get("DOCUMENT_JOB_RETRY_INTERVALS", DEFAULT_RETRY_INTERVALS))
    return Retry(max=int(current_app.config.get("DOCUMENT_JOB_RETRIES", 3)), interval=intervals)


def enqueue_after_commit(records) -> None:
    """Enqueue these records' jobs once the current database transaction commits (the one
    after-commit mechanism, ``voucher.tasks.collect_after_commit``: one pipeline per commit)."""
    from voucher.tasks import collect_after_commit

    collect_after_commit(_PENDING_KEY, [(r.id, r.rq_job_id) for r in records], enqueue_now)


def enqueue_now(pairs: list[tuple[int, str]]) -> None:
    """Put ``(record id, RQ job id)`` pairs on the documents queue in one pipeline round trip."""
    from rq import Queue

    from voucher.tasks import queue

    try:
        q = queue(DOCUMENT_QUEUE)
        retry = retry_policy()
        datas = [Queue.prepare_data(run_document_job, args=(record_id,), job_id=rq_id, retry=retry,
                                    timeout=JOB_TIMEOUT_SECONDS, result_ttl=3600, failure_ttl=7 * 24 * 3600,
                                    description=f"document job {record_id}")
                 for record_id, rq_id in pairs]
        with q.connection.pipeline() as pipe:
            q.enqueue_many(datas, pipeline=pipe)
            pipe.execute()
    except Exception as exc:  # Redis unreachable: say so on the records; the sweeper re-queues them
        log.exception("could not enqueue document jobs %s", [p[0] for p in pairs])
        _mark_unqueued([p[0] for p in pairs], exc)


def _mark_unqueued(record_ids: list[int], exc: Exception) -> None:
    """The records stay queued (the jobs sweeper, ``voucher.tasks.recover_jobs``, enqueues them
    again once the queue answers); their message says what happened."""
    try:
        with db.engine.begin() as conn:
            conn.execute(update(JobRecord.__table__).where(JobRecord.__table__.c.id.in_(record_ids))
                         .values(updated_at=utcnow(),
                                 message=f"The job queue could not be reached ({type(exc).__name__}: {exc}). "
                                         f"The job is queued again automatically when the queue is back."[:2000]))
    except Exception:  # pragma: no cover - nothing more we can do; the record shows 'queued'
        log.exception("could not mark document jobs %s as not queued", record_ids)


# --- the job ----------------------------------------------------------------------------------

def run_document_job(job_id: int) -> int | None:
    """Build, store and record one document for JobRecord ``job_id``; returns the Document id.

    Rule: runs only for the RQ job the record expects; a record already succeeded, or one whose
    document this job already stored, is linked and not built again; a failed record is re-run
    only after ``retry_job`` re-arms it.
    """
    record = db.session.get(JobRecord, job_id)
    current = get_current_job()
    if record is None or record.is_batch:
        log.warning("document job %s: no such record (stale queue entry); skipped", job_id)
        return None
    if current is not None and record.rq_job_id and current.id != record.rq_job_id:
        log.warning("document job %s: RQ job %s is not the one the record expects; skipped", job_id, current.id)
        return None
    if record.status == "succeeded":
        return record.result_document_id
    if record.status == "failed":
        return None
    existing = _document_of(record)
    if existing is not None:
        _finish_success(record, existing)
        db.session.commit()
        return existing.id

    now = utcnow()
    record.status = "running"
    record.attempts += 1
    record.started_at = record.started_at or now
    record.progress = max(record.progress, 10)
    record.updated_at = now
    _parent_started(record)
    db.session.commit()

    try:
        document = _build_and_store(record)
        db.session.commit()
        return document.id
    except Exception as exc:
        db.session.rollback()
        if _record_failure(job_id, exc):
            raise
        return None


def _document_of(record: JobRecord) -> Document | None:
    return db.session.scalar(select(Document).where(Document.created_by_job == record.id))


def _build_and_store(record: JobRecord) -> Document:
    from voucher.storage import save_generated

    builder = builder_for(record.kind)
    if builder is None:
        raise PermanentJobError(f"No builder is registered for documents of kind {record.kind!r}.")
    # The build reads (the documents' data) and renders: it runs in a transaction begun as a reader,
    # so on SQLite it does not hold the write lock while rendering and several workers render at once.
    if not db.session().in_transaction():
        db.session.connection(execution_options={DEFERRED_BEGIN: True})
    version = (db.session.scalar(select(func.max(Document.version)).where(
        Document.kind == record.kind, Document.subject_type == record.subject_type,
        Document.subject_id == record.subject_id)) or 0) + 1
    code = new_verification_code()
    issued_at = utcnow()
    issue = IssueContext(verification_code=code, verification_url=verification_url(code), issued_at=issued_at,
                         version=version, job_id=record.id)
    with recording_seal_boxes() as seal_boxes:  # where the renderer drew the seal (盖章) box, if anywhere
        built = builder(record.subject_id, record.lang, issue)
    if not isinstance(built, tuple) or len(built) not in (3, 4):
        raise PermanentJobError("The builder did not return (filename, bytes, content_type).")
    filename, data, content_type = built[0], built[1], built[2]
    subject_label = str(built[3]) if len(built) == 4 and built[3] else ""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise PermanentJobError("The builder returned no file content.")
    if is_signed(record.kind) and content_type == "application/pdf":
        # Signed at the issue time printed on it, on the seal box; the signed bytes are what is stored,
        # hashed and checked on the verification page.  A PDF already signed is left as it is.
        data = sign_built(bytes(data), lang=record.lang, signed_at=issued_at, seal_boxes=seal_boxes)
    # Ends the read transaction; what a builder wrote (the programme report publishes the day's audit
    # anchor once a day) is kept.  On SQLite such a write can meet another worker's commit and fail
    # as "database is locked": a transient error, retried like any other.
    db.session.commit()

    if not record.parent_id:  # a batch's bar counts children; a single job's bar shows its steps
        record.progress = 70
        record.updated_at = utcnow()
        db.session.commit()  # progress only: nothing else has been written yet

    stored = save_generated(SYSTEM_ACTOR, bytes(data), filename, content_type, owner_type="document",
                            owner_id=None, purpose=record.kind)
    db.session.execute(update(Document).where(
        Document.kind == record.kind, Document.subject_type == record.subject_type,
        Document.subject_id == record.subject_id, Document.status == "valid")
        .values(status="superseded", status_changed_at=issued_at))
    document = Document(kind=record.kind, subject_type=record.subject_type, subject_id=record.subject_id,
                        version=version, stored_file_id=stored.id, sha256=stored.sha256, verification_code=code,
                        status="valid", lang=record.lang, subject_label=subject_label[:200], created_at=issued_at,
                        created_by_job=record.id)
    db.session.add(document)
    db.session.flush()  # a concurrent run of the same job fails here (unique created_by_job)
    stored.owner_id = document.id
    record_event(SYSTEM_ACTOR, "document.issued", "document", document.id,
                 after={"kind": document.kind, "subject_type": document.subject_type,
                        "subject_id": document.subject_id, "version": version, "sha256": document.sha256,
                        "job_id": record.id})
    _finish_success(record, document)
    return document


def _finish_success(record: JobRecord, document: Document) -> None:
    now = utcnow()
    record.status = "succeeded"
    record.progress = 100
    record.result_document_id = document.id
    record.finished_at = now
    record.updated_at = now
    record.active_key = None
    record.message = None
    db.session.flush()
    if record.parent_id:
        _parent_child_finished(record)
    elif record.requested_by:
        from voucher.notifications.services import notify_users

        notify_users([record.requested_by], N_("A document you asked for is ready."), link=f"/jobs/{record.id}")


def _describe(exc: BaseException) -> str:
    text = exc.render() if isinstance(exc, DomainError) else str(exc)
    return f"{type(exc).__name__}: {text}"[:2000]


def _record_failure(job_id: int, exc: Exception) -> bool:
    """Write the error on the record; True when RQ will retry (so the exception is re-raised)."""
    if isinstance(exc, IntegrityError):
        # Another run of this very job stored the document first: nothing failed.
        record = db.session.get(JobRecord, job_id)
        if record is not None and _document_of(record) is not None and record.status != "succeeded":
            _finish_success(record, _document_of(record))
            db.session.commit()
            return False
    record = db.session.get(JobRecord, job_id)
    if record is None or record.status == "succeeded":
        return False
    current = get_current_job()
    if current is not None and record.rq_job_id and current.id != record.rq_job_id:
        return False  # a stale run: the record was re-armed under a new queue id meanwhile
    permanent = isinstance(exc, (PermanentJobError, DomainError))
    will_retry = not permanent and current is not None and bool(current.retries_left)
    now = utcnow()
    record.message = _describe(exc)
    record.updated_at = now
    if will_retry:
        record.status = "queued"
        record.progress = 0
    else:
        record.status = "failed"
        record.finished_at = now
        record.active_key = None
        db.session.flush()
        if record.parent_id:
            _parent_child_finished(record)
        elif record.requested_by:
            from voucher.notifications.services import notify_users

            notify_users([record.requested_by],
                         N_("A document could not be produced. Open the job to see why; finance can retry it."),
                         link=f"/jobs/{record.id}")
    db.session.commit()
    log.warning("document job %s failed (%s): %s", job_id, "will retry" if will_retry else "final", exc)
    return will_retry


# --- batches ----------------------------------------------------------------------------------

def _parent_started(record: JobRecord) -> None:
    if record.parent_id:
        now = utcnow()
        db.session.execute(update(JobRecord).where(JobRecord.id == record.parent_id, JobRecord.status == "queued")
                           .values(status="running", started_at=now, updated_at=now))


def child_counts(parent_id: int) -> dict[str, int]:
    rows = db.session.execute(select(JobRecord.status, func.count()).where(JobRecord.parent_id == parent_id)
                              .group_by(JobRecord.status)).all()
    return {status: n for status, n in rows}


def batch_progress(counts: dict[str, int]) -> int:
    """Share of children finished, in whole percent (100 only when every child has finished)."""
    total = sum(counts.values())
    if not total:
        return 100
    done = counts.get("succeeded", 0) + counts.get("failed", 0)
    return done * 100 // total


def refresh_parent(parent_id: int) -> JobRecord:
    """Recompute a batch's progress and status from its children (the parent row is locked first,
    so children finishing at the same instant are counted one after the other)."""
    parent = db.session.scalars(select(JobRecord).where(JobRecord.id == parent_id).with_for_update()
                                .execution_options(populate_existing=True)).one()
    counts = child_counts(parent_id)
    total = sum(counts.values())
    parent.progress = batch_progress(counts)
    parent.updated_at = utcnow()
    finished = counts.get("succeeded", 0) + counts.get("failed", 0)
    if total and finished == total:
        failed = counts.get("failed", 0)
        if parent.status not in ("succeeded", "failed"):
            parent.finished_at = utcnow()
            if parent.requested_by:
                from voucher.notifications.services import notify_users

                notify_users([parent.requested_by],
                             N_("A batch of documents has finished.") if not failed else
                             N_("A batch of documents has finished; some could not be produced."),
                             link=f"/jobs/{parent.id}")
        parent.status = "failed" if failed else "succeeded"
        parent.message = (f"{failed} of {total} documents could not be produced." if failed else None)
    else:
        parent.status = "running" if (counts.get("running", 0) or finished) else "queued"
        parent.finished_at = None
    return parent


def _parent_child_finished(record: JobRecord) -> None:
    refresh_parent(record.parent_id)


def stale_after() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("DOCUMENT_JOB_STALE_MINUTES", 15)))
