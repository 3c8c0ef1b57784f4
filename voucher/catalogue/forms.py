from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from voucher.catalogue.labels import DECISIONS
from voucher.catalogue.services import DESCRIPTION_MAX, MAX_PRICE, MAX_TRIAL_DAYS, REASONS_MAX, TITLE_MAX
from voucher.forms import IntField, MoneyField, VoucherForm
from voucher.money import format_money
from voucher.reference import INDUSTRIES, SOLUTION_CATEGORIES

_TOO_LONG = _l("At most %(max)d characters.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SolutionForm(VoucherForm):
    title = StringField(_l("Title"), filters=[_strip],
                        validators=[DataRequired(message=_l("Enter a title.")), Length(max=TITLE_MAX, message=_TOO_LONG)])
    category = SelectField(_l("Category"), validate_choice=False,
                           validators=[InputRequired(message=_l("Choose a category from the list."))])
    target_industries = SelectMultipleField(_l("Target industries"), validate_choice=False,
                                            choices=list(INDUSTRIES.items()),
                                            description=_l("Choose every industry the solution is meant for."))
    description = TextAreaField(_l("Description"), filters=[_strip],
                                validators=[DataRequired(message=_l("Describe the solution.")),
                                            Length(max=DESCRIPTION_MAX, message=_TOO_LONG)],
                                description=_l("What it does, what it needs on site, and the results to expect."))
    list_price = MoneyField(_l("List price (yuan)"), max_value=MAX_PRICE,
                            validators=[InputRequired(message=_l("Enter the list price."))],
                            description=_l("The normal price of the solution."))
    trial_price = MoneyField(_l("Trial price (yuan)"), max_value=MAX_PRICE, allow_zero=False,
                             validators=[InputRequired(message=_l("Enter the trial price."))],
                             description=_l("The price of the trial, paid by the voucher; more than zero and at "
                                            "most the list price."))
    trial_period_days = IntField(_l("Trial period (days)"), min_value=1, max_value=MAX_TRIAL_DAYS,
                                 validators=[InputRequired(message=_l("Enter the trial period in days."))],
                                 description=_l("At least 1 day."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("— choose —"))] + list(SOLUTION_CATEGORIES.items())

    def validate_category(self, field):
        if field.data and field.data not in SOLUTION_CATEGORIES:
            raise ValidationError(_l("Choose a category from the list."))

    def validate_target_industries(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one target industry."))
        if any(code not in INDUSTRIES for code in field.data):
            raise ValidationError(_l("Choose industries from the list."))

    def validate_trial_price(self, field):
        if field.errors or field.data is None or self.list_price.data is None:
            return
        if self.list_price.data >= 0 and field.data > self.list_price.data:
            raise ValidationError(_l("The trial price (%(trial_price)s) must not exceed the list price "
                                     "(%(list_price)s).", trial_price=format_money(field.data),
                                     list_price=format_money(self.list_price.data)))


def _score(label):
    return IntField(label, min_value=0, max_value=100,
                    validators=[InputRequired(message=_l("Enter a score from 0 to 100."))])


class ScreeningForm(VoucherForm):
    maturity = _score(_l("Maturity"))
    references_score = _score(_l("References"))
    price_reasonableness = _score(_l("Price reasonableness"))
    service_capability = _score(_l("Service capability"))
    data_security = _score(_l("Data security"))
    decision = RadioField(_l("Decision"), choices=list(DECISIONS.items()), validate_choice=False,
                          validators=[InputRequired(message=_l("Choose to list or to reject the solution."))])
    reasons = TextAreaField(_l("Reasons"), filters=[_strip],
                            validators=[DataRequired(message=_l("Give the reasons for the decision.")),
                                        Length(max=REASONS_MAX, message=_TOO_LONG)],
                            description=_l("Shown to the provider and kept in the audit trail."))

    def validate_decision(self, field):
        if field.data not in DECISIONS:
            raise ValidationError(_l("Choose to list or to reject the solution."))


class ReasonForm(VoucherForm):
    reason = TextAreaField(_l("Reason"), filters=[_strip],
                           validators=[DataRequired(message=_l("Give a reason.")),
                                       Length(max=REASONS_MAX, message=_TOO_LONG)],
                           description=_l("Shown to the provider and kept in the audit trail."))
