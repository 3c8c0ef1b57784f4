"""Forms of the recovery pages; the services re-check every rule."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from voucher.forms import MoneyField, VoucherForm
from voucher.recovery.services import (
    BANK_REFERENCE_MAX,
    DEADLINE_MAX,
    DEADLINE_MIN,
    DEFAULT_DEADLINE_WORKING_DAYS,
    REASON_MAX,
)


class BreachForm(VoucherForm):
    obligation = SelectField(_l("Obligation breached"), validators=[DataRequired(
        message=_l("Choose one of the grant's obligations."))])
    breach_on = DateField(_l("Day of the breach"), validators=[InputRequired(message=_l("Give the day of the breach."))])
    reason = TextAreaField(_l("What was breached"), validators=[DataRequired(message=_l("Say what the breach is.")),
                                                                Length(max=REASON_MAX)], render_kw={"rows": 3})
    evidence = FileField(_l("Evidence (PDF, JPEG or PNG)"))
    method = RadioField(_l("Amount to recover"), choices=[("whole", _l("Whole amount")),
                                                          ("pro_rata", _l("Pro rata to the remaining obligation time"))],
                        default="pro_rata", validators=[InputRequired(message=_l("Choose whole or pro rata."))])
    deadline_working_days = IntegerField(_l("Deadline (working days)"), default=DEFAULT_DEADLINE_WORKING_DAYS,
                                         validators=[InputRequired(), NumberRange(min=DEADLINE_MIN, max=DEADLINE_MAX)])
    confirm = BooleanField(_l("I have checked the breach and the amount; issue the recovery order"),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])


class RepaymentForm(VoucherForm):
    amount = MoneyField(_l("Amount credited (yuan)"), min_value="0.01", allow_zero=False,
                        validators=[InputRequired(message=_l("Give the amount credited."))])
    paid_on = DateField(_l("Day of the credit"), validators=[InputRequired(
        message=_l("Give the day of the credit on the bank statement."))])
    bank_reference = StringField(_l("Bank reference"), validators=[
        DataRequired(message=_l("Give the bank's reference of the credit.")), Length(max=BANK_REFERENCE_MAX)])
    confirm = BooleanField(_l("The bank statement shows this credit"),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])


class CancelForm(VoucherForm):
    reason = TextAreaField(_l("Why is the order cancelled?"), validators=[
        DataRequired(message=_l("Say why the order is cancelled.")), Length(max=REASON_MAX)], render_kw={"rows": 2})
