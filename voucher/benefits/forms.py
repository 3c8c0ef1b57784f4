"""Forms: an officer's import (what the file holds, the file), an enterprise's answer to a candidate
(decline with a reason; confirm with the declaration, the account and the files the application needs)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from voucher.benefits.services import REASON_MAX
from voucher.forms import VoucherForm

SOURCE_LABELS = {
    "loan_statement": _l("Banks' loan interest statements"),
    "robot_invoice": _l("Robot purchase invoices (tax bureau)"),
    "blacklist": _l("Credit blacklist"),
}


class ImportForm(VoucherForm):
    kind = SelectField(_l("What the file holds"), choices=list(SOURCE_LABELS.items()),
                       validators=[InputRequired(_l("Choose what the file holds."))])
    file = FileField(_l("File (CSV or Excel .xlsx)"))


class DeclineForm(VoucherForm):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(_l("A reason is required.")),
                                                     Length(max=REASON_MAX, message=_l("At most %(max)d characters."))])


class ConfirmForm(VoucherForm):
    declaration = BooleanField(_l("I declare that the data shown is true and that the enterprise has not received "
                                  "another subsidy for the same purchase or loan days."))
    account = BooleanField(_l("Pay the subsidy to the enterprise's registered account shown above."))
