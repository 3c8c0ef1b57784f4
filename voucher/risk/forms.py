"""Dismissing a risk signal: the reason, and a confirmation that the rows behind it were checked."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from voucher.forms import VoucherForm
from voucher.risk.services import REASON_MAX


class DismissForm(VoucherForm):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(_l("A reason is required.")),
                                                     Length(max=REASON_MAX,
                                                            message=_l("At most %(max)d characters."))])
    confirm = BooleanField(_l("I have checked the rows behind this signal"),
                           validators=[DataRequired(_l("Confirm that you checked the rows behind this signal."))])
