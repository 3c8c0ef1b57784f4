"""The real document kinds, wired to real data: payment order (per disbursement), audit dossier
(per trial-voucher application), programme report, batch summary and bank payment file (per
payment batch); and who may download documents about disbursements, batches and programmes.

Builders run inside the document job (they read, never write).  Fixed texts are English in the
source, translated into the document's language with ``force_locale``; names and figures are
printed as stored.
"""
from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from voucher.access import BUREAU, PAYEES
from voucher.appnumbers import number_of, prime
from voucher.audit.services import Actor
from voucher.documents.bank_file import BankFileError, bank_file
from voucher.documents.builders import (
    IssueContext,
    PermanentJobError,
    register_builder,
    register_download_rule,
    register_subject_lookup,
    register_verify_note,
)
from voucher.documents.pdf import (
    BankLine,
    BatchSummaryData,
    FundUseRow,
    PaymentOrderData,
    ProgrammeReportData,
    batch_summary_pdf,
    payment_order_pdf,
    programme_report_pdf,
)
from voucher.extensions import db
from voucher.grants import grant_kind, kinds
from voucher.payments import queries
from voucher.payments.models import Disbursement, PaymentBatch
from voucher.reference import DISTRICTS, FUNDING_KINDS, INDUSTRIES

LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
PAYABLE_STATES = ("approved", "in_batch", "paid")


@contextmanager
def in_language(lang: str):
    with force_locale(LOCALES.get(lang, "zh_Hans_CN")):
        yield


def _names(*user_ids) -> dict[int, str]:
    return queries.user_names(user_ids)


def _kind_label(kind: str) -> str:
    return str(FUNDING_KINDS.get(kind, kind))


def _milestone_label(milestone: str) -> str:
    return str(queries.MILESTONE_LABELS.get(milestone, milestone))


def _source_label(source_type: str, source_id: int) -> str:
    kind = grant_kind(source_type)
    if kind is None:
        return f"{source_type} {number_of(source_type, source_id) or source_id}"
    return kind.label(source_id)


def working_lines(d: Disbursement) -> list[str]:
    """The calculation of a disbursement's amount, worded in the current language (its grant kind's
    lines, ``voucher.grants``)."""
    kind = grant_kind(d.source_type)
    return kind.working_lines(d, _) if kind is not None else []


def approval_trail(d: Disbursement) -> list[tuple[str, str, object]]:
    names = _names(d.prepared_by, d.approved_by, d.rejected_by, d.result_recorded_by)
    trail = [(_("Prepared by (finance)"), names.get(d.prepared_by, "—"), d.prepared_at)]
    if d.approved_by:
        trail.append((_("Approved by (finance, password confirmed)"), names.get(d.approved_by, "—"), d.approved_at))
    if d.rejected_by:
        trail.append((_("Rejected by (finance)"), names.get(d.rejected_by, "—"), d.rejected_at))
    if d.status == "paid":
        trail.append((_("Paid, bank reference %(ref)s", ref=d.bank_reference), names.get(d.result_recorded_by, "—"),
                      d.result_recorded_at))
    return trail


def offset_orders(d: Disbursement) -> list[tuple[str, Decimal]]:
    """The recovery orders a disbursement is netted against (抵扣): (reference, amount), by order."""
    from voucher.recovery.services import live_offsets_of

    if not d.offset_amount:
        return []
    return [(o.order.reference, o.amount) for o in live_offsets_of(d.id)]


def purpose_of(d: Disbursement) -> str:
    return " — ".join([_kind_label(d.funding_kind), _milestone_label(d.milestone),
                       _source_label(d.source_type, d.source_id)])


def build_payment_order(subject_id: int, lang: str, issue: IssueContext):
    d = db.session.get(Disbursement, subject_id)
    if d is None:
        raise PermanentJobError(f"Disbursement {subject_id} does not exist.")
    if d.status not in PAYABLE_STATES:
        raise PermanentJobError(f"A payment order is issued only for an approved disbursement "
                                f"({d.reference} is {d.status}).")
    with in_language(lang):
        data = PaymentOrderData(reference=d.reference, programme_name=d.programme.name, payee_name=d.payee_name,
                                bank_name=d.bank_name, bank_account=d.bank_account, amount=d.amount,
                                offset_amount=d.offset_amount or Decimal("0.00"), offset_orders=offset_orders(d),
                                purpose=purpose_of(d), issued_at=issue.issued_at,
                                verification_code=issue.verification_code, verification_url=issue.verification_url,
                                working=working_lines(d), approvals=approval_trail(d), lang=lang,
                                enterprise_name=d.enterprise.name, bank_code=d.bank_code or "")
    return f"payment-order-{d.reference}.pdf", payment_order_pdf(data), "application/pdf", d.reference


# --- programme report ---------------------------------------------------------------------------

def build_programme_report(subject_id: int, lang: str, issue: IssueContext):
    from voucher.programmes.models import Programme
    from voucher.programmes.services import balances

    programme = db.session.get(Programme, subject_id)
    if programme is None:
        raise PermanentJobError(f"Programme {subject_id} does not exist.")
    bal = balances(programme)
    # Figures only some kinds have (the trial voucher's outcomes and adoption), zero without them.
    figures = {"trials_passed": 0, "trials_failed": 0, "trials_pending": 0, "adopted": 0, "adoption_decided": 0}
    for kind in kinds():
        figures.update(kind.programme_figures(programme.id))
    from voucher.audit.services import ensure_daily_anchor

    anchor = ensure_daily_anchor()  # the report carries the day's published chain head out of the system
    with in_language(lang):
        def rows(group: str, labels: dict) -> list[FundUseRow]:
            return [FundUseRow(str(labels.get(code, code)) if code else _("Not recorded"), reserved, paid)
                    for code, reserved, paid in queries.fund_use(programme.id, group)]

        data = ProgrammeReportData(programme_name=programme.name, as_of=issue.issued_at, budget=bal.budget,
                                   reserved=bal.reserved, paid=bal.paid, issued_at=issue.issued_at,
                                   by_kind=rows("kind", FUNDING_KINDS), by_district=rows("district", DISTRICTS),
                                   by_industry=rows("industry", INDUSTRIES), **figures,
                                   verification_code=issue.verification_code,
                                   verification_url=issue.verification_url, lang=lang,
                                   audit_anchor=(f"{anchor.anchored_on.isoformat()}  {anchor.chain_length}:"
                                                 f"{anchor.head_hash}" if anchor else ""))
    return (f"programme-report-{programme.id}.pdf", programme_report_pdf(data), "application/pdf",
            programme.name)


# --- payment batch ------------------------------------------------------------------------------

def _batch(subject_id: int) -> PaymentBatch:
    batch = db.session.get(PaymentBatch, subject_id)
    if batch is None:
        raise PermanentJobError(f"Payment batch {subject_id} does not exist.")
    if batch.status == "cancelled":
        raise PermanentJobError(f"Payment batch {batch.reference} is cancelled.")
    return batch


# 用途 of a bank-file line: what the bank prints on the payee's statement, in Chinese whatever the
# document's language (the bank's import reads it as data), short, with the disbursement's reference.
BANK_PURPOSES = {
    ("trial_voucher", "advance"): "试用券预拨款",
    ("trial_voucher", "balance"): "试用券尾款",
    ("loan_discount", "full"): "贷款贴息",
    ("robot_subsidy", "full"): "工业机器人购置补助",
}


def bank_purpose(d: Disbursement) -> str:
    """用途: the words, the application number (受理编号) of the grant and the disbursement's reference."""
    words = BANK_PURPOSES.get((d.funding_kind, d.milestone), "专项资金拨付")
    number = number_of(d.source_type, d.source_id)
    return f"{words} {number} {d.reference}" if number else f"{words} {d.reference}"


def bank_lines(batch: PaymentBatch) -> list[BankLine]:
    disbursements = queries.batch_lines(batch.id)
    prime((d.source_type, d.source_id) for d in disbursements)
    return [BankLine(d.payee_name, d.bank_name, d.bank_account, d.transfer_amount, d.reference,
                     bank_code=d.bank_code or "", purpose=bank_purpose(d),
                     application_number=number_of(d.source_type, d.source_id) or "")
            for d in disbursements]


def build_bank_file(subject_id: int, lang: str, issue: IssueContext):
    """The batch's bank file in the layout ``BANK_FILE_LAYOUT`` names (voucher.documents.bank_file);
    a line without a 12-digit bank code (联行号) fails the job with a message naming the line."""
    batch = _batch(subject_id)
    try:
        data = bank_file(bank_lines(batch), current_app.config.get("BANK_FILE_LAYOUT"))
    except BankFileError as exc:
        raise PermanentJobError(f"The bank file cannot be written: {exc}. Correct the line's bank details "
                                f"(Correct payee or bank details on the disbursement) and ask for the file again.") from exc
    return f"bank-file-{batch.reference}.csv", data, "text/csv", batch.reference


def build_batch_summary(subject_id: int, lang: str, issue: IssueContext):
    batch = _batch(subject_id)
    names = _names(batch.created_by)
    data = BatchSummaryData(reference=batch.reference, programme_name=batch.programme.name,
                            prepared_by=names.get(batch.created_by, "—"), prepared_at=batch.created_at,
                            issued_at=issue.issued_at, lines=bank_lines(batch),
                            verification_code=issue.verification_code, verification_url=issue.verification_url,
                            lang=lang)
    return f"batch-summary-{batch.reference}.pdf", batch_summary_pdf(data), "application/pdf", batch.reference


# --- who may download ---------------------------------------------------------------------------

def disbursement_rule(actor: Actor, subject_id: int, kind: str | None) -> bool:
    """Bureau roles; and the payee's own users for documents about payments to it."""
    if actor.role in BUREAU:
        return True
    if actor.role not in PAYEES or actor.organisation_id is None:
        return False
    payee = db.session.scalar(select(Disbursement.payee_id).where(Disbursement.id == subject_id))
    return payee is not None and payee == actor.organisation_id


def bureau_rule(actor: Actor, subject_id: int, kind: str | None) -> bool:
    return actor.role in BUREAU


def payment_order_note(document) -> tuple[str, str] | None:
    """The public verification page's word on a payment order: paid, returned (退汇) or superseded
    (a later disbursement of the same item exists, named), or not (yet) paid."""
    from voucher.payments.returns import order_state

    if document.kind != "payment_order":
        return None
    d = db.session.get(Disbursement, document.subject_id)
    if d is None:
        return None
    state, newer = order_state(d)
    if state == "superseded":
        return state, _("Superseded: this payment order was not paid (or the bank returned the payment); it is "
                        "replaced by %(reference)s.", reference=newer.reference)
    if state == "paid":
        return state, _("Paid: the bank paid this payment order.")
    if state == "returned":
        return state, _("Returned: the bank paid this payment order, then returned the payment; it will be paid "
                        "again under a new payment order.")
    if state == "failed":
        return state, _("Not paid: the bank could not pay this payment order.")
    return "pending", _("Not paid yet: this payment order is waiting for the bank.")


def _programme_exists(subject_id: int) -> bool:
    from voucher.programmes.models import Programme

    return db.session.get(Programme, subject_id) is not None


def register() -> None:
    register_builder("payment_order", build_payment_order, subject_type="disbursement", roles=("finance",))
    register_builder("programme_report", build_programme_report, subject_type="programme",
                     roles=BUREAU)
    register_builder("batch_summary", build_batch_summary, subject_type="payment_batch", roles=("finance",))
    register_builder("bank_file", build_bank_file, subject_type="payment_batch", roles=("finance",))
    register_download_rule("disbursement", disbursement_rule)
    register_verify_note("disbursement", payment_order_note)
    register_download_rule("payment_batch", bureau_rule)
    register_download_rule("programme", bureau_rule)
    register_subject_lookup("disbursement", lambda subject_id: db.session.get(Disbursement, subject_id) is not None)
    register_subject_lookup("payment_batch", lambda subject_id: db.session.get(PaymentBatch, subject_id) is not None)
    register_subject_lookup("programme", _programme_exists)
