from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from voucher.forms import VoucherForm


class PrepareForm(VoucherForm):
    """Confirms the preparation of one payable item (the item is in hidden fields)."""

    source_type = HiddenField(validators=[DataRequired(), Length(max=40)])
    source_id = HiddenField(validators=[DataRequired(), Length(max=18)])
    milestone = HiddenField(validators=[DataRequired(), Length(max=20)])
    # After a return (退汇): pay again to the same name, account and bank code as the returned payment.
    confirm_same_account = BooleanField(_l("Pay to the same account as the returned payment (I have checked it "
                                           "with the payee)"))


class OffsetPaidForm(VoucherForm):
    """Records paid a disbursement offset in full against recovery orders (抵扣): the CSRF token only."""


class ReturnForm(VoucherForm):
    """Records that the bank returned a paid line (退汇)."""

    reason = TextAreaField(_l("The bank's reason for the return"), validators=[DataRequired(), Length(max=2000)])
    bank_reference = StringField(_l("The bank's reference for the return (optional)"),
                                 validators=[Optional(), Length(max=100)])


class DecisionForm(VoucherForm):
    """The second finance officer's approval or rejection, confirmed with their password."""

    decision = RadioField(_l("Decision"), choices=[("approve", _l("Approve the payment")),
                                                   ("reject", _l("Reject it (the item goes back to the queue)"))],
                          default="approve", validators=[DataRequired()])
    reason = TextAreaField(_l("Reason (required to reject)"), validators=[Optional(), Length(max=2000)])
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=128)],
                             description=_l("Re-enter your own login password to confirm this decision."))


class BankDetailsForm(VoucherForm):
    payee_name = StringField(_l("Payee name (as the bank holds it)"), validators=[DataRequired(), Length(max=200)])
    bank_name = StringField(_l("Bank"), validators=[DataRequired(), Length(max=200)])
    bank_account = StringField(_l("Account number"), validators=[DataRequired(), Length(max=64)])
    bank_code = StringField(_l("Bank code (CNAPS)"), validators=[Optional(), Length(max=40)],
                            description=_l("12 digits; the bank file refuses a line without it."))


class BatchForm(VoucherForm):
    programme_id = HiddenField(validators=[DataRequired(), Length(max=18)])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class ResultForm(VoucherForm):
    outcome = RadioField(_l("Bank's result"), choices=[("paid", _l("Paid")), ("failed", _l("Failed"))],
                         validators=[DataRequired()])
    bank_reference = StringField(_l("Bank reference (when paid)"), validators=[Optional(), Length(max=100)])
    reason = StringField(_l("Bank's reason (when failed)"), validators=[Optional(), Length(max=2000)])


class ReasonForm(VoucherForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class PublishForm(VoucherForm):
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[DataRequired()])


class ObjectionForm(VoucherForm):
    item_id = SelectField(_l("Which grant do you object to?"), validators=[Optional()])
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    contact = StringField(_l("Telephone or e-mail"), validators=[DataRequired(), Length(max=200)],
                          description=_l("Only the bureau sees it, to reply to you."))
    text = TextAreaField(_l("Your objection and the facts behind it"),
                         validators=[DataRequired(), Length(min=10, max=4000)])


class ResolveForm(VoucherForm):
    decision = RadioField(_l("Decision"), choices=[("dismiss", _l("Dismiss: the grant may be paid")),
                                                   ("uphold", _l("Uphold: the grant is not paid"))],
                          validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    cancel_grant = BooleanField(
        _l("Also cancel the grant and return its reservation to the fund"),
        description=_l("Only when upholding. Possible for a trial voucher whose trial has not started, and for a loan "
                       "interest discount or robot purchase subsidy of which nothing has been paid or is being paid. "
                       "The enterprise is notified; a cancelled grant is never paid."))
