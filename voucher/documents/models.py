from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.db import UTCDateTime, utcnow
from voucher.extensions import db


class StoredFile(db.Model):
    """A file kept in the storage backend (``voucher.storage``: under STORAGE_DIR or in the S3 bucket,
    never under static/) at the key ``relative_path``: uploads and generated documents.

    Who may download it is decided by the object it is attached to (``owner_type``/``owner_id``),
    through that domain's service, never by knowing the id.
    """

    __tablename__ = "stored_file"
    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_len"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    # Which material of the checklist (voucher.materials) an uploaded file is; NULL for generated
    # documents and files uploaded before the checklist.
    material: Mapped[str | None] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    relative_path: Mapped[str] = mapped_column(String(300), unique=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


DOCUMENT_STATUSES = ("valid", "superseded", "revoked")
JOB_STATUSES = ("queued", "running", "succeeded", "failed")
ACTIVE_JOB_STATUSES = ("queued", "running")
FINISHED_JOB_STATUSES = ("succeeded", "failed")


class Document(db.Model):
    """A generated document: which kind, about what, which version, its file and SHA-256, and the
    code anyone can check at ``/verify/<code>``.

    ``(kind, subject_type, subject_id, version)`` is unique: a regeneration is the next version
    (the earlier valid one becomes ``superseded``).  ``created_by_job`` is unique too, so the same
    job (retried, redelivered) can never store two documents; it is a plain column rather than a
    foreign key so the two tables do not reference each other in a cycle.
    """

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("kind", "subject_type", "subject_id", "version", name="uq_document_kind_subject_version"),
        CheckConstraint("status IN ('valid','superseded','revoked')", name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_len"),
        Index("ix_document_subject", "subject_type", "subject_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="valid")
    lang: Mapped[str] = mapped_column(String(10), default="zh")
    subject_label: Mapped[str] = mapped_column(String(200), default="")  # shown on the public check page
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_job: Mapped[int | None] = mapped_column(unique=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(Text)

    stored_file: Mapped[StoredFile] = relationship()


class JobRecord(db.Model):
    """Our own record of a background job (RQ's results expire): what, for whom, how far, how it ended.

    A batch is a parent record (``is_batch``) whose children point to it with ``parent_id``; its
    progress is the share of children finished.  ``active_key`` is ``kind:subject_type:subject_id``
    while a job is queued or running and NULL otherwise; being unique, it keeps one subject from
    having two jobs generating the same kind of document at once.
    """

    __tablename__ = "job_record"
    __table_args__ = (
        CheckConstraint("status IN ('queued','running','succeeded','failed')", name="status"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_job_record_status_created", "status", "created_at"),
        Index("ix_job_record_subject", "subject_type", "subject_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    lang: Mapped[str] = mapped_column(String(10), default="zh")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)  # the last error (or a note) in plain words
    attempts: Mapped[int] = mapped_column(default=0)
    rq_job_id: Mapped[str | None] = mapped_column(String(80), index=True)
    is_batch: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("job_record.id"), index=True)
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    params: Mapped[dict | None] = mapped_column(JSON)
    result_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)

    result_document: Mapped[Document | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_JOB_STATUSES
