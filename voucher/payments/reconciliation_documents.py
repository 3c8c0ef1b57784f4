"""The reconciliation report of a payment batch as a PDF (issue 18 §1): approved amount, batch line
and bank debit side by side, the differences listed, the totals; with the verification block.

Registered by ``voucher.registries.register_documents`` through :func:`register` (kind
``reconciliation_report``, subject ``payment_batch``, finance only; the download rule of
``payment_batch`` is the one ``payments.documents`` registers).
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from voucher.documents.builders import IssueContext, PermanentJobError, register_builder
from voucher.documents.pdf import (
    _build,
    _fields,
    _frame_width,
    _grid,
    _header,
    _styles,
    _verification_block,
    amount_in_figures,
    format_time,
    labels_for,
)
from voucher.extensions import db
from voucher.payments.documents import in_language
from voucher.payments.models import PaymentBatch
from voucher.payments.reconciliation import reconciliation_of


def _money(value) -> str:
    return "—" if value is None else amount_in_figures(value)


def reconciliation_report_pdf(batch: PaymentBatch, lang: str, issue: IssueContext | None = None) -> bytes:
    from voucher.payments.reconciliation_views import RESOLUTION_LABELS, ROW_STATUS_LABELS

    report = reconciliation_of(batch)
    lb = labels_for(lang)
    st = _styles()
    width = _frame_width()
    with in_language(lang):
        title = _("Reconciliation report")
        story = _header(title, lb)
        story.append(_fields([
            (_("Payment batch"), batch.reference),
            (_("Programme"), batch.programme.name),
            (_("Approved total"), amount_in_figures(report.approved_total)),
            (_("Bank total"), amount_in_figures(report.bank_total)),
            (_("Unreconciled"), amount_in_figures(report.unreconciled)),
            (_("Imported files"), str(len(report.imports))),
            (_("Issued"), format_time(issue.issued_at) if issue else ""),
        ], width))
        story.append(Spacer(1, 3 * mm))
        rows = [[st.p(t, "small") for t in (_("Reference"), _("Payee"), _("Approved amount"), _("Bank debit"),
                                            _("Difference"))]]
        for line in report.lines:
            rows.append([st.p(line.disbursement.reference, "small"), st.p(line.disbursement.payee_name, "small"),
                         _money(line.approved), _money(line.bank_debit), _money(line.difference)])
        story.append(_grid(rows, [w * width for w in (0.2, 0.32, 0.16, 0.16, 0.16)], align_right=(2, 3, 4)))
        story.append(Spacer(1, 3 * mm))
        story.append(st.p(_("Differences"), "h2"))
        rows = [[st.p(t, "small") for t in (_("File row"), _("Reference"), _("Amount"), _("Status"), _("Difference"),
                                            _("Decision"))]]
        for r in report.differences:
            rows.append([f"{r.import_id}:{r.row_number}", st.p(r.reference or r.purpose, "small"), _money(r.amount),
                         st.p(str(ROW_STATUS_LABELS[r.status]), "small"), _money(r.difference),
                         st.p(str(RESOLUTION_LABELS[r.resolution]) + (f": {r.decision_reason}" if r.decision_reason
                                                                       else ""), "small")])
        if len(rows) == 1:
            rows.append(["", st.p(_("No differences."), "small"), "", "", "", ""])
        story.append(_grid(rows, [w * width for w in (0.1, 0.24, 0.14, 0.18, 0.12, 0.22)], align_right=(2, 4)))
    if issue and issue.verification_code:
        story.append(Spacer(1, 3 * mm))
        story.append(_verification_block(issue.verification_code, issue.verification_url, lb, width))
    return _build(story, title=f"{title} {batch.reference}", lang=lang, invariant=False)


def build_reconciliation_report(subject_id: int, lang: str, issue: IssueContext):
    batch = db.session.get(PaymentBatch, subject_id)
    if batch is None:
        raise PermanentJobError(f"Payment batch {subject_id} does not exist.")
    return (f"reconciliation-{batch.reference}.pdf", reconciliation_report_pdf(batch, lang, issue),
            "application/pdf", batch.reference)


def register() -> None:
    register_builder("reconciliation_report", build_reconciliation_report, subject_type="payment_batch",
                     roles=("finance",), label=_l("Reconciliation report"))
