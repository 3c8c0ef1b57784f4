"""Documents and their background jobs: request, batch, retry, download, revoke.

Every function takes plain arguments and an :class:`Actor`, enforces its rule, writes the audit
event and raises domain exceptions; jobs are enqueued only after the caller's transaction
commits (see :mod:`voucher.documents.jobs`).
"""
from __future__ import annotations

import dataclasses
import hashlib

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher import storage
from voucher.access import require, roles_for
from voucher.audit.services import Actor, record_event
from voucher.db import utcnow
from voucher.documents import jobs as job_module
from voucher.documents.builders import KINDS, builder_for, is_subject_type, may_access_subject, subject_exists
from voucher.documents.models import ACTIVE_JOB_STATUSES, Document, JobRecord
from voucher.errors import Conflict, Forbidden, NotFound, ValidationFailed
from voucher.extensions import db

LANGS = ("zh", "en")
MAX_BATCH = 5000
# Who sees job errors and may retry, who may open any job's page: voucher/documents/access.py.


def active_key(kind: str, subject_type: str, subject_id: int) -> str:
    return f"{kind}:{subject_type}:{subject_id}"


def _flush_or_conflict(message: str) -> None:
    """Flush; a unique ``active_key`` taken meanwhile by a concurrent request is a Conflict.

    The check before the insert makes this the rare race only.  No savepoint is used: with
    pysqlite a SAVEPOINT opened as a transaction's first write commits on release, so the
    transaction is rolled back instead (the request fails with 409 anyway).
    """
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(message) from None


def _check_request(actor: Actor, kind: str, subject_type: str, lang: str) -> None:
    spec = KINDS.get(kind)
    if spec is None or builder_for(kind) is None:
        raise ValidationFailed("Documents of this kind (%(kind)s) cannot be produced.", field="kind", kind=kind)
    if spec.subject_type and spec.subject_type != subject_type:
        raise ValidationFailed("A %(kind)s is not about a %(subject_type)s.", field="kind", kind=kind,
                               subject_type=subject_type)
    if lang not in LANGS:
        raise ValidationFailed("Unknown document language.", field="lang")
    if actor.role not in spec.roles:
        raise Forbidden("Your role may not request this kind of document.")
    if not current_app.config.get("REDIS_URL"):
        raise Conflict("Background jobs are not available: no job queue (REDIS_URL) is configured.")


def request_document(actor: Actor, kind: str, subject_type: str, subject_id: int, *,
                     lang: str = "zh") -> JobRecord:
    """Ask for a document of ``kind`` about one subject; returns its job record.

    Rule: only the roles the kind names may ask, and only about a subject they may see (the
    subject type's download rule); a kind without a builder is refused.  While a job for the
    same kind and subject is queued or running, asking again returns that job instead of a
    second one (a double click makes one document).  Once finished, asking again makes the next
    version, which supersedes the earlier one.  The job is enqueued only after the caller's
    transaction commits.
    """
    _check_request(actor, kind, subject_type, lang)
    if not may_access_subject(actor, subject_type, subject_id, kind):
        raise Forbidden("You may not see this.")
    key = active_key(kind, subject_type, subject_id)
    existing = db.session.scalar(select(JobRecord).where(JobRecord.active_key == key))
    if existing is not None:
        return existing
    record = JobRecord(kind=kind, subject_type=subject_type, subject_id=subject_id, lang=lang,
                       requested_by=actor.user_id, status="queued", progress=0, attempts=0,
                       rq_job_id=job_module.new_rq_job_id(), active_key=key, created_at=utcnow(),
                       updated_at=utcnow())
    db.session.add(record)
    _flush_or_conflict("This document is already being produced; try again in a moment.")
    record_event(actor, "document.requested", "job_record", record.id,
                 after={"kind": kind, "subject_type": subject_type, "subject_id": subject_id, "lang": lang})
    job_module.enqueue_after_commit([record])
    return record


def request_batch(actor: Actor, kind: str, subject_type: str, subject_ids, *, lang: str = "zh") -> JobRecord:
    """Ask for one document of ``kind`` per subject; returns the batch's parent record.

    Rule: as :func:`request_document` for each subject (role, access); the list must not be
    empty nor longer than 5,000; repeated ids count once; a subject that already has a job for
    this kind queued or running is not asked twice (it is listed as skipped on the batch).  The
    parent's progress is the share of its children finished.
    """
    _check_request(actor, kind, subject_type, lang)
    ids: list[int] = []
    seen: set[int] = set()
    for raw in subject_ids:
        sid = int(raw)
        if sid not in seen:
            seen.add(sid)
            ids.append(sid)
    if not ids:
        raise ValidationFailed("Choose at least one item.", field="subject_ids")
    if len(ids) > MAX_BATCH:
        raise ValidationFailed("At most %(max)s documents per batch.", field="subject_ids", max=MAX_BATCH)
    refused = [sid for sid in ids if not may_access_subject(actor, subject_type, sid, kind)]
    if refused:
        raise Forbidden("You may not see this.")
    keys = {active_key(kind, subject_type, sid): sid for sid in ids}
    busy: set[str] = set()
    key_list = list(keys)
    for start in range(0, len(key_list), 500):
        busy.update(db.session.scalars(select(JobRecord.active_key).where(
            JobRecord.active_key.in_(key_list[start:start + 500]))))
    skipped = [keys[k] for k in key_list if k in busy]
    todo = [keys[k] for k in key_list if k not in busy]
    now = utcnow()
    parent = JobRecord(kind=kind, subject_type=subject_type, subject_id=None, lang=lang, is_batch=True,
                       requested_by=actor.user_id, status="queued" if todo else "succeeded",
                       progress=0 if todo else 100, attempts=0, created_at=now, updated_at=now,
                       finished_at=None if todo else now,
                       params={"count": len(todo), "skipped": skipped})
    children = [JobRecord(kind=kind, subject_type=subject_type, subject_id=sid, lang=lang,
                          requested_by=actor.user_id, status="queued", progress=0, attempts=0,
                          rq_job_id=job_module.new_rq_job_id(), active_key=active_key(kind, subject_type, sid),
                          created_at=now, updated_at=now)
                for sid in todo]
    db.session.add(parent)
    db.session.flush()
    for child in children:
        child.parent_id = parent.id
    db.session.add_all(children)
    _flush_or_conflict("Some of these documents started being produced meanwhile; try again.")
    record_event(actor, "document.batch_requested", "job_record", parent.id,
                 after={"kind": kind, "subject_type": subject_type, "count": len(todo), "skipped": skipped,
                        "lang": lang})
    job_module.enqueue_after_commit(children)
    return parent


def get_job(actor: Actor, job_id: int) -> JobRecord:
    """Rule: a job is seen by the person who asked for it and by the bureau roles and admins."""
    record = db.session.get(JobRecord, job_id)
    if record is None:
        raise NotFound("No such job.")
    if actor.role not in roles_for("documents.read_any_job") and record.requested_by != actor.user_id:
        raise Forbidden("You may not see this.")
    return record


def may_see_job_errors(actor: Actor) -> bool:
    return actor.role in roles_for("documents.retry_job")


def _queue_job_gone(record: JobRecord) -> bool:
    """True when no RQ job will run this record any more: never enqueued, expired from Redis,
    failed, stopped or cancelled, or started so long ago that its worker must have died."""
    if not record.rq_job_id:
        return True
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    from voucher.tasks import redis_connection

    try:
        rq_job = Job.fetch(record.rq_job_id, connection=redis_connection())
        status = rq_job.get_status(refresh=False)
    except NoSuchJobError:
        return True
    except Exception:
        raise Conflict("The job queue cannot be reached right now; try again later.") from None
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED, None):
        return True
    if status == JobStatus.STARTED:
        from voucher.tasks import worker_alive

        if not worker_alive(redis_connection(), rq_job.worker_name,
                            int(current_app.config.get("JOBS_WORKER_STALE_SECONDS", 30))):
            return True  # its worker died (no heartbeat): the job will not finish
        last = record.updated_at or record.started_at or record.created_at
        return last is not None and utcnow() - last > job_module.stale_after()
    return False


def _rearm(record: JobRecord) -> bool:
    """Put one (child or single) record back on the queue; False when its document already exists."""
    existing = db.session.scalar(select(Document).where(Document.created_by_job == record.id))
    if existing is not None:
        job_module._finish_success(record, existing)
        return False
    newer = db.session.scalar(select(Document.id).where(
        Document.kind == record.kind, Document.subject_type == record.subject_type,
        Document.subject_id == record.subject_id, Document.status == "valid",
        Document.created_at > record.created_at).limit(1))
    if newer is not None:
        raise Conflict("A newer document of this kind has been issued since; this job need not be retried.")
    key = active_key(record.kind, record.subject_type, record.subject_id)
    if db.session.scalar(select(JobRecord.id).where(JobRecord.active_key == key, JobRecord.id != record.id)):
        raise Conflict("Another job is producing this document right now.")
    record.active_key = key
    record.status = "queued"
    record.progress = 0
    record.finished_at = None
    record.message = None
    record.rq_job_id = job_module.new_rq_job_id()
    record.updated_at = utcnow()
    _flush_or_conflict("Another job is producing this document right now.")
    return True


def retry_job(actor: Actor, job_id: int) -> JobRecord:
    """Run a failed job again, without ever making a second document.

    Rule: finance officers and administrators only.  A failed job, or one left queued/running
    whose queue entry is gone (its worker was killed), is put back on the queue under a new
    queue id (should the old entry ever run, it does nothing).  A job whose document was stored
    after all is marked done and linked to it instead.  Refused while the job is really queued
    or running, once it has succeeded, or when a newer document of the same kind and subject was
    issued since.  For a batch, every failed (or abandoned) child is retried.
    """
    require(actor, "documents.retry_job")
    record = db.session.get(JobRecord, job_id)
    if record is None:
        raise NotFound("No such job.")
    if record.is_batch:
        children = list(db.session.scalars(select(JobRecord).where(JobRecord.parent_id == record.id)
                                           .order_by(JobRecord.id)))
        candidates = [c for c in children if c.status == "failed"
                      or (c.status in ACTIVE_JOB_STATUSES and _queue_job_gone(c))]
        if not candidates:
            raise Conflict("Nothing in this batch needs a retry.")
        requeued = []
        for child in candidates:
            try:
                if _rearm(child):
                    requeued.append(child)
            except Conflict:
                continue  # a newer document exists, or another job is producing it: leave this one
        job_module.refresh_parent(record.id)
        record.message = None
        record_event(actor, "document.job_retried", "job_record", record.id,
                     after={"children": [c.id for c in requeued]})
        job_module.enqueue_after_commit(requeued)
        return record
    if record.status == "succeeded":
        raise Conflict("This job has already succeeded.")
    if record.status in ACTIVE_JOB_STATUSES and not _queue_job_gone(record):
        raise Conflict("This job is still queued or running; wait for it to finish.")
    previous = {"status": record.status, "message": record.message, "rq_job_id": record.rq_job_id}
    requeued = _rearm(record)
    if record.parent_id:
        job_module.refresh_parent(record.parent_id)
    record_event(actor, "document.job_retried", "job_record", record.id, before=previous,
                 after={"status": record.status, "rq_job_id": record.rq_job_id})
    if requeued:
        job_module.enqueue_after_commit([record])
    return record


# --- documents --------------------------------------------------------------------------------

def can_download(actor: Actor, document: Document) -> bool:
    """Whether ``actor`` may download ``document``: the rule registered for its subject type
    (``register_download_rule``), by default the bureau roles only."""
    return may_access_subject(actor, document.subject_type, document.subject_id, document.kind)


def get_document(actor: Actor, document_id: int) -> Document:
    """Rule: a document is shown only to those its subject's download rule lets in (403 otherwise)."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document.")
    if not can_download(actor, document):
        raise Forbidden("You may not download this document.")
    return document


def document_file(actor: Actor, document_id: int) -> tuple[Document, storage.Opened]:
    """The document and its bytes opened from storage, for a download (``storage.send_stored``).

    Rule: only users the subject's download rule lets in; the stored bytes must still match the
    recorded SHA-256 (a changed file is never served as the document): they are checked as they
    are read from the store, before anything is sent.
    """
    document = get_document(actor, document_id)
    try:
        opened = storage.open_verified(document.stored_file, document.sha256)
    except storage.FileMissing:
        raise NotFound("The file of this document is missing from storage.") from None
    except storage.FileChanged:
        raise Conflict("The stored file no longer matches its recorded SHA-256; it is not served.") from None
    return document, opened


def subject_documents(actor: Actor, subject_type: str, subject_id: int) -> list[Document]:
    """Rule: the documents about a subject are listed to those its download rule lets in; an unknown
    subject type, or a subject that neither exists nor has documents, is not found (after the
    access check, so who may not see it learns nothing)."""
    if not is_subject_type(subject_type):
        raise NotFound("No such subject.")
    if not may_access_subject(actor, subject_type, subject_id, None):
        raise Forbidden("You may not see this.")
    documents = list(db.session.scalars(select(Document).where(
        Document.subject_type == subject_type, Document.subject_id == subject_id)
        .order_by(Document.kind, Document.version.desc())))
    if not documents and not subject_exists(subject_type, subject_id):
        raise NotFound("No such subject.")
    return documents


def revoke_document(actor: Actor, document_id: int, reason: str) -> Document:
    """Withdraw a document (its check page then says "revoked").

    Rule: the roles that may request its kind, for a subject they may see; a reason is
    required; a revoked document stays revoked.
    """
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document.")
    spec = KINDS.get(document.kind)
    if spec is None or actor.role not in spec.roles or not can_download(actor, document):
        raise Forbidden("Your role may not revoke this document.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if document.status == "revoked":
        raise Conflict("This document is already revoked.")
    before = document.status
    document.status = "revoked"
    document.status_changed_at = utcnow()
    document.status_reason = reason[:1000]
    db.session.flush()
    record_event(actor, "document.revoked", "document", document.id, before={"status": before},
                 after={"status": "revoked"}, reason=reason)
    return document


def verify(code: str) -> Document | None:
    """The document a verification code belongs to (None when unknown).  Public: callers show
    only kind, subject reference, SHA-256, status and issue time."""
    normalised = job_module.normalise_code(code)
    if len(normalised) != job_module.CODE_LENGTH or any(ch not in job_module.CODE_ALPHABET for ch in normalised):
        return None
    return db.session.scalar(select(Document).where(Document.verification_code == normalised))


def signature_check(document: Document):
    """The signature of a stored document, checked on its stored bytes (``voucher.documents.signing``):
    who signed, when, whether the file is intact and chains to the bureau's trust roots.  None for a
    kind the bureau does not sign.  A stored file that is gone or whose bytes differ from the recorded
    SHA-256 is reported as not intact."""
    from voucher.documents.builders import is_signed
    from voucher.documents.signing import SignatureCheck, check_signature

    if not is_signed(document.kind):
        return None
    try:
        data = storage.read_bytes(document.stored_file)
    except storage.FileMissing:
        return SignatureCheck(signed=False, intact=False, trusted=False, missing=True)
    check = check_signature(data, moment=document.created_at)
    if check.intact and hashlib.sha256(data).hexdigest() != document.sha256:
        check = dataclasses.replace(check, intact=False)
    return check


def latest_document(kind: str, subject_type: str, subject_id: int) -> Document | None:
    """The current (valid) document of a kind about a subject, for other domains' pages."""
    return db.session.scalar(select(Document).where(
        Document.kind == kind, Document.subject_type == subject_type, Document.subject_id == subject_id,
        Document.status == "valid").order_by(Document.version.desc()).limit(1))


# --- recovery: jobs whose queue entry is gone --------------------------------------------------

RECOVERY_ACTOR = Actor.system("jobs sweeper")


def _rq_states(conn, records: list[JobRecord]) -> dict[int, str | None]:
    """Each record's RQ job state: its status, or None when RQ will never run it (no job hash, or
    queued/scheduled/started with nothing behind it: not in its queue list, not in the scheduled
    registry, or its worker is dead)."""
    from rq.job import Job, JobStatus

    from voucher.tasks import worker_alive

    stale = int(current_app.config.get("JOBS_WORKER_STALE_SECONDS", 30))
    jobs = Job.fetch_many([r.rq_job_id or "-" for r in records], connection=conn)
    states: dict[int, str | None] = {}
    for record, rq_job in zip(records, jobs):
        status = rq_job.get_status(refresh=False) if rq_job is not None and record.rq_job_id else None
        if status == JobStatus.QUEUED and conn.lpos(f"rq:queue:{rq_job.origin}", rq_job.id) is None:
            status = None  # Redis came back from an older snapshot: a hash without its queue entry
        elif status == JobStatus.SCHEDULED and conn.zscore(f"rq:scheduled:{rq_job.origin}", rq_job.id) is None:
            status = None
        elif status == JobStatus.STARTED and not worker_alive(conn, rq_job.worker_name, stale):
            status = None
        states[record.id] = status.value if status is not None else None
    return states


def recover_lost_jobs(conn) -> dict[str, int]:
    """Put back on the queue every document job that RQ will never run; returns the counts.

    Rule: a single job (or a batch's child) queued or running in our table, unchanged for
    ``JOBS_QUEUE_GRACE_SECONDS`` (the enqueue follows the commit), whose RQ job is missing
    (Redis lost its data), finished, failed, stopped or cancelled, or started by a dead worker,
    is re-armed under a new queue id (a stale entry then does nothing) — unless its document
    was stored after all (then it is marked done), or it has already been started
    ``JOBS_RECOVER_MAX_ATTEMPTS`` times (then it fails, for a person to look at and retry).
    Each recovery is an audit event of the system actor; the caller commits, and the jobs are
    enqueued after that commit.  Idempotent: nothing is produced twice (a document per job).
    """
    from datetime import timedelta

    from sqlalchemy import func

    cfg = current_app.config
    grace = timedelta(seconds=int(cfg.get("JOBS_QUEUE_GRACE_SECONDS", 20)))
    max_attempts = int(cfg.get("JOBS_RECOVER_MAX_ATTEMPTS", 5))
    candidates = list(db.session.scalars(select(JobRecord).where(
        JobRecord.status.in_(ACTIVE_JOB_STATUSES), JobRecord.is_batch.is_(False),
        func.coalesce(JobRecord.updated_at, JobRecord.created_at) < utcnow() - grace).order_by(JobRecord.id)))
    outcome = {"requeued": 0, "linked": 0, "failed": 0}
    if not candidates:
        return outcome
    states = _rq_states(conn, candidates)
    requeued: list[JobRecord] = []
    parents: set[int] = set()
    for record in candidates:
        if states[record.id] in ("queued", "scheduled", "started", "deferred"):
            continue
        before = {"status": record.status, "rq_job_id": record.rq_job_id, "rq_status": states[record.id],
                  "attempts": record.attempts}
        existing = db.session.scalar(select(Document).where(Document.created_by_job == record.id))
        if existing is not None:
            job_module._finish_success(record, existing)
            outcome["linked"] += 1
        elif record.attempts >= max_attempts:
            now = utcnow()
            record.status, record.active_key, record.finished_at, record.updated_at = "failed", None, now, now
            record.message = (f"The job was lost {record.attempts} times (its worker stopped or the queue lost it); "
                              f"it is not re-queued again automatically. Retry it once the cause is fixed.")
            db.session.flush()
            outcome["failed"] += 1
        else:
            record.status = "queued"
            record.progress = 0
            record.rq_job_id = job_module.new_rq_job_id()
            record.updated_at = utcnow()
            record.message = "Re-queued automatically: its queue entry was lost (queue restarted or worker stopped)."
            db.session.flush()
            requeued.append(record)
            outcome["requeued"] += 1
        if record.parent_id:
            parents.add(record.parent_id)
        record_event(RECOVERY_ACTOR, "document.job_recovered", "job_record", record.id, before=before,
                     after={"status": record.status, "rq_job_id": record.rq_job_id})
    for parent_id in sorted(parents):
        job_module.refresh_parent(parent_id)
    if requeued:
        job_module.enqueue_after_commit(requeued)
    return outcome
