"""API schemas of the payments: payable items, disbursements (maker-checker), payment batches.

Money is a decimal string in yuan ("40000.00"); times ISO 8601.
"""
from __future__ import annotations

import marshmallow as ma

from voucher.payments.models import BATCH_STATES, DISBURSEMENT_STATES, MILESTONES, SOURCE_TYPES
from voucher.programmes.models import FUNDING_KIND_CODES
from voucher.schema_fields import Choice, DecimalString, Length, WholeRange, count, object_id, text

HOLDS = ("not_announced", "notice_running", "objection_open", "objection_upheld", "no_bank_account")


class PayableSchema(ma.Schema):
    """One payable item not yet prepared, and what holds it (``hold`` null: payable now)."""

    programme_id = ma.fields.Integer(required=True)
    programme_name = ma.fields.String(required=True)
    funding_kind = ma.fields.String(required=True, validate=Choice(FUNDING_KIND_CODES))
    source_type = ma.fields.String(required=True, validate=Choice(SOURCE_TYPES),
                                   metadata={"description": "The grant: trial, loan or robot application"})
    source_id = ma.fields.Integer(required=True)
    application_number = ma.fields.String(required=True, allow_none=True,
                                          metadata={"description": "The grant's application number, e.g. SY-2026-000013"})
    milestone = ma.fields.String(required=True, validate=Choice(MILESTONES))
    amount = DecimalString(required=True)
    payee = ma.fields.Dict(required=True, metadata={"description": "{id, name, bank_name, bank_account}"})
    enterprise = ma.fields.Dict(required=True, metadata={"description": "{id, name}"})
    hold = ma.fields.String(required=True, allow_none=True, validate=Choice(HOLDS))
    hold_until = ma.fields.Date(required=True, allow_none=True)
    hold_text = ma.fields.String(required=True)


class PayableArgs(ma.Schema):
    programme_id = ma.fields.Integer(validate=WholeRange(1, 2**31 - 1))
    kind = ma.fields.String(validate=Choice(FUNDING_KIND_CODES))
    payable_only = ma.fields.Boolean(load_default=False, metadata={"description": "Leave out held items"})


class ApprovalSchema(ma.Schema):
    user_id = ma.fields.Integer(required=True, allow_none=True)
    name = ma.fields.String(required=True, allow_none=True)
    at = ma.fields.DateTime(required=True, allow_none=True)


class DisbursementSchema(ma.Schema):
    """A disbursement: what is paid to whom (bank details as copied when prepared), its approval trail
    and bank result."""

    id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    programme_id = ma.fields.Integer(required=True)
    funding_kind = ma.fields.String(required=True, validate=Choice(FUNDING_KIND_CODES))
    source_type = ma.fields.String(required=True, validate=Choice(SOURCE_TYPES))
    source_id = ma.fields.Integer(required=True)
    application_number = ma.fields.String(required=True, allow_none=True,
                                          metadata={"description": "The grant's application number, e.g. SY-2026-000013"})
    milestone = ma.fields.String(required=True, validate=Choice(MILESTONES))
    enterprise_id = ma.fields.Integer(required=True)
    payee_id = ma.fields.Integer(required=True)
    payee_name = ma.fields.String(required=True)
    bank_name = ma.fields.String(required=True)
    bank_account = ma.fields.String(required=True)
    amount = DecimalString(required=True)
    offset_amount = DecimalString(required=True, metadata={
        "description": "Netted against the payee's open recovery orders (抵扣); 0.00 without"})
    transfer_amount = DecimalString(required=True, metadata={
        "description": "What the bank transfers: amount less offset_amount (0.00: paid by offset, in no batch)"})
    status = ma.fields.String(required=True, validate=Choice(DISBURSEMENT_STATES))
    status_label = ma.fields.String(required=True)
    prepared = ma.fields.Nested(ApprovalSchema, required=True)
    approved = ma.fields.Nested(ApprovalSchema, required=True)
    approval_valid = ma.fields.Boolean(required=True, metadata={
        "description": "The approval still matches payee, bank details and amount"})
    rejected = ma.fields.Nested(ApprovalSchema, required=True)
    decision_reason = ma.fields.String(required=True, allow_none=True)
    batch_id = ma.fields.Integer(required=True, allow_none=True)
    bank_reference = ma.fields.String(required=True, allow_none=True)
    result_reason = ma.fields.String(required=True, allow_none=True)
    result_recorded_at = ma.fields.DateTime(required=True, allow_none=True)
    return_reason = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "Returned by the bank (退汇): the bank's reason"})
    return_bank_reference = ma.fields.String(required=True, allow_none=True)
    returned_at = ma.fields.DateTime(required=True, allow_none=True)


class DisbursementListArgs(ma.Schema):
    status = ma.fields.String(validate=Choice(DISBURSEMENT_STATES))
    programme_id = ma.fields.Integer(validate=WholeRange(1, 2**31 - 1))
    kind = ma.fields.String(validate=Choice(FUNDING_KIND_CODES))
    q = ma.fields.String(validate=Length(1, 100), metadata={"description": "Payee, account or DSB number"})


class PrepareSchema(ma.Schema):
    source_type = ma.fields.String(required=True, validate=Choice(SOURCE_TYPES))
    source_id = object_id(required=True)
    milestone = ma.fields.String(required=True, validate=Choice(MILESTONES))
    confirm_same_account = ma.fields.Boolean(load_default=False, metadata={
        "description": "After a return (退汇): pay the same name, account and bank code as the returned payment"})


class ReturnSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=text(2000), metadata={"description": "The bank's reason"})
    bank_reference = ma.fields.String(validate=Length(0, 100), metadata={
        "description": "The bank's reference for the return"})


class ApproveSchema(ma.Schema):
    password = ma.fields.String(required=True, validate=Length(1, 128),
                                metadata={"description": "The approving finance officer's own login password"})


class RejectSchema(ApproveSchema):
    reason = ma.fields.String(required=True, validate=text(2000))


class BankDetailsSchema(ma.Schema):
    payee_name = ma.fields.String(required=True, validate=Length(1, 200))
    bank_name = ma.fields.String(required=True, validate=Length(1, 200))
    bank_account = ma.fields.String(required=True, validate=Length(1, 64))


class BatchCreateSchema(ma.Schema):
    programme_id = object_id(required=True)
    disbursement_ids = ma.fields.List(object_id(), required=True, validate=count(1, 5000))
    note = ma.fields.String(validate=Length(0, 500))


class BatchSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    programme_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=Choice(BATCH_STATES))
    status_label = ma.fields.String(required=True)
    line_count = ma.fields.Integer(required=True)
    total = DecimalString(required=True)
    note = ma.fields.String(required=True, allow_none=True)
    created_by = ma.fields.Integer(required=True)
    created_at = ma.fields.DateTime(required=True)
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    progress = ma.fields.Dict(required=True, metadata={"description": "Lines per status: in_batch, paid, failed"})


class BatchDetailSchema(BatchSchema):
    lines = ma.fields.List(ma.fields.Nested(DisbursementSchema), required=True)


class BatchListArgs(ma.Schema):
    status = ma.fields.String(validate=Choice(BATCH_STATES))
    programme_id = ma.fields.Integer(validate=WholeRange(1, 2**31 - 1))


class ResultSchema(ma.Schema):
    disbursement_id = object_id(required=True)
    outcome = ma.fields.String(required=True, validate=Choice(("paid", "failed")))
    bank_reference = ma.fields.String(validate=Length(0, 100), metadata={"description": "Required when paid"})
    reason = ma.fields.String(validate=Length(0, 2000), metadata={"description": "Required when failed"})
