from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from voucher.forms import VoucherForm


class PreferencesForm(VoucherForm):
    in_app = BooleanField(_l("In the application (the bell in the header)"))
    email = BooleanField(_l("By e-mail (a copy to my account's address)"))
    sms = BooleanField(_l("By SMS (a text message to my mobile)"))
    phone = StringField(_l("Mobile number for SMS"), validators=[Optional(), Length(max=30)],
                        description=_l("11-digit mainland mobile number, e.g. 13800138000."))
