"""API schemas of bank reconciliation (对账): the bank's file sent in the JSON body, a finance officer's
decision on a conflict row, and the batch's report (lines side by side with the bank's rows).

Money is a decimal string in yuan; a reversal row's amount is negative.
"""
from __future__ import annotations

import marshmallow as ma

from voucher.payments.reconciliation import DECISIONS, STATEMENT_LAYOUTS
from voucher.payments.reconciliation_models import RESOLUTIONS, ROW_STATUSES
from voucher.schema_fields import Choice, DecimalString, FileUploadSchema, text


class StatementImportSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    file = ma.fields.Nested(FileUploadSchema, required=True,
                            metadata={"description": "The bank's result file (CSV or Excel .xlsx), base64"})
    layout = ma.fields.String(load_default="generic", validate=Choice(tuple(STATEMENT_LAYOUTS)),
                              metadata={"description": "The bank's column layout (docs/API.md lists them)"})


class RowDecisionSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    decision = ma.fields.String(required=True, validate=Choice(DECISIONS))
    reason = ma.fields.String(required=True, validate=text(2000))


class ReconciliationRowSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    import_id = ma.fields.Integer(required=True)
    row_number = ma.fields.Integer(required=True, metadata={"description": "The file's line number (header = 1)"})
    reference = ma.fields.String(allow_none=True, metadata={"description": "The DSB-… reference found in 用途"})
    purpose = ma.fields.String(required=True)
    payee_name = ma.fields.String(allow_none=True)
    account = ma.fields.String(allow_none=True)
    amount = DecimalString(required=True)
    bank_reference = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, validate=Choice(ROW_STATUSES))
    difference = DecimalString(allow_none=True, metadata={"description": "Bank minus approved (amount_differs)"})
    disbursement_id = ma.fields.Integer(allow_none=True)
    resolution = ma.fields.String(required=True, validate=Choice(RESOLUTIONS))
    allowed_decisions = ma.fields.List(ma.fields.String(), required=True)
    decided_by = ma.fields.Integer(allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True)


class ReconciliationLineSchema(ma.Schema):
    disbursement_id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    payee_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    approved = DecimalString(required=True)
    bank_debit = DecimalString(allow_none=True, metadata={"description": "The sum of the bank's rows naming the line"})
    difference = DecimalString(allow_none=True)
    rows = ma.fields.Integer(required=True)
    pending = ma.fields.Integer(required=True)
    reconciled = ma.fields.Boolean(required=True)


class ReconciliationImportSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    filename = ma.fields.String(required=True)
    layout = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True)
    row_count = ma.fields.Integer(required=True)
    imported_by = ma.fields.Integer(required=True)
    imported_at = ma.fields.DateTime(required=True)
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                            metadata={"description": "Rows by status"})
    rows = ma.fields.List(ma.fields.Nested(ReconciliationRowSchema))


class ReconciliationReportSchema(ma.Schema):
    batch_id = ma.fields.Integer(required=True)
    batch_reference = ma.fields.String(required=True)
    approved_total = DecimalString(required=True)
    bank_total = DecimalString(required=True)
    unreconciled = DecimalString(required=True)
    lines = ma.fields.List(ma.fields.Nested(ReconciliationLineSchema), required=True)
    imports = ma.fields.List(ma.fields.Nested(ReconciliationImportSchema), required=True)
    rows = ma.fields.List(ma.fields.Nested(ReconciliationRowSchema), required=True)
