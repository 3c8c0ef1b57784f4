"""The registries other domains plug into: document builders and download rules.

A **builder** gathers one subject's data and renders it::

    def build_payment_order(subject_id: int, lang: str, issue: IssueContext) -> Built:
        ...  # read the disbursement, fill PaymentOrderData(verification_code=issue.verification_code,
        ...  #   verification_url=issue.verification_url, issued_at=issue.issued_at, ...)
        return Built(f"payment-order-{subject_id}.pdf", payment_order_pdf(data), "application/pdf")

    register_builder("payment_order", build_payment_order, subject_type="disbursement", roles=("finance",))

It runs inside the job's app context (it may read the database; it must not write: the job
stores the file and the Document row itself, in one transaction).  It returns
``(filename, bytes, content_type)``; a builder that prints no verification code may take only
``(subject_id, lang)``.  It raises :class:`PermanentJobError` (or a ``DomainError`` such as
``NotFound``) for a failure a retry cannot fix; any other exception counts as transient and is
retried with backoff.

A **download rule** decides who may download (and list, and request) documents about one kind of
subject::

    register_download_rule("disbursement", lambda actor, subject_id, kind: ...)

Without a rule, only the bureau roles (officer, finance, auditor) may.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, NamedTuple

from flask_babel import lazy_gettext as _l

from voucher.audit.services import Actor
from voucher.auth.policy import BUREAU_READERS


class Built(NamedTuple):
    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class IssueContext:
    """What the job fixes before calling the builder, for the document to print."""

    verification_code: str       # e.g. "7KQ3M-X9TPA" (hyphenated for reading; stored without it)
    verification_url: str        # absolute address of the public check page for this code
    issued_at: datetime          # UTC
    version: int                 # 1 for the first document of this kind and subject
    job_id: int


class PermanentJobError(Exception):
    """A failure a retry cannot fix (missing data, a refused rule): the job fails at once."""


@dataclass(frozen=True)
class KindSpec:
    code: str
    label: object
    subject_type: str | None     # the subject this kind is about (None: any)
    roles: frozenset[str]        # who may request it (besides passing the subject's download rule)
    signed: bool = False         # the job signs the PDF with the bureau's key (voucher.documents.signing)


# The kinds this system issues; other domains may add theirs with ``register_builder(..., label=...)``.
KINDS: dict[str, KindSpec] = {
    "payment_order": KindSpec("payment_order", _l("Payment order"), "disbursement", frozenset({"finance"}),
                              signed=True),
    "audit_dossier": KindSpec("audit_dossier", _l("Audit dossier"), "application",
                              frozenset({"auditor", "officer"}), signed=True),
    "programme_report": KindSpec("programme_report", _l("Programme report"), "programme",
                                 frozenset({"officer", "finance", "auditor"})),
    "batch_summary": KindSpec("batch_summary", _l("Payment batch summary"), "payment_batch",
                              frozenset({"finance"}), signed=True),
    "bank_file": KindSpec("bank_file", _l("Bank payment file"), "payment_batch", frozenset({"finance"})),
}

# What documents can be about (labels for pages); other domains may add theirs.
SUBJECT_TYPES: dict[str, object] = {
    "disbursement": _l("Disbursement"),
    "application": _l("Trial-voucher application"),
    "programme": _l("Programme"),
    "payment_batch": _l("Payment batch"),
}

# Plain-language statuses for pages.
JOB_STATUS_LABELS = {
    "queued": _l("Waiting for a worker"),
    "running": _l("Being produced"),
    "succeeded": _l("Done"),
    "failed": _l("Failed"),
}
DOCUMENT_STATUS_LABELS = {
    "valid": _l("Valid"),
    "superseded": _l("Superseded by a newer version"),
    "revoked": _l("Revoked"),
}

Builder = Callable[..., "Built | tuple[str, bytes, str]"]
DownloadRule = Callable[[Actor, int, "str | None"], bool]

_builders: dict[str, Callable[[int, str, IssueContext], tuple[str, bytes, str]]] = {}
_download_rules: dict[str, DownloadRule] = {}
# What the public verification page adds about a document's subject (e.g. a payment order: paid,
# returned, superseded): ``fn(document) -> (code, text) | None``, registered per subject type.
VerifyNote = Callable[[Any], "tuple[str, str] | None"]
_verify_notes: dict[str, VerifyNote] = {}


def register_verify_note(subject_type: str, fn: VerifyNote) -> None:
    _verify_notes[subject_type] = fn


def verify_note(document) -> tuple[str, str] | None:
    """The registered note on ``document``'s subject for the public verification page, or None."""
    fn = _verify_notes.get(document.subject_type) if document is not None else None
    return fn(document) if fn is not None else None


def register_builder(kind: str, fn: Builder, *, subject_type: str | None = None, roles=None,
                     label: object | None = None, signed: bool | None = None) -> None:
    """Make ``fn`` the builder of documents of ``kind`` (replacing any earlier one).

    ``subject_type``, ``roles``, ``label`` and ``signed`` override (or, for a new kind, define) what
    :data:`KINDS` says.  ``signed=True``: the job signs the builder's PDF with the bureau's key before
    storing it (PAdES; visibly in the seal box the renderer drew, see ``voucher.documents.signing``),
    e.g. ``register_builder("recovery_notice", build_recovery_notice, signed=True)``.
    """
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values()):
        wrapped = fn
    else:
        def wrapped(subject_id, lang, issue, _fn=fn):
            return _fn(subject_id, lang)
    _builders[kind] = wrapped
    spec = KINDS.get(kind)
    if spec is None or subject_type is not None or roles is not None or label is not None or signed is not None:
        KINDS[kind] = KindSpec(
            kind,
            label if label is not None else (spec.label if spec else kind),
            subject_type if subject_type is not None else (spec.subject_type if spec else None),
            frozenset(roles) if roles is not None else (spec.roles if spec else frozenset({"finance"})),
            signed if signed is not None else (spec.signed if spec else False))


def unregister_builder(kind: str) -> None:
    _builders.pop(kind, None)


def builder_for(kind: str):
    return _builders.get(kind)


def is_signed(kind: str) -> bool:
    """Whether documents of ``kind`` are signed by the bureau (PAdES)."""
    spec = KINDS.get(kind)
    return bool(spec and spec.signed)


def kind_label(kind: str) -> str:
    spec = KINDS.get(kind)
    return str(spec.label) if spec else kind


def register_download_rule(subject_type: str, rule: DownloadRule, *, label: object | None = None) -> None:
    """``rule(actor, subject_id, kind) -> bool`` decides who may download, list and request
    documents about subjects of ``subject_type`` (``kind`` is None when listing)."""
    _download_rules[subject_type] = rule
    if label is not None:
        SUBJECT_TYPES[subject_type] = label


def subject_type_label(subject_type: str) -> str:
    return str(SUBJECT_TYPES.get(subject_type, subject_type))


def subject_ref(subject_type: str, subject_id: int) -> str:
    """How a subject is named beside its type: an application by its number (受理编号), others by id."""
    from voucher.appnumbers import number_of

    return number_of(subject_type, subject_id) or f"#{subject_id}"


def unregister_download_rule(subject_type: str) -> None:
    _download_rules.pop(subject_type, None)


# Whether a subject exists (``exists(subject_id) -> bool``), registered by the domain that owns it:
# a page about a subject that does not exist is a 404, never an empty list.
SubjectLookup = Callable[[int], bool]
_subject_lookups: dict[str, SubjectLookup] = {}


def register_subject_lookup(subject_type: str, exists: SubjectLookup) -> None:
    _subject_lookups[subject_type] = exists


def is_subject_type(subject_type: str) -> bool:
    """A type documents can be about (labelled in :data:`SUBJECT_TYPES`)."""
    return subject_type in SUBJECT_TYPES


def subject_exists(subject_type: str, subject_id: int) -> bool:
    """Whether the subject exists, as its domain's lookup says (a type without one: assumed to)."""
    lookup = _subject_lookups.get(subject_type)
    return lookup is None or bool(lookup(subject_id))


def default_rule(actor: Actor, subject_id: int, kind: str | None) -> bool:
    """Without a domain's rule: the bureau roles only."""
    return actor.role in BUREAU_READERS


def may_access_subject(actor: Actor, subject_type: str, subject_id: int, kind: str | None = None) -> bool:
    rule = _download_rules.get(subject_type, default_rule)
    return bool(rule(actor, subject_id, kind))
