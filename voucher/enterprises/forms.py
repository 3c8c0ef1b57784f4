from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from voucher.enterprises.services import MAX_EMPLOYEES, MAX_REVENUE, EnterpriseInput, ProviderProfileInput
from voucher.forms import IntField, MoneyField, VoucherForm
from voucher.reference import DISTRICTS, INDUSTRIES


def _choices(mapping, prompt):
    return [("", prompt)] + [(code, lbl) for code, lbl in mapping.items()]


class _ContactBankMixin:
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=100)])
    contact_phone = StringField(_l("Contact phone"), validators=[DataRequired(), Length(max=40)],
                                description=_l("Digits; spaces, hyphens and brackets are allowed."))
    bank_name = StringField(_l("Bank"), validators=[DataRequired(), Length(max=200)],
                            description=_l("The bank and branch where the account is held."))
    bank_account = StringField(_l("Bank account number"), validators=[DataRequired(), Length(max=64)],
                               description=_l("Payments from the programme are made to this account."))
    bank_code = StringField(_l("Bank code (CNAPS)"), validators=[Optional(), Length(max=40)],
                            description=_l("The 12-digit bank code (CNAPS) of the branch; the bank file needs it."))


class EnterpriseForm(_ContactBankMixin, VoucherForm):
    name = StringField(_l("Registered name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 18-character code on the business licence."))
    district = SelectField(_l("District"), choices=_choices(DISTRICTS, _l("— choose —")),
                           validators=[DataRequired()])
    industry = SelectField(_l("Industry"), choices=_choices(INDUSTRIES, _l("— choose —")),
                           validators=[DataRequired()])
    employees = IntField(_l("Employees"), validators=[InputRequired()], min_value=0, max_value=MAX_EMPLOYEES,
                         description=_l("Staff at the end of last year."))
    annual_revenue = MoneyField(_l("Annual revenue (yuan)"), validators=[InputRequired()], max_value=MAX_REVENUE,
                                description=_l("Operating revenue of last year, in yuan."))
    industrial_park = StringField(_l("Small and micro industrial park (optional)"),
                                  validators=[Optional(), Length(max=200)])

    def to_input(self) -> EnterpriseInput:
        return EnterpriseInput(
            name=self.name.data or "", uscc=self.uscc.data or "", district=self.district.data or "",
            industry=self.industry.data or "", employees=self.employees.data,
            annual_revenue=self.annual_revenue.data, industrial_park=self.industrial_park.data,
            contact_name=self.contact_name.data or "", contact_phone=self.contact_phone.data or "",
            bank_name=self.bank_name.data or "", bank_account=self.bank_account.data or "",
            bank_code=self.bank_code.data or None)


class ProviderProfileForm(_ContactBankMixin, VoucherForm):
    name = StringField(_l("Registered name"), validators=[DataRequired(), Length(max=200)])
    uscc = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 18-character code on the business licence."))
    description = TextAreaField(_l("What you offer"), validators=[Optional(), Length(max=4000)],
                                description=_l("Shown to enterprises next to your solutions."))

    def to_input(self) -> ProviderProfileInput:
        return ProviderProfileInput(
            name=self.name.data or "", uscc=self.uscc.data or "", description=self.description.data,
            contact_name=self.contact_name.data or "", contact_phone=self.contact_phone.data or "",
            bank_name=self.bank_name.data or "", bank_account=self.bank_account.data or "",
            bank_code=self.bank_code.data or None)
