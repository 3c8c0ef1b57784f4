"""What the document pages read."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from voucher.auth.models import User
from voucher.documents.jobs import batch_progress, child_counts
from voucher.documents.models import JOB_STATUSES, Document, JobRecord
from voucher.extensions import db


@dataclass(frozen=True)
class JobView:
    record: JobRecord
    requester_name: str | None
    progress: int
    status: str
    counts: dict[str, int]   # batch only: children per status
    total: int               # batch only: number of children
    document: Document | None

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")


def job_view(record: JobRecord) -> JobView:
    """The job as a page shows it; a batch's progress is counted live from its children."""
    requester = db.session.get(User, record.requested_by) if record.requested_by else None
    counts: dict[str, int] = {}
    progress, status = record.progress, record.status
    if record.is_batch:
        counts = child_counts(record.id)
        if counts:
            progress = batch_progress(counts)
            done = counts.get("succeeded", 0) + counts.get("failed", 0)
            if done == sum(counts.values()):
                status = "failed" if counts.get("failed") else "succeeded"
            elif status in ("succeeded", "failed"):
                status = "running"
    document = db.session.get(Document, record.result_document_id) if record.result_document_id else None
    return JobView(record, requester.name if requester else None, progress, status, counts,
                   sum(counts.values()), document)


def jobs_page(*, status: str | None, kind: str | None, mine_of: int | None, page: int, per_page: int,
              cursor: str | None = None, seek: bool = False):
    """Single jobs and batches (not a batch's children), newest first.  ``seek`` (the API):
    keyset-paged on the id, see :func:`voucher.pagination.seek_or_offset`."""
    stmt = select(JobRecord).where(JobRecord.parent_id.is_(None))
    if status in JOB_STATUSES:
        stmt = stmt.where(JobRecord.status == status)
    if kind:
        stmt = stmt.where(JobRecord.kind == kind)
    if mine_of is not None:
        stmt = stmt.where(JobRecord.requested_by == mine_of)
    if seek:
        from voucher.pagination import seek_or_offset

        return seek_or_offset(stmt, (JobRecord.id,), list_name="jobs", cursor=cursor, page=page, per_page=per_page)
    return db.paginate(stmt.order_by(JobRecord.id.desc()), page=page, per_page=per_page, error_out=False)


def user_names(user_ids) -> dict[int, str]:
    """Names of these users in one query (for a page of jobs)."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def documents_by_id(document_ids) -> dict[int, Document]:
    ids = {i for i in document_ids if i}
    if not ids:
        return {}
    return {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(ids)))}


def children_page(parent_id: int, *, status: str | None, page: int, per_page: int):
    """A batch's children, in the order they were asked for."""
    stmt = select(JobRecord).where(JobRecord.parent_id == parent_id)
    if status in JOB_STATUSES:
        stmt = stmt.where(JobRecord.status == status)
    return db.paginate(stmt.order_by(JobRecord.id), page=page, per_page=per_page, error_out=False)


def open_jobs_for_subject(subject_type: str, subject_id: int) -> list[JobRecord]:
    """Jobs about a subject that are still under way or failed (shown above its documents)."""
    return list(db.session.scalars(select(JobRecord).where(
        JobRecord.subject_type == subject_type, JobRecord.subject_id == subject_id,
        JobRecord.status.in_(("queued", "running", "failed"))).order_by(JobRecord.id.desc()).limit(20)))
