"""API schemas of the calculators and of the loan-discount and robot-subsidy applications
(requests validated, responses documented).

Money and rates are decimal strings (rates in percent: "2.40" is 2.40%), dates ISO 8601.
"""
from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from flask_babel import gettext as _

from voucher.programmes.schemas import rule_version_field
from voucher.schema_fields import (
    Choice,
    DecimalString,
    FileUploadSchema,
    Length,
    StepSchema,
    count,
    int_range,
    object_id,
    text,
)
from voucher.subsidies.common import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE, date_out_of_range
from voucher.subsidies.models import APPLICATION_STATES

MAX_AMOUNT = Decimal("999999999999.99")


def _money(**kwargs) -> DecimalString:
    return DecimalString(places=2, minimum=Decimal(0), maximum=MAX_AMOUNT, **kwargs)


def _rate(**kwargs) -> DecimalString:
    return DecimalString(places=2, minimum=Decimal(0), exclusive_minimum=True, maximum=Decimal(100), kind="rate",
                         **kwargs)


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class _WithProgramme(_Strict):
    programme_id = object_id(load_default=None, allow_none=True,
                                     metadata={"description": "Take this programme's parameters (default: the "
                                                              "domain defaults)"})


# --- size class -----------------------------------------------------------------------------------

class SmeClassRequest(_Strict):
    employees = ma.fields.Integer(required=True, strict=True, validate=int_range(0, 10_000_000))
    annual_revenue = _money(required=True, metadata={"description": "Yuan, e.g. \"15000000.00\""})


class SmeClassResponse(ma.Schema):
    size_class = ma.fields.String(metadata={"description": "micro, small, medium or large"})
    is_sme = ma.fields.Boolean()
    working = ma.fields.List(ma.fields.Nested(StepSchema))


# --- loan discount --------------------------------------------------------------------------------

def _calculator_date(value) -> None:
    if date_out_of_range(value):
        raise ma.ValidationError(_(DATE_RANGE_MESSAGE, earliest=EARLIEST_DATE.isoformat(),
                                   latest=LATEST_DATE.isoformat()))


class PeriodRequest(_Strict):
    start = ma.fields.Date(required=True, validate=_calculator_date)
    end = ma.fields.Date(required=True, validate=_calculator_date)
    outstanding_principal = _money(required=True)
    interest_paid = _money(required=True)

    @ma.validates_schema
    def end_after_start(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise ma.ValidationError(_("The end date must be after the start date (%(start)s).",
                                       start=data["start"].isoformat()), "end")


class LoanDiscountRequest(_WithProgramme):
    benchmark_rate = _rate(required=True, metadata={"description": "1-year LPR in percent, e.g. \"3.00\""})
    loan_rate = _rate(required=True, metadata={"description": "The loan's annual rate in percent, e.g. \"2.40\""})
    periods = ma.fields.List(ma.fields.Nested(PeriodRequest), required=True, validate=count(1, 60))


class PeriodResponse(ma.Schema):
    start = ma.fields.String()
    end = ma.fields.String()
    days = ma.fields.Integer()
    outstanding_principal = ma.fields.String()
    eligible_principal = ma.fields.String()
    principal_capped = ma.fields.Boolean()
    interest_paid = ma.fields.String()
    discount = ma.fields.String()
    capped_by_interest_paid = ma.fields.Boolean()


class LoanParamsSchema(ma.Schema):
    rate_margin_pct = ma.fields.String()
    subsidy_points = ma.fields.String()
    principal_cap = ma.fields.String()
    day_basis = ma.fields.Integer()


class LoanDiscountResponse(ma.Schema):
    eligible = ma.fields.Boolean()
    reason = ma.fields.String(metadata={"description": "Why the loan is not eligible (only when it is not)"})
    rate_ceiling = ma.fields.String(metadata={"description": "Highest eligible rate in percent"})
    total_discount = ma.fields.String()
    periods = ma.fields.List(ma.fields.Nested(PeriodResponse))
    parameters = ma.fields.Nested(LoanParamsSchema)
    working = ma.fields.List(ma.fields.Nested(StepSchema))


# --- robot subsidy --------------------------------------------------------------------------------

class RobotLineRequest(_Strict):
    model = ma.fields.String(required=True, validate=text(120))
    manufacturer = ma.fields.String(load_default=None, allow_none=True, validate=text(200))
    domestic = ma.fields.Boolean(required=True)
    quantity = ma.fields.Integer(required=True, strict=True, validate=int_range(1, 10000))
    unit_price_excl_vat = DecimalString(places=2, minimum=Decimal(0), exclusive_minimum=True, maximum=MAX_AMOUNT,
                                        required=True)
    invoice_no = ma.fields.String(required=True, validate=text(64))
    invoice_date = ma.fields.Date(required=True, validate=_calculator_date)


class RobotSubsidyRequest(_WithProgramme):
    pilot_industry = ma.fields.Boolean(load_default=False)
    already_granted = _money(load_default=Decimal("0.00"),
                             metadata={"description": "Robot subsidies already granted to the enterprise in the "
                                                      "programme (counted against its cap)"})
    lines = ma.fields.List(ma.fields.Nested(RobotLineRequest), required=True, validate=count(1, 100))


class RobotLineResponse(ma.Schema):
    model = ma.fields.String()
    invoice_no = ma.fields.String()
    rate = ma.fields.String(metadata={"description": "Percent"})
    eligible_cost = ma.fields.String()
    subsidy = ma.fields.String(metadata={"description": "Before the enterprise cap"})
    granted = ma.fields.String(metadata={"description": "After the enterprise cap"})
    cap_reduction = ma.fields.String()


class RobotParamsSchema(ma.Schema):
    base_rate = ma.fields.String()
    domestic_rate = ma.fields.String()
    pilot_domestic_rate = ma.fields.String()
    enterprise_cap = ma.fields.String()


class RobotSubsidyResponse(ma.Schema):
    total_subsidy = ma.fields.String()
    uncapped_total = ma.fields.String()
    cap_applied = ma.fields.Boolean()
    cap_remaining_before = ma.fields.String()
    lines = ma.fields.List(ma.fields.Nested(RobotLineResponse))
    parameters = ma.fields.Nested(RobotParamsSchema)
    working = ma.fields.List(ma.fields.Nested(StepSchema))


# --- applications (loan discount, robot subsidy) -----------------------------------------------------
# The request fields are the web form's; ``subsidies.services`` applies every rule (LPR ceiling, periods
# within the term and not claimed twice, invoices claimed once system-wide, the enterprise cap, ...)
# with the form's messages, naming fields by their dotted path (``periods.0.end``, ``lines.1.invoice_no``).

class _Idempotent(_Strict):
    idempotency_key = ma.fields.String(load_default=None, allow_none=True, validate=Length(16, 64),
                                       metadata={"description": "A random key chosen by the client (16-64 "
                                                                "characters): the same key again returns the first "
                                                                "application instead of a second one"})


class LoanPeriodInputSchema(_Strict):
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    outstanding_principal = DecimalString(required=True)
    interest_paid = DecimalString(required=True)


class LoanApplicationInputSchema(_Strict):
    """A loan interest-discount claim. The benchmark is the LPR in force on the contract date (never sent)."""

    programme_id = object_id(required=True)
    bank_name = ma.fields.String(required=True, metadata={"maxLength": 200})
    contract_no = ma.fields.String(required=True, metadata={"maxLength": 64})
    contract_date = ma.fields.Date(required=True)
    principal = DecimalString(required=True)
    loan_rate = DecimalString(required=True, kind="rate",
                              metadata={"description": "Annual rate in percent, e.g. \"2.40\""})
    term_start = ma.fields.Date(required=True)
    term_end = ma.fields.Date(required=True)
    periods = ma.fields.List(ma.fields.Nested(LoanPeriodInputSchema), required=True,
                             metadata={"description": "The interest periods claimed (1 to 60)"})
    plan_file = ma.fields.Nested(FileUploadSchema, load_default=None, allow_none=True,
                                 metadata={"description": "The digital-transformation plan (required on creation)"})
    statement_file = ma.fields.Nested(FileUploadSchema, load_default=None, allow_none=True,
                                      metadata={"description": "The bank's interest statement (required on "
                                                               "creation)"})


class LoanApplicationCreateSchema(LoanApplicationInputSchema, _Idempotent):
    pass


class RobotLineInputSchema(_Strict):
    model = ma.fields.String(required=True, metadata={"maxLength": 120})
    manufacturer = ma.fields.String(required=True, metadata={"maxLength": 200})
    domestic = ma.fields.Boolean(required=True, metadata={"description": "A domestic brand"})
    quantity = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 1, "maximum": 10000})
    unit_price_excl_vat = DecimalString(required=True)
    invoice_no = ma.fields.String(required=True, metadata={"maxLength": 64})
    invoice_date = ma.fields.Date(required=True)
    invoice_file = ma.fields.Nested(FileUploadSchema, load_default=None, allow_none=True,
                                    metadata={"description": "The invoice (required unless this invoice number "
                                                             "was already attached to the application)"})


class RobotApplicationInputSchema(_Strict):
    """A robot purchase-subsidy claim (the pilot tier follows the enterprise's industry)."""

    programme_id = object_id(required=True)
    lines = ma.fields.List(ma.fields.Nested(RobotLineInputSchema), required=True,
                           metadata={"description": "Robot lines (1 to 100)"})


class RobotApplicationCreateSchema(RobotApplicationInputSchema, _Idempotent):
    pass


class SubsidyDecisionSchema(_Strict):
    reason = ma.fields.String(load_default=None, allow_none=True,
                              metadata={"description": "Required to reject and to return (what to revise)"})


class SubsidyListArgs(ma.Schema):
    status = ma.fields.String(validate=Choice(APPLICATION_STATES),
                              metadata={"description": "Bureau roles never see drafts"})
    q = ma.fields.String(validate=Length(1, 100),
                         metadata={"description": "Bureau roles: enterprise name or credit code"})


class EnterpriseRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class SubsidySummarySchema(ma.Schema):
    """A loan or robot application in a list."""

    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, allow_none=True,
                              metadata={"description": "The application number, e.g. TX-2026-000013 or JQ-2026-000013"})
    application_number = ma.fields.String(required=True, allow_none=True,
                                          metadata={"description": "The same number under the name every resource "
                                                                   "uses (trials, payments)"})
    status = ma.fields.String(required=True, validate=Choice(APPLICATION_STATES))
    status_label = ma.fields.String(required=True)
    enterprise = ma.fields.Nested(EnterpriseRefSchema, required=True)
    programme_name = ma.fields.String(required=True)
    amount = DecimalString(required=True, metadata={"description": "Approved amount, else the computed amount"})
    submitted_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class FileSchema(ma.Schema):
    """An evidence file's metadata (download it from ``.../files/{file_id}``)."""

    id = ma.fields.Integer(required=True)
    purpose = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size_bytes = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)


class SubsidyMaterialSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    required = ma.fields.Boolean(required=True)
    formats = ma.fields.List(ma.fields.String(), required=True)
    files = ma.fields.Integer(required=True, metadata={"description": "How many files are attached"})


class _SubsidyDetail(ma.Schema):
    rule_version = rule_version_field()
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, allow_none=True,
                              metadata={"description": "The application number, e.g. TX-2026-000013 or JQ-2026-000013"})
    application_number = ma.fields.String(required=True, allow_none=True,
                                          metadata={"description": "The same number under the name every resource "
                                                                   "uses (trials, payments)"})
    programme_id = ma.fields.Integer(required=True)
    programme_name = ma.fields.String(required=True)
    enterprise = ma.fields.Nested(EnterpriseRefSchema, required=True)
    status = ma.fields.String(required=True, validate=Choice(APPLICATION_STATES))
    status_label = ma.fields.String(required=True)
    next_step = ma.fields.String(required=True)
    approved_amount = DecimalString(required=True, allow_none=True)
    working = ma.fields.List(ma.fields.Nested(StepSchema), required=True,
                             metadata={"description": "The itemized working the amount came from"})
    parameters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True,
                                metadata={"description": "The programme parameters the calculation used"})
    files = ma.fields.List(ma.fields.Nested(FileSchema), required=True)
    materials = ma.fields.List(ma.fields.Nested(SubsidyMaterialSchema), required=True,
                               metadata={"description": "The checklist of materials (the programme guide's), with "
                                                        "the files attached to each"})
    decision_reason = ma.fields.String(required=True, allow_none=True)
    submitted_at = ma.fields.DateTime(required=True, allow_none=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    allowed_actions = ma.fields.List(ma.fields.String(), required=True)


class LoanPeriodSchema(ma.Schema):
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    days = ma.fields.Integer(required=True)
    outstanding_principal = DecimalString(required=True)
    interest_paid = DecimalString(required=True)
    eligible_principal = DecimalString(required=True)
    discount = DecimalString(required=True)
    capped_by_interest_paid = ma.fields.Boolean(required=True)


class LoanApplicationSchema(_SubsidyDetail):
    """A loan interest-discount application with its computed discount and working."""

    bank_name = ma.fields.String(required=True)
    contract_no = ma.fields.String(required=True)
    contract_date = ma.fields.Date(required=True)
    principal = DecimalString(required=True)
    loan_rate = DecimalString(required=True)
    term_start = ma.fields.Date(required=True)
    term_end = ma.fields.Date(required=True)
    benchmark_rate = DecimalString(required=True, metadata={"description": "The 1-year LPR on the contract date"})
    benchmark_effective_from = ma.fields.Date(required=True)
    rate_ceiling = ma.fields.String(required=True, metadata={"description": "Highest eligible rate in percent"})
    computed_discount = DecimalString(required=True)
    periods = ma.fields.List(ma.fields.Nested(LoanPeriodSchema), required=True)


class RobotLineSchema(ma.Schema):
    model = ma.fields.String(required=True)
    manufacturer = ma.fields.String(required=True)
    domestic = ma.fields.Boolean(required=True)
    quantity = ma.fields.Integer(required=True)
    unit_price_excl_vat = DecimalString(required=True)
    invoice_no = ma.fields.String(required=True)
    invoice_date = ma.fields.Date(required=True)
    invoice_file_id = ma.fields.Integer(required=True, allow_none=True)
    rate = DecimalString(required=True, metadata={"description": "Percent"})
    eligible_cost = DecimalString(required=True)
    subsidy = DecimalString(required=True, metadata={"description": "Before the enterprise cap"})
    granted = DecimalString(required=True, metadata={"description": "After the enterprise cap"})


class RobotApplicationSchema(_SubsidyDetail):
    """A robot purchase-subsidy application with its computed subsidy and working."""

    pilot_industry = ma.fields.Boolean(required=True)
    industry = ma.fields.String(required=True)
    already_granted = DecimalString(required=True)
    uncapped_total = DecimalString(required=True)
    computed_subsidy = DecimalString(required=True)
    cap_applied = ma.fields.Boolean(required=True)
    lines = ma.fields.List(ma.fields.Nested(RobotLineSchema), required=True)
