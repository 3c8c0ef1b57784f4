"""API schemas of the calculators (requests validated, responses documented).

Money and rates are decimal strings (rates in percent: "2.40" is 2.40%), dates ISO 8601.
"""
from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from flask_babel import gettext as _

from voucher.api.fields import DecimalString, count, int_range, text
from voucher.api.schemas import StepSchema

MAX_AMOUNT = Decimal("999999999999.99")


def _money(**kwargs) -> DecimalString:
    return DecimalString(places=2, minimum=Decimal(0), maximum=MAX_AMOUNT, **kwargs)


def _rate(**kwargs) -> DecimalString:
    return DecimalString(places=2, minimum=Decimal(0), exclusive_minimum=True, maximum=Decimal(100), **kwargs)


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class _WithProgramme(_Strict):
    programme_id = ma.fields.Integer(strict=True, load_default=None, allow_none=True,
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

class PeriodRequest(_Strict):
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
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
    invoice_date = ma.fields.Date(required=True)


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
