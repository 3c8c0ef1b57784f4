"""Forms: the enterprise names its park; the operator decides a request; the officer registers a park."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from voucher.forms import VoucherForm
from voucher.parks.services import NAME_MAX, REASON_MAX


class NameParkForm(VoucherForm):
    park_id = SelectField(_l("Park"), coerce=int, validate_choice=False,
                          validators=[InputRequired(_l("Choose a park from the list."))])


class LeaveParkForm(VoucherForm):
    confirm = BooleanField(_l("Leave the park (the operator no longer sees your enterprise)"),
                           validators=[DataRequired(_l("Confirm that you leave the park."))])


class DecideForm(VoucherForm):
    decision = HiddenField(validators=[InputRequired()])
    reason = TextAreaField(_l("Reason (required to decline)"),
                           validators=[Optional(), Length(max=REASON_MAX, message=_l("At most %(max)d characters."))])


class ParkForm(VoucherForm):
    name = StringField(_l("Park name"), validators=[InputRequired(_l("Name is required.")),
                                                    Length(max=NAME_MAX, message=_l("At most %(max)d characters."))])
    district = SelectField(_l("District"), validate_choice=False)
    operator_id = SelectField(_l("Operator"), coerce=int, validate_choice=False, validators=[Optional()])
    operator_name = StringField(_l("Or a new operator organisation"),
                                validators=[Optional(), Length(max=NAME_MAX, message=_l("At most %(max)d characters."))])
