"""Forms of the amendment pages: strict number input (``MoneyField``: at most two decimals, the limit
in the message); the services re-check every rule."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from voucher.amendments.services import REASON_MAX
from voucher.forms import MoneyField, VoucherForm


class TrialAmendmentForm(VoucherForm):
    requested_amount = MoneyField(_l("New voucher amount (yuan)"), validators=[Optional()], min_value="0.01",
                                  allow_zero=False, description=_l("Leave empty to keep the approved amount."))
    trial_start_date = DateField(_l("New trial start date"), validators=[Optional()],
                                 description=_l("Only before the kick-off is confirmed. Leave empty to keep it."))
    reason = TextAreaField(_l("Why should the grant change?"),
                           validators=[DataRequired(message=_l("Say why the grant should change.")),
                                       Length(max=REASON_MAX)], render_kw={"rows": 3})


class LoanAmendmentForm(VoucherForm):
    period = IntegerField(_l("Interest period to correct (its number in the table)"),
                          validators=[InputRequired(message=_l("Choose the interest period to correct.")),
                                      NumberRange(min=1, max=24)])
    period_start = DateField(_l("Corrected first day of the period"), validators=[Optional()])
    period_end = DateField(_l("Corrected end day of the period"), validators=[Optional()])
    interest_paid = MoneyField(_l("Corrected interest paid (yuan)"), validators=[Optional()],
                               description=_l("Leave a field empty to keep its approved value."))
    reason = TextAreaField(_l("Why should the grant change?"),
                           validators=[DataRequired(message=_l("Say why the grant should change.")),
                                       Length(max=REASON_MAX)], render_kw={"rows": 3})


class RobotAmendmentForm(VoucherForm):
    line = IntegerField(_l("Robot line whose invoice was replaced (its number in the table)"),
                        validators=[InputRequired(message=_l("Choose the robot line.")), NumberRange(min=1, max=50)])
    invoice_no = StringField(_l("New invoice number"), validators=[Optional(), Length(max=64)])
    invoice_date = DateField(_l("New invoice date"), validators=[Optional()])
    unit_price_excl_vat = MoneyField(_l("New unit price excluding VAT (yuan)"), validators=[Optional()],
                                     min_value="0.01", allow_zero=False,
                                     description=_l("Leave a field empty to keep its approved value."))
    invoice_file = FileField(_l("The replaced invoice (file)"),
                             description=_l("Required when the invoice number changes."))
    reason = TextAreaField(_l("Why should the grant change?"),
                           validators=[DataRequired(message=_l("Say why the grant should change.")),
                                       Length(max=REASON_MAX)], render_kw={"rows": 3})


class ApproveAmendmentForm(VoucherForm):
    confirm = BooleanField(_l("I have compared the values before and after and approve the change"),
                           validators=[DataRequired(message=_l("Tick the box to confirm the approval."))])
    comment = TextAreaField(_l("Note for the file (optional)"), validators=[Optional(), Length(max=REASON_MAX)],
                            render_kw={"rows": 2})


class RefuseAmendmentForm(VoucherForm):
    reason = TextAreaField(_l("Reason for refusing (shown to the enterprise)"),
                           validators=[DataRequired(message=_l("Say why the change is refused.")),
                                       Length(max=REASON_MAX)], render_kw={"rows": 3})


class WithdrawAmendmentForm(VoucherForm):
    pass
