from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from voucher.forms import VoucherForm


class LookupForm(VoucherForm):
    number = StringField(_l("Application number"), validators=[DataRequired(), Length(max=40)],
                         description=_l("As printed on your receipt and on the application page, e.g. SY-2026-000013."))
    uscc = StringField(_l("Unified social credit code of the enterprise"),
                       validators=[DataRequired(), Length(max=40)])
