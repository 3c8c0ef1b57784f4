"""API schemas of generated documents and their background jobs."""
from __future__ import annotations

import marshmallow as ma

from voucher.documents.models import DOCUMENT_STATUSES, JOB_STATUSES
from voucher.schema_fields import ID_MAX, Choice, Length, WholeRange, object_id


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class DocumentListArgs(ma.Schema):
    subject_type = ma.fields.String(required=True, validate=Length(1, 40),
                                    metadata={"description": "e.g. application, programme, disbursement, "
                                                             "payment_batch"})
    subject_id = ma.fields.Integer(required=True, validate=WholeRange(1, ID_MAX))


class DocumentRequestSchema(_Strict):
    kind = ma.fields.String(required=True, validate=Length(1, 40),
                            metadata={"description": "e.g. audit_dossier, programme_report, payment_order"})
    subject_type = ma.fields.String(required=True, validate=Length(1, 40))
    subject_id = object_id(required=True)
    lang = ma.fields.String(load_default="zh", validate=Choice(("zh", "en")))


class JobListArgs(ma.Schema):
    status = ma.fields.String(validate=Choice(JOB_STATUSES))
    kind = ma.fields.String(validate=Length(1, 40))
    mine = ma.fields.Boolean(metadata={"description": "Only the jobs the caller asked for (always so for roles "
                                                      "other than the bureau's and administrators)"})


class DocumentSchema(ma.Schema):
    """A generated document: kind, subject, version, status, its file's SHA-256 and verification code."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    kind_label = ma.fields.String(required=True)
    subject_type = ma.fields.String(required=True)
    subject_id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=Choice(DOCUMENT_STATUSES))
    status_label = ma.fields.String(required=True)
    lang = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True)
    verification_code = ma.fields.String(required=True)
    filename = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size_bytes = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    status_reason = ma.fields.String(required=True, allow_none=True)
    download_path = ma.fields.String(required=True, metadata={"description": "GET it with the token to download"})


class JobSchema(ma.Schema):
    """A background job producing a document (or a batch of them), with its progress."""

    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    subject_type = ma.fields.String(required=True)
    subject_id = ma.fields.Integer(required=True, allow_none=True)
    lang = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=Choice(JOB_STATUSES))
    status_label = ma.fields.String(required=True)
    progress = ma.fields.Integer(required=True, metadata={"description": "0 to 100"})
    finished = ma.fields.Boolean(required=True)
    is_batch = ma.fields.Boolean(required=True)
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                            metadata={"description": "A batch's children per status"})
    total = ma.fields.Integer(required=True, metadata={"description": "A batch's number of children"})
    attempts = ma.fields.Integer(required=True)
    message = ma.fields.String(required=True, allow_none=True,
                               metadata={"description": "The last error (finance officers and administrators)"})
    document_id = ma.fields.Integer(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    started_at = ma.fields.DateTime(required=True, allow_none=True)
    finished_at = ma.fields.DateTime(required=True, allow_none=True)
