"""API schemas of trial-voucher applications.

The request fields are the web form's; ``applications.services`` applies the rules (quota, trial
price, window, no retrospective dates, at least one baseline, ...) with the form's messages.
Baseline figures travel as ``baselines: {indicator: "42.50"}`` (refusals name ``baselines.<code>``).
"""
from __future__ import annotations

import marshmallow as ma

from voucher.applications.models import APPLICATION_STATES, INDICATOR_CODES
from voucher.applications.queries import QUEUE_STATUSES, SORTS
from voucher.programmes.schemas import rule_version_field
from voucher.reference import DISTRICTS, INDUSTRIES
from voucher.schema_fields import ID_MAX, Choice, DecimalString, Length, WholeRange, object_id


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


BaselinesSchema = type("BaselinesSchema", (_Strict,), {
    "__doc__": "Baseline figures, the current values the trial should improve (give at least one): production "
               "efficiency (units/hour), labour per unit output, defect rate (%), order lead time (days), energy "
               "per unit output.",
    **{code: DecimalString(load_default=None, allow_none=True) for code in INDICATOR_CODES},
})


class ContentSchema(_Strict):
    """What the SME writes: amount, need, declared dates, baselines."""

    requested_amount = DecimalString(required=True, metadata={"description": "Yuan; at most the solution's trial "
                                                                             "price and what remains of the quota"})
    need_statement = ma.fields.String(required=True, metadata={"maxLength": 4000})
    contract_date = ma.fields.Date(required=True, metadata={"description": "Not before the submission date"})
    trial_start_date = ma.fields.Date(required=True, metadata={"description": "Not before the submission date"})
    baselines = ma.fields.Nested(BaselinesSchema, required=True)


class ApplicationCreateSchema(ContentSchema):
    idempotency_key = ma.fields.String(required=True, validate=Length(16, 64),
                                       metadata={"description": "A random key chosen by the client (16-64 "
                                                                "characters): the same key again returns the first "
                                                                "application (200) instead of a second one"})
    programme_id = object_id(required=True)
    solution_id = object_id(required=True,
                                    metadata={"description": "A listed or recommended solution"})


class DecisionSchema(_Strict):
    reason = ma.fields.String(load_default=None, allow_none=True, metadata={
        "maxLength": 2000,
        "description": "Required to reject, return (what to revise) and cancel; optional to approve (a note) and "
                       "to withdraw"})


class ApplicationListArgs(ma.Schema):
    status = ma.fields.String(validate=Choice(APPLICATION_STATES),
                              metadata={"description": f"Bureau roles see only {', '.join(QUEUE_STATUSES)}"})
    district = ma.fields.String(validate=Choice(tuple(DISTRICTS)), metadata={"description": "Bureau roles"})
    industry = ma.fields.String(validate=Choice(tuple(INDUSTRIES)), metadata={"description": "Bureau roles"})
    solution_id = ma.fields.Integer(validate=WholeRange(1, ID_MAX), metadata={"description": "Bureau roles"})
    q = ma.fields.String(validate=Length(1, 100),
                         metadata={"description": "Bureau roles: enterprise name, credit code or solution title"})
    sort = ma.fields.String(load_default="submitted_desc", validate=Choice(tuple(SORTS)),
                            metadata={"description": "Bureau roles"})


class RefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class SolutionRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)


BaselinesOutSchema = type("BaselinesOutSchema", (ma.Schema,), {
    **{code: DecimalString(required=True, allow_none=True) for code in INDICATOR_CODES},
})


class ApplicationSchema(ma.Schema):
    """A trial-voucher application."""

    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, allow_none=True,
                              metadata={"description": "The application number, e.g. SY-2026-000013"})
    application_number = ma.fields.String(required=True, allow_none=True,
                                          metadata={"description": "The same number under the name every resource "
                                                                   "uses (trials, payments)"})
    programme_id = ma.fields.Integer(required=True)
    enterprise = ma.fields.Nested(RefSchema, required=True)
    solution = ma.fields.Nested(SolutionRefSchema, required=True)
    provider = ma.fields.Nested(RefSchema, required=True)
    requested_amount = DecimalString(required=True)
    need_statement = ma.fields.String(required=True)
    contract_date = ma.fields.Date(required=True)
    trial_start_date = ma.fields.Date(required=True)
    baselines = ma.fields.Nested(BaselinesOutSchema, required=True)
    status = ma.fields.String(required=True, validate=Choice(APPLICATION_STATES))
    status_label = ma.fields.String(required=True, metadata={"description": "Plain-language status"})
    next_step = ma.fields.String(required=True, metadata={"description": "What the caller's side does next"})
    submitted_at = ma.fields.DateTime(required=True, allow_none=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    decision_reason = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class QuotaSchema(ma.Schema):
    cap = DecimalString(required=True)
    used = DecimalString(required=True, metadata={"description": "Reserved + paid over the enterprise's trial "
                                                                 "vouchers in the programme"})
    remaining = DecimalString(required=True)


class MaterialSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    required = ma.fields.Boolean(required=True)
    formats = ma.fields.List(ma.fields.String(), required=True)
    files = ma.fields.Integer(required=True, metadata={"description": "How many files are attached"})


class ApplicationDetailSchema(ApplicationSchema):
    rule_version = rule_version_field()
    reserved = DecimalString(required=True, metadata={"description": "Still reserved for it in the fund ledger"})
    quota = ma.fields.Nested(QuotaSchema, required=True)
    allowed_actions = ma.fields.List(ma.fields.String(), required=True)
    materials = ma.fields.List(ma.fields.Nested(MaterialSchema), required=True,
                               metadata={"description": "The checklist of materials, with the files attached to each"})
