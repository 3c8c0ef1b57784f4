"""Forms of the calculators, the applications, the reviews and the LPR table.

Row lists (interest periods, robot lines) are ``FieldList``s of ``FormField``s with a few blank
rows: a row left entirely blank is ignored, a row with anything in it must be complete.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, Form, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import FieldList, FormField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from voucher.forms import IntField, MoneyField, PercentField, VoucherForm
from voucher.subsidies.common import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE, date_out_of_range

MAX_AMOUNT = "999999999999.99"


def _int_or_none(value):
    from voucher.pagination import bounded_int

    return bounded_int(value)


class DayField(StringField):
    """A date typed as YYYY-MM-DD (``<input type=date>``); blank is None, anything else a clear message."""

    widget_type = "date"

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {})
        kwargs["render_kw"].setdefault("type", "date")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        text = (self.raw or "").strip()
        self.data = None
        if not text:
            return
        try:
            self.data = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            raise ValueError(str(_l("Enter a date as YYYY-MM-DD."))) from None
        if not (date(1990, 1, 1) <= self.data <= date(2100, 12, 31)):
            self.data = None
            raise ValueError(str(_l("Enter a date between 1990 and 2100.")))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else ""


class RowForm(Form):
    """A row of a FieldList; ``REQUIRED`` names the fields a non-blank row must have."""

    REQUIRED: tuple[tuple[str, object], ...] = ()
    IGNORED_FOR_BLANK: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        for field in self:
            if field.name.rsplit("-", 1)[-1] in self.IGNORED_FOR_BLANK or field.type in ("BooleanField", "FileField"):
                continue
            raw = field.raw_data[0] if field.raw_data else ""
            if isinstance(raw, str) and raw.strip():
                return False
        return True


def check_rows(field_list, at_least_one_message) -> bool:
    """Ignore blank rows (and their errors); require the REQUIRED fields of the others."""
    ok = True
    filled = 0
    for entry in field_list.entries:
        row = entry.form
        if row.is_blank():
            for f in row:
                f.errors = []
            continue
        filled += 1
        for name, message in row.REQUIRED:
            f = getattr(row, name)
            if f.data is None or (isinstance(f.data, str) and not f.data.strip()):
                if not f.errors:
                    f.errors = [str(message)]
        if any(f.errors for f in row):
            ok = False
    if filled == 0:
        field_list.errors = [str(at_least_one_message)]
        return False
    field_list.errors = []
    return ok


def filled_rows(field_list) -> list:
    return [entry.form for entry in field_list.entries if not entry.form.is_blank()]


def _top_level_ok(form, skip: str) -> bool:
    return not any(f.errors for f in form if f.name != skip and f.type not in ("FieldList",))


def calculator_day(form, field) -> None:
    """A calculator's date within EARLIEST_DATE..LATEST_DATE (the API's calculators check the same)."""
    if date_out_of_range(field.data):
        raise ValidationError(gettext(DATE_RANGE_MESSAGE, earliest=EARLIEST_DATE.isoformat(),
                                      latest=LATEST_DATE.isoformat()))


class PeriodRow(RowForm):
    start = DayField(_l("Period start"), validators=[calculator_day])
    end = DayField(_l("Period end"), validators=[calculator_day])
    outstanding_principal = MoneyField(_l("Outstanding principal (yuan)"), max_value=MAX_AMOUNT)
    interest_paid = MoneyField(_l("Interest paid (yuan)"), max_value=MAX_AMOUNT)
    REQUIRED = (("start", _l("Enter the first day of the period.")),
                ("end", _l("Enter the end day of the period.")),
                ("outstanding_principal", _l("Enter the outstanding principal.")),
                ("interest_paid", _l("Enter the interest actually paid.")))


class _RowsMixin:
    ROWS: tuple[str, ...] = ()
    AT_LEAST_ONE = _l("Enter at least one row.")

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        ok = True
        for name in self.ROWS:
            ok = check_rows(getattr(self, name), self.AT_LEAST_ONE) and ok
        others = [f for f in self if f.name not in self.ROWS]
        return ok and not any(f.errors for f in others)


class LoanCalculatorForm(_RowsMixin, VoucherForm):
    """The public loan calculator (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    ROWS = ("periods",)
    AT_LEAST_ONE = _l("Enter at least one interest period.")

    programme_id = SelectField(_l("Programme parameters"), coerce=_int_or_none, validators=[Optional()])
    contract_date = DayField(_l("Loan contract date"),
                             description=_l("The benchmark is the 1-year LPR in force on this date."))
    benchmark_rate = PercentField(_l("Benchmark: 1-year LPR (percent)"), min_value="0.01",
                                  description=_l("Filled in from the bureau's LPR table for the contract date; you may change it."))
    loan_rate = PercentField(_l("Loan annual rate (percent)"), min_value="0.01",
                             validators=[InputRequired(message=_l("Enter the loan's annual rate."))])
    periods = FieldList(FormField(PeriodRow), min_entries=3, max_entries=60)


class RobotRow(RowForm):
    model = StringField(_l("Model"), validators=[Length(max=120)])
    manufacturer = StringField(_l("Manufacturer"), validators=[Length(max=200)])
    domestic = BooleanField(_l("Domestic brand"))
    quantity = IntField(_l("Quantity"), min_value=1, max_value=10000)
    unit_price_excl_vat = MoneyField(_l("Unit price excl. VAT (yuan)"), max_value=MAX_AMOUNT, allow_zero=False)
    invoice_no = StringField(_l("Invoice number"), validators=[Length(max=64)])
    invoice_date = DayField(_l("Invoice date"), validators=[calculator_day])
    REQUIRED = (("model", _l("Enter the robot model.")),
                ("quantity", _l("Enter the number of robots.")),
                ("unit_price_excl_vat", _l("Enter the unit price excluding VAT.")))


class RobotCalculatorForm(_RowsMixin, VoucherForm):
    class Meta:
        csrf = False

    ROWS = ("lines",)
    AT_LEAST_ONE = _l("Enter at least one robot line.")

    programme_id = SelectField(_l("Programme parameters"), coerce=_int_or_none, validators=[Optional()])
    pilot_industry = BooleanField(_l("The enterprise is in one of the programme's pilot industries"))
    already_granted = MoneyField(_l("Robot subsidies already granted to the enterprise in this programme (yuan)"),
                                 max_value=MAX_AMOUNT)
    lines = FieldList(FormField(RobotRow), min_entries=3, max_entries=100)


class LoanApplicationForm(_RowsMixin, VoucherForm):
    ROWS = ("periods",)
    AT_LEAST_ONE = _l("Enter at least one interest period.")

    client_token = HiddenField(default=lambda: secrets.token_urlsafe(24))
    programme_id = SelectField(_l("Programme"), coerce=_int_or_none,
                               validators=[DataRequired(message=_l("Choose the programme."))])
    bank_name = StringField(_l("Lending bank"), validators=[DataRequired(message=_l("Enter the lending bank.")),
                                                           Length(max=200)])
    contract_no = StringField(_l("Loan contract number"),
                              validators=[DataRequired(message=_l("Enter the loan contract number.")), Length(max=64)])
    contract_date = DayField(_l("Loan contract date"), validators=[InputRequired(message=_l("Enter the loan contract date."))],
                             description=_l("The benchmark is the 1-year LPR in force on this date, from the bureau's table."))
    principal = MoneyField(_l("Loan principal (yuan)"), max_value=MAX_AMOUNT, allow_zero=False,
                           validators=[InputRequired(message=_l("Enter the loan principal."))])
    loan_rate = PercentField(_l("Loan annual rate (percent)"), min_value="0.01",
                             validators=[InputRequired(message=_l("Enter the loan's annual rate."))])
    term_start = DayField(_l("Loan term: first day"), validators=[InputRequired(message=_l("Enter the first day of the loan term."))])
    term_end = DayField(_l("Loan term: last day"), validators=[InputRequired(message=_l("Enter the last day of the loan term."))])
    periods = FieldList(FormField(PeriodRow), min_entries=3, max_entries=60)
    plan_file = FileField(_l("Digital-transformation plan (PDF, OFD, Word, JPEG or PNG)"))
    statement_file = FileField(_l("The bank's interest statement (PDF, OFD, JPEG, PNG or Excel)"))


class RobotApplicationRow(RobotRow):
    invoice_file = FileField(_l("Invoice (PDF, OFD, JPEG or PNG; an electronic invoice is accepted)"))
    REQUIRED = RobotRow.REQUIRED + (("manufacturer", _l("Enter the manufacturer.")),
                                    ("invoice_no", _l("Enter the invoice number.")),
                                    ("invoice_date", _l("Enter the invoice date.")))


class RobotApplicationForm(_RowsMixin, VoucherForm):
    ROWS = ("lines",)
    AT_LEAST_ONE = _l("Enter at least one robot line.")

    client_token = HiddenField(default=lambda: secrets.token_urlsafe(24))
    programme_id = SelectField(_l("Programme"), coerce=_int_or_none,
                               validators=[DataRequired(message=_l("Choose the programme."))])
    lines = FieldList(FormField(RobotApplicationRow), min_entries=3, max_entries=100)


class DecisionForm(VoucherForm):
    """Reject (reason) or return (comment): the text is required by the state machine too."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), Length(max=2000)])


class LprRateForm(VoucherForm):
    effective_from = DayField(_l("In force from"), validators=[InputRequired(message=_l("Enter the date from which the rate applies."))])
    rate_pct = PercentField(_l("1-year LPR (percent)"), min_value="0.01",
                            validators=[InputRequired(message=_l("Enter the rate."))])
