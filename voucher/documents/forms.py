from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from voucher.forms import VoucherForm


class VerifyForm(VoucherForm):
    """The public check form (a GET search: no session, no CSRF token needed)."""

    class Meta:
        csrf = False

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("The 10 characters printed on the document, e.g. 7KQ3M-X9TPA (hyphen optional)."))


class RequestDocumentForm(VoucherForm):
    """A button other pages embed (documents/_request_button.html) to ask for a document."""

    kind = HiddenField(validators=[DataRequired(), Length(max=40)])
    subject_type = HiddenField(validators=[DataRequired(), Length(max=40)])
    subject_id = HiddenField(validators=[DataRequired(), Length(max=18)])
    lang = HiddenField(default="zh")


class RevokeForm(VoucherForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[DataRequired(), Length(max=1000)])
