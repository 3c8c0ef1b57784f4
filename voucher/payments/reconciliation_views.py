"""Reconciliation pages (对账): a batch's reconciliation report with the import of the bank's file,
the finance officer's decisions on conflicts, and the report's Excel / CSV export.

Finance officers only (``payments.reconcile``), checked here and again in the services.  Thin views:
a refused import answers 422 with every bad cell listed by row and column (the request rolls back).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from voucher.auth.policy import current_actor, roles_required
from voucher.errors import DomainError, Forbidden, NotFound
from voucher.forms import VoucherForm
from voucher.list_export import requested_format, send
from voucher.payments import queries
from voucher.payments import reconciliation as recon
from voucher.payments.access import RULES as ACCESS
from voucher.ui import form_errors_from

bp = Blueprint("reconciliation", __name__)
FINANCE = ACCESS["payments.reconcile"].roles

ROW_STATUS_LABELS = {
    "matched": _l("Matched: the line is recorded paid"),
    "amount_differs": _l("Amount differs"),
    "unknown_reference": _l("Unknown reference"),
    "duplicate": _l("Duplicate"),
    "reversal": _l("Reversal of an earlier payment"),
}
ROW_BADGES = {"matched": "success", "amount_differs": "warning", "unknown_reference": "danger",
              "duplicate": "danger", "reversal": "danger"}
RESOLUTION_LABELS = {
    "auto": _l("Recorded paid automatically"),
    "pending": _l("Waiting for a finance officer's decision"),
    "accepted_paid": _l("Accepted as paid"),
    "marked_failed": _l("Marked failed"),
    "recorded_returned": _l("Recorded as returned"),
    "ignored": _l("Ignored"),
}
DECISION_LABELS = {
    "accept_paid": _l("Accept as paid (the approved amount)"),
    "mark_failed": _l("Mark the line failed"),
    "record_returned": _l("Record as returned (the bank sent the payment back)"),
    "ignore": _l("Ignore this row"),
}
LAYOUT_LABELS = {
    "generic": _l("Generic (UTF-8): account name, account number, amount, purpose, bank serial number"),
    "gb18030_numbered": _l("Numbered (GB18030): number, account number, account name, amount, purpose, serial number"),
}


class ImportForm(VoucherForm):
    file = FileField(_l("The bank's result file (CSV or Excel .xlsx)"))
    layout = SelectField(_l("The bank's column layout"), choices=list(LAYOUT_LABELS.items()), default="generic")


class DecisionForm(VoucherForm):
    decision = RadioField(_l("Decision"), choices=list(DECISION_LABELS.items()), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


@bp.app_context_processor
def _unreconciled():
    """For the reports page: the unreconciled amount of a programme's paid lines (finance reads it)."""
    return {"programme_unreconciled": recon.programme_unreconciled}


@bp.context_processor
def _labels():
    return {"row_status_labels": ROW_STATUS_LABELS, "row_badges": ROW_BADGES,
            "resolution_labels": RESOLUTION_LABELS, "decision_labels": DECISION_LABELS,
            "layout_labels": LAYOUT_LABELS, "status_labels": queries.STATUS_LABELS,
            "allowed_decisions": recon.allowed_decisions}


def _page(batch_id: int, status_code: int = 200, form: ImportForm | None = None, errors=None,
          decision_form: DecisionForm | None = None, decision_for: int | None = None):
    report = recon.batch_reconciliation(current_actor(), batch_id)
    return render_template("payments/reconciliation.html", report=report, batch=report.batch,
                           form=form or ImportForm(), errors=errors or [],
                           decision_form=decision_form or DecisionForm(), decision_for=decision_for,
                           line_of={line.disbursement.id: line.disbursement for line in report.lines},
                           names=queries.user_names([i.imported_by for i in report.imports]
                                                    + [r.decided_by for r in report.rows])), status_code


def _export(fmt: str, batch_id: int):
    report = recon.batch_reconciliation(current_actor(), batch_id)
    headers = [_("Reference"), _("Payee"), _("Approved amount"), _("Line status"), _("Bank debit"), _("Difference"),
               _("Bank rows"), _("Waiting for a decision")]
    rows = [[line.disbursement.reference, line.disbursement.payee_name, line.approved,
             str(queries.STATUS_LABELS.get(line.disbursement.status, line.disbursement.status)),
             line.bank_debit if line.bank_debit is not None else "",
             line.difference if line.difference is not None else "", line.rows, line.pending]
            for line in report.lines]
    rows.append([])
    rows.append([_("File row"), _("Reference"), _("Amount"), _("Bank reference"), _("Status"), _("Difference"),
                 _("Decision"), _("Reason")])
    for r in report.rows:
        rows.append([f"{r.import_id}:{r.row_number}", r.reference or r.purpose, r.amount, r.bank_reference or "",
                     str(ROW_STATUS_LABELS[r.status]), r.difference if r.difference is not None else "",
                     str(RESOLUTION_LABELS[r.resolution]), r.decision_reason or ""])
    rows.append([])
    rows.append([_("Approved total"), "", report.approved_total, "", _("Bank total"), report.bank_total,
                 _("Unreconciled"), report.unreconciled])
    return send(fmt, f"reconciliation-{report.batch.reference}", headers, rows)


@bp.get("/payments/batches/<int:batch_id>/reconciliation")
@roles_required(*FINANCE)
def report(batch_id: int):
    fmt = requested_format()
    if fmt:
        return _export(fmt, batch_id)
    return _page(batch_id)


@bp.post("/payments/batches/<int:batch_id>/reconciliation")
@roles_required(*FINANCE)
def import_file(batch_id: int):
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(batch_id, 422, form=form)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose the bank's file.")]
        return _page(batch_id, 422, form=form)
    data = upload.read(recon.MAX_FILE_BYTES + 1)
    try:
        imp = recon.import_statement(current_actor(), batch_id, filename=upload.filename, data=data,
                                     layout=form.layout.data)
    except (Forbidden, NotFound):
        raise
    except recon.StatementInvalid as err:
        errors = [(e.row, e.column, _(e.message, **e.params)) for e in err.errors]
        form.file.errors = [err.render(_)]
        return _page(batch_id, 422, form=form, errors=errors)
    except DomainError as err:
        form_errors_from(err, form)
        return _page(batch_id, 422, form=form)
    counts = {}
    for r in imp.rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    flash(_("The bank's file is imported: %(rows)s row(s), %(matched)s matched and recorded paid, %(other)s waiting "
            "for a decision.", rows=imp.row_count, matched=counts.get("matched", 0),
            other=imp.row_count - counts.get("matched", 0)), "success")
    return redirect(url_for("reconciliation.report", batch_id=batch_id))


@bp.post("/payments/reconciliation/rows/<int:row_id>/decide")
@roles_required(*FINANCE)
def decide(row_id: int):
    from voucher.extensions import db
    from voucher.payments.reconciliation_models import ReconciliationRow

    row = db.session.get(ReconciliationRow, row_id)
    if row is None:
        abort(404)
    batch_id = row.import_.batch_id
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            recon.decide(current_actor(), row.id, form.decision.data, form.reason.data)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("Your decision is recorded."), "success")
            return redirect(url_for("reconciliation.report", batch_id=batch_id))
    return _page(batch_id, 422, decision_form=form, decision_for=row.id)
