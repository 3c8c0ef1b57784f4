"""Benefits without applying (免申即享): importing the data the bureau holds, matching candidates,
and the enterprise's answer.

Rules enforced here (views, the CLI and the job only parse and call):
- only programme officers import a source; each import is kept with its file's SHA-256, file name,
  who and when, and its row counts, in one audit event; the same file imported twice as the same
  kind is refused; a file with no good row is refused whole (nothing saved); otherwise the good rows
  are stored and every refused cell is reported by row and column (:mod:`voucher.benefits.tables`);
- the candidates are computed by the subsidies' own services (:mod:`voucher.benefits.matching`),
  never by rules of their own;
- an enterprise reads, confirms or declines only its own candidates (403 for another's); declining
  needs a reason; confirming needs the declaration and the enterprise's registered account, and
  creates the application through the subsidies' services with their checks, then submits it
  when the subsidies' rules allow (else it stays a draft for the enterprise to complete).
"""
from __future__ import annotations

import hashlib
from datetime import date
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.benefits.models import (
    BenefitBlacklist,
    BenefitCandidate,
    BenefitInvoice,
    BenefitLoanLine,
    BenefitSource,
)
from voucher.benefits.tables import KINDS, CellError, FileRefused, read_rows
from voucher.db import utcnow
from voucher.errors import N_, Duplicate, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db

REASON_MAX = 2000
_ROW_MODEL = {"loan_statement": BenefitLoanLine, "robot_invoice": BenefitInvoice, "blacklist": BenefitBlacklist}


def import_source(actor: Actor, kind: str, *, filename: str, data: bytes) -> BenefitSource:
    """Import one source file (loan statements, robot invoices or the blacklist).

    Rule: officers only; a known kind; the file read row by row (:func:`read_rows`); an invoice
    repeated in the file is refused on its later row; no good row → the whole file refused; the
    same file (SHA-256) already imported as this kind → refused.  The source keeps its SHA-256,
    name, size, who and when, row counts and the report of refused rows; one audit event.
    """
    require(actor, "benefits.import", message="Only a programme officer may import the bureau's data.")
    if kind not in KINDS:
        raise ValidationFailed("Choose what the file holds.", field="kind")
    parsed = read_rows(kind, data)
    errors = list(parsed.errors)
    rows = parsed.rows
    if kind == "robot_invoice":
        seen: dict[str, int] = {}
        kept = []
        heading = next(c.heading for c in KINDS[kind] if c.field == "invoice_no")
        for n, values in rows:
            if values["invoice_key"] in seen:
                errors.append(CellError(n, heading, N_("This invoice repeats row %(row)s of the file."),
                                        {"row": seen[values["invoice_key"]]}))
            else:
                seen[values["invoice_key"]] = n
                kept.append((n, values))
        rows = kept
    errors.sort(key=lambda e: (e.row or 0))
    if not rows:
        raise FileRefused(errors or [CellError(None, None, N_("The file has no row to import."))])
    digest = hashlib.sha256(data).hexdigest()
    if db.session.scalar(select(BenefitSource.id).where(BenefitSource.kind == kind, BenefitSource.sha256 == digest)):
        raise Duplicate("This file was already imported as this kind of source.", field="file")
    source = BenefitSource(kind=kind, filename=(filename or "source")[:255], sha256=digest, size=len(data),
                           row_count=len(rows), refused_count=len({e.row for e in errors}),
                           report=[e.as_json() for e in errors], imported_by=actor.user_id, imported_at=utcnow())
    db.session.add(source)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Duplicate("This file was already imported as this kind of source.", field="file") from None
    model = _ROW_MODEL[kind]
    db.session.add_all(model(source_id=source.id, row_number=n, **values) for n, values in rows)
    db.session.flush()
    record_event(actor, "benefit_source.imported", "benefit_source", source.id,
                 after={"kind": kind, "filename": source.filename, "sha256": digest, "size": len(data),
                        "rows": source.row_count, "refused_rows": source.refused_count})
    return source


def get_source(actor: Actor, source_id: int) -> BenefitSource:
    """A source and its report. Rule: the bureau's officers and auditors; others 403."""
    require(actor, "benefits.sources", message="You may not see this.")
    source = db.session.get(BenefitSource, source_id)
    if source is None:
        raise NotFound("No such import.")
    return source


def source_rows(source: BenefitSource, limit: int = 200) -> Sequence:
    model = _ROW_MODEL[source.kind]
    return db.session.scalars(select(model).where(model.source_id == source.id).order_by(model.row_number)
                              .limit(limit)).all()


# --- the enterprise's answer ---------------------------------------------------------------------

def get_candidate(actor: Actor, candidate_id: int) -> BenefitCandidate:
    """A candidate the actor may read. Rule: its enterprise's users (not an excluded one) and the
    bureau; others 403."""
    candidate = db.session.get(BenefitCandidate, candidate_id)
    if candidate is None:
        raise NotFound("No such candidate.")
    require(actor, "benefits.read", candidate, message="You may not see this.")
    if candidate.status == "excluded" and actor.role == "sme":
        raise NotFound("No such candidate.")
    return candidate


def _locked_open(actor: Actor, candidate_id: int) -> BenefitCandidate:
    candidate = db.session.scalar(select(BenefitCandidate).where(BenefitCandidate.id == candidate_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if candidate is None:
        raise NotFound("No such candidate.")
    require(actor, "benefits.decide", candidate, message="This belongs to another organisation.")
    if candidate.status != "open":
        raise TransitionNotAllowed("This candidate was already answered (confirmed or declined).")
    return candidate


def decline(actor: Actor, candidate_id: int, reason: str | None) -> BenefitCandidate:
    """The enterprise declines a candidate. Rule: its own users only (403), an open candidate (409),
    a reason of at most 2000 characters; its invoices or loan days stay taken (never matched again)."""
    candidate = _locked_open(actor, candidate_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    candidate.status = "declined"
    candidate.decline_reason = reason
    candidate.decided_at = utcnow()
    candidate.decided_by = actor.user_id
    record_event(actor, "benefit_candidate.declined", "benefit_candidate", candidate.id,
                 before={"status": "open"}, after={"status": "declined", "reason": reason})
    return candidate


def confirm(actor: Actor, candidate_id: int, *, declaration: bool, account_confirmed: bool, uploads: dict,
            max_bytes: int, today: date | None = None) -> BenefitCandidate:
    """The enterprise confirms a candidate: the application is created from it.

    Rule: its own users only (403), an open candidate (409), the declaration ticked, the enterprise's
    registered bank account confirmed as the payee account (one is required).  The application is
    saved by the subsidies' services with all their checks (invoice or loan days claimed once,
    uploads of the invoices, plan and statement, caps); it is then submitted when the subsidies'
    rules allow, otherwise it stays a draft the enterprise completes.  Nothing is saved when refused.
    """
    from voucher.benefits import matching

    candidate = _locked_open(actor, candidate_id)
    problems = []
    if not declaration:
        problems.append(("declaration", N_("Tick the declaration to confirm."), {}))
    org = candidate_enterprise(candidate)
    if not org.bank_account:
        problems.append(("account", N_("Register your enterprise's bank account first: the subsidy is paid to it."), {}))
    elif not account_confirmed:
        problems.append(("account", N_("Confirm the account the subsidy is paid to."), {}))
    if problems:
        from voucher.subsidies.common import InputRefused

        raise InputRefused(problems)
    app = matching.create_application(actor, candidate, uploads, max_bytes=max_bytes, today=today)
    candidate.status = "confirmed"
    candidate.decided_at = utcnow()
    candidate.decided_by = actor.user_id
    candidate.payee_account = org.bank_account
    candidate.application_id = app.id
    record_event(actor, "benefit_candidate.confirmed", "benefit_candidate", candidate.id,
                 before={"status": "open"},
                 after={"status": "confirmed", "application": f"{candidate.kind}:{app.id}", "account": org.bank_account,
                        "application_status": app.status})
    return candidate


def candidate_enterprise(candidate: BenefitCandidate):
    from voucher.enterprises.models import Organisation

    return db.session.get(Organisation, candidate.enterprise_id)
