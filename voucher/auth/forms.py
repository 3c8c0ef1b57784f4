from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from voucher.forms import VoucherForm
from voucher.reference import ROLES

# WTForms' own Chinese message says "无效的 Email 地址": an English word in the Chinese interface.
EMAIL_MESSAGE = _l("Enter a valid e-mail address, e.g. name@example.com.")

class LoginForm(VoucherForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class PasswordChangeForm(VoucherForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))])


class RegisterForm(VoucherForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(message=EMAIL_MESSAGE, check_deliverability=False), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)],
                             description=_l("At least 8 characters; common passwords are refused."))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class UserCreateForm(VoucherForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(message=EMAIL_MESSAGE, check_deliverability=False), Length(max=254)])
    role = SelectField(_l("Role"), choices=[(k, v) for k, v in ROLES.items()])
    organisation_id = SelectField(_l("Organisation"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                                  validators=[Optional()])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=128)],
                             description=_l("At least 8 characters; common passwords are refused."))


class UserEditForm(VoucherForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[(k, v) for k, v in ROLES.items()])
    organisation_id = SelectField(_l("Organisation"), coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                                  validators=[Optional()])


class PasswordResetForm(VoucherForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])


class ConfirmForm(VoucherForm):
    """An empty form: only the CSRF token, for POST-only buttons."""
    confirm = BooleanField(default=True)
