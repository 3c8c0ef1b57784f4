"""Forms of the application pages.  The services re-check every rule; these give early,
field-level messages (all at once) and strict number input."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from voucher.applications.models import BASELINE_MAX, INDICATOR_CODES, indicator_max
from voucher.applications.services import DATE_BEFORE_SUBMISSION, NEED_MAX, REASON_MAX, Content
from voucher.forms import MoneyField, PercentField, VoucherForm

BASELINE_LABELS = {
    "production_efficiency": _l("Production efficiency (units per hour; higher is better)"),
    "labour_per_unit": _l("Labour per unit of output (person-hours per unit; lower is better)"),
    "defect_rate": _l("Defect rate (%; lower is better)"),
    "order_lead_time": _l("Order lead time (days; lower is better)"),
    "energy_per_unit": _l("Energy per unit of output (kWh per unit; lower is better)"),
}
assert set(BASELINE_LABELS) == set(INDICATOR_CODES)


def _int_or_none(value):
    from voucher.pagination import bounded_int

    return bounded_int(value)


class ApplicationContentForm(VoucherForm):
    """What the SME writes: amount, need, declared dates, baseline figures."""

    requested_amount = MoneyField(_l("Requested voucher amount (yuan)"), validators=[InputRequired()],
                                  allow_zero=False,
                                  description=_l("At most the solution's trial price and your enterprise's "
                                                 "remaining quota in the programme."))
    need_statement = TextAreaField(_l("What does your enterprise need the solution for?"),
                                   validators=[DataRequired(), Length(max=NEED_MAX)],
                                   description=_l("The problem to solve and the result you expect from the trial."),
                                   render_kw={"rows": 5})
    contract_date = DateField(_l("Contract date with the provider (declared)"), validators=[InputRequired()],
                              description=_l("Not before the submission date: trials contracted before applying "
                                             "are not eligible."))
    trial_start_date = DateField(_l("Trial start date (declared)"), validators=[InputRequired()],
                                 description=_l("Not before the submission date."))
    baseline_production_efficiency = PercentField(BASELINE_LABELS["production_efficiency"], validators=[Optional()],
                                                  max_value=BASELINE_MAX)
    baseline_labour_per_unit = PercentField(BASELINE_LABELS["labour_per_unit"], validators=[Optional()],
                                            max_value=BASELINE_MAX)
    baseline_defect_rate = PercentField(BASELINE_LABELS["defect_rate"], validators=[Optional()],
                                        max_value=indicator_max("defect_rate"))
    baseline_order_lead_time = PercentField(BASELINE_LABELS["order_lead_time"], validators=[Optional()],
                                            max_value=BASELINE_MAX)
    baseline_energy_per_unit = PercentField(BASELINE_LABELS["energy_per_unit"], validators=[Optional()],
                                            max_value=BASELINE_MAX)

    # Set by the view: the date the application would be submitted (today, local time).
    submission_day: date | None = None

    def validate_contract_date(self, field):
        if field.data and self.submission_day and field.data < self.submission_day:
            template = DATE_BEFORE_SUBMISSION["contract_date"]
            raise ValidationError(gettext(template, contract=field.data.isoformat(),
                                          day=self.submission_day.isoformat()))

    def validate_trial_start_date(self, field):
        if field.data and self.submission_day and field.data < self.submission_day:
            template = DATE_BEFORE_SUBMISSION["trial_start_date"]
            raise ValidationError(gettext(template, start=field.data.isoformat(),
                                          day=self.submission_day.isoformat()))

    def baseline_fields(self):
        return [getattr(self, f"baseline_{code}") for code in INDICATOR_CODES]

    def content(self) -> Content:
        return Content(requested_amount=self.requested_amount.data, need_statement=self.need_statement.data or "",
                       contract_date=self.contract_date.data, trial_start_date=self.trial_start_date.data,
                       baselines={code: getattr(self, f"baseline_{code}").data for code in INDICATOR_CODES})


class NewApplicationForm(ApplicationContentForm):
    token = HiddenField()
    solution_id = HiddenField(filters=[_int_or_none])
    programme_id = SelectField(_l("Programme"), coerce=_int_or_none, validators=[InputRequired()])


class ApproveForm(VoucherForm):
    comment = TextAreaField(_l("Note for the file (optional)"), validators=[Optional(), Length(max=REASON_MAX)],
                            render_kw={"rows": 2})


class RejectForm(VoucherForm):
    reason = TextAreaField(_l("Reason for not approving (shown to the enterprise)"),
                           validators=[DataRequired(message=_l("A reason is required.")), Length(max=REASON_MAX)],
                           render_kw={"rows": 3})


class ReturnForm(VoucherForm):
    reason = TextAreaField(_l("What the enterprise should revise (shown to the enterprise)"),
                           validators=[DataRequired(message=_l("A comment is required.")), Length(max=REASON_MAX)],
                           render_kw={"rows": 3})


class CancelForm(VoucherForm):
    reason = TextAreaField(_l("Reason for cancelling the approval (shown to the enterprise)"),
                           validators=[DataRequired(message=_l("A reason is required.")), Length(max=REASON_MAX)],
                           render_kw={"rows": 3})


class WithdrawForm(VoucherForm):
    reason = TextAreaField(_l("Why are you withdrawing? (optional)"), validators=[Optional(), Length(max=REASON_MAX)],
                           render_kw={"rows": 2})


class UploadForm(VoucherForm):
    """The materials upload (its files are read per material, ``material_<code>``, several each)."""


class RemoveFileForm(VoucherForm):
    """Taking one file off before (re)submission (CSRF only)."""
