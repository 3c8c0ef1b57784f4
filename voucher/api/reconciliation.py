"""``/api/v1/payment-batches/<id>/reconciliation`` and ``/api/v1/reconciliation-rows/<id>/decision``:
bank reconciliation (对账) for finance officers, over the same services as the page
(``voucher.payments.reconciliation``): import the bank's result file (base64 in the JSON body; a refused
file answers 422 with every bad cell named ``rows.<row>.<column>``), read the report, decide a conflict."""
from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import auth, errors
from voucher.errors import ValidationFailed
from voucher.payments import reconciliation as recon
from voucher.payments.access import RULES as ACCESS
from voucher.payments.reconciliation_schemas import (
    ReconciliationImportSchema,
    ReconciliationReportSchema,
    ReconciliationRowSchema,
    RowDecisionSchema,
    StatementImportSchema,
)

FINANCE = ACCESS["payments.reconcile"].roles

blp = api_blueprint("api-reconciliation", __name__, description="Bank reconciliation (对账): the bank's result "
                    "file of a payment batch matched row by row to its lines by the DSB- reference and the amount, "
                    "exact to the fen. A matched row records its line paid; every other row (amount differs, "
                    "unknown reference, duplicate, reversal) waits for a finance officer's decision with a reason.")


def row_json(row, line_status: dict | None = None) -> dict:
    from voucher.extensions import db
    from voucher.payments.models import Disbursement

    d = db.session.get(Disbursement, row.disbursement_id) if row.disbursement_id else None
    return {"id": row.id, "import_id": row.import_id, "row_number": row.row_number, "reference": row.reference,
            "purpose": row.purpose, "payee_name": row.payee_name, "account": row.account, "amount": row.amount,
            "bank_reference": row.bank_reference, "status": row.status, "difference": row.difference,
            "disbursement_id": row.disbursement_id, "resolution": row.resolution,
            "allowed_decisions": recon.allowed_decisions(row, d), "decided_by": row.decided_by,
            "decided_at": row.decided_at, "decision_reason": row.decision_reason}


def import_json(imp, rows=None) -> dict:
    rows = list(imp.rows if rows is None else rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"id": imp.id, "filename": imp.filename, "layout": imp.layout, "sha256": imp.sha256,
            "row_count": imp.row_count, "imported_by": imp.imported_by, "imported_at": imp.imported_at,
            "counts": counts, "rows": [row_json(r) for r in rows]}


def _cells_refused(err: recon.StatementInvalid) -> ValidationFailed:
    """The page lists every refused cell by row and column; the API names each as a field."""
    fields = {"file": err.render(_)}
    for e in err.errors:
        name = "file" if e.row is None else f"rows.{e.row}.{e.column or 'row'}"
        message = _(e.message) % e.params if e.params else _(e.message)
        fields[name] = f"{fields[name]} {message}" if name in fields else message
    refused = ValidationFailed(err.message, **err.params)
    refused.fields = fields
    return refused


@blp.route("/payment-batches/<id:batch_id>/reconciliation")
class BatchReconciliation(MethodView):
    @auth(blp, *FINANCE)
    @errors(blp, 404)
    @blp.response(200, ReconciliationReportSchema)
    def get(self, batch_id: int):
        """The batch's reconciliation: each line's approved amount beside the bank's debit and the
        difference, the imported files and every bank row with its status and decision."""
        report = recon.batch_reconciliation(api_actor(), batch_id)
        lines = [{"disbursement_id": line.disbursement.id, "reference": line.disbursement.reference,
                  "payee_name": line.disbursement.payee_name, "status": line.disbursement.status,
                  "approved": line.approved, "bank_debit": line.bank_debit, "difference": line.difference,
                  "rows": line.rows, "pending": line.pending, "reconciled": line.reconciled}
                 for line in report.lines]
        by_import: dict[int, list] = {}
        for r in report.rows:
            by_import.setdefault(r.import_id, []).append(r)
        return {"batch_id": report.batch.id, "batch_reference": report.batch.reference,
                "approved_total": report.approved_total, "bank_total": report.bank_total,
                "unreconciled": report.unreconciled, "lines": lines,
                "imports": [import_json(i, by_import.get(i.id, [])) for i in report.imports],
                "rows": [row_json(r) for r in report.rows]}

    @auth(blp, *FINANCE)
    @errors(blp, 400, 404, 409, 422)
    @blp.arguments(StatementImportSchema)
    @blp.response(201, ReconciliationImportSchema)
    def post(self, body, batch_id: int):
        """Import the bank's result file of the batch: each row gets its status; matched rows record their
        line paid (fund ledger included). The whole file is refused (nothing saved) when any cell is bad, or
        when the same file (SHA-256) was already imported for the batch (409)."""
        upload = body["file"]
        data = upload.stream.read(recon.MAX_FILE_BYTES + 1)
        try:
            imp = recon.import_statement(api_actor(), batch_id, filename=upload.filename, data=data,
                                         layout=body["layout"])
        except recon.StatementInvalid as err:
            raise _cells_refused(err) from None
        return import_json(imp)


@blp.route("/reconciliation-rows/<id:row_id>/decision")
class RowDecision(MethodView):
    @auth(blp, *FINANCE)
    @errors(blp, 404, 409, 422)
    @blp.arguments(RowDecisionSchema)
    @blp.response(200, ReconciliationRowSchema)
    def post(self, body, row_id: int):
        """Decide a row waiting for a decision (``allowed_decisions`` on the row lists what is possible):
        accept as paid at the approved amount, mark the line failed, or ignore; a reason is required."""
        return row_json(recon.decide(api_actor(), row_id, body["decision"], body.get("reason")))
