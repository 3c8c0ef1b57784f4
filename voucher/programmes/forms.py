"""The programme form: settings plus every rule parameter, each prefilled with its default and
explained in plain language.  The parameter list is ``PARAMETER_DEFAULTS``; a test checks that
every one of them is on the form."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from voucher.forms import IntField, MoneyField, PercentField, VoucherForm
from voucher.programmes.models import PARAMETER_DEFAULTS
from voucher.programmes.services import DEFAULT_BUDGET, MONEY_MAX, PARAMETER_SPECS, WEIGHT_FIELDS, ProgrammeInput
from voucher.reference import INDUSTRIES

# (legend, [(parameter, label, help)]) in the order the page shows them.
PARAMETER_GROUPS = (
    (_l("Trial vouchers"), (
        ("trial_cap_per_enterprise", _l("Trial voucher cap per enterprise (yuan)"),
         _l("The most one enterprise may have reserved and paid for trial vouchers in this programme.")),
        ("provider_cap", _l("Cap per provider (yuan)"),
         _l("The most the trials of one provider may commit in this programme, so that no vendor captures the fund.")),
        ("advance_pct", _l("First payment when the trial starts (%)"),
         _l("Share of a trial voucher paid to the provider when the enterprise confirms the trial started; the rest is paid after the evaluation passes.")),
    )),
    (_l("Effect evaluation"), (
        ("pass_score", _l("Pass score"),
         _l("A trial whose mean overall score reaches this passes (0–100).")),
        ("remarkable_score", _l("Excellent score"),
         _l("A mean score from this upwards counts as excellent; also the mean a solution needs for the recommendation catalogue.")),
        ("recommend_min_evaluations", _l("Evaluations needed for the recommendation catalogue"),
         _l("How many passed effect evaluations a solution needs before an officer may recommend it.")),
        ("weight_effect", _l("Weight: effect (%)"),
         _l("Weight of the effect criterion in the overall score. The five weights must add up to 100.")),
        ("weight_quality", _l("Weight: quality and stability (%)"),
         _l("Weight of quality and stability in the overall score.")),
        ("weight_service", _l("Weight: service (%)"),
         _l("Weight of the provider's service in the overall score.")),
        ("weight_cost_effectiveness", _l("Weight: cost-effectiveness (%)"),
         _l("Weight of cost-effectiveness in the overall score.")),
        ("weight_replicability", _l("Weight: replicability (%)"),
         _l("Weight of replicability in the overall score.")),
    )),
    (_l("Loan interest discount"), (
        ("loan_rate_margin_pct", _l("Rate margin below the LPR (%)"),
         _l("A loan is eligible when its annual rate is at most the 1-year LPR reduced by this share (20 means 80% of the LPR).")),
        ("loan_subsidy_points", _l("Discount (percentage points)"),
         _l("Interest discount per year on the eligible principal, in percentage points.")),
        ("loan_principal_cap", _l("Eligible principal cap (yuan)"),
         _l("Outstanding principal above this amount earns no discount.")),
        ("loan_day_basis", _l("Day-count basis"),
         _l("Days in the interest year of the discount formula: 360 or 365.")),
    )),
    (_l("Robot purchase subsidy"), (
        ("robot_base_rate", _l("Base rate (%)"),
         _l("Subsidy rate on the VAT-exclusive cost of an imported-brand robot.")),
        ("robot_domestic_rate", _l("Domestic-brand rate (%)"),
         _l("Subsidy rate for a domestic-brand robot.")),
        ("robot_pilot_domestic_rate", _l("Domestic brand in a pilot industry (%)"),
         _l("Subsidy rate for a domestic-brand robot bought by an enterprise in one of the pilot industries.")),
        ("robot_enterprise_cap", _l("Robot subsidy cap per enterprise (yuan)"),
         _l("The most one enterprise may receive in robot subsidies in this programme.")),
    )),
    (_l("Public notice"), (
        ("publicity_working_days", _l("Public notice period (working days)"),
         _l("Approved grants are published this many working days before any of them is paid; an objection in that time holds the payment.")),
    )),
)


def _make_param_field(name: str, label, help_text):
    spec = PARAMETER_SPECS[name]
    default = PARAMETER_DEFAULTS[name]
    kwargs = {"validators": [InputRequired()], "description": help_text, "default": default}
    if spec.kind == "money":
        return MoneyField(label, min_value=spec.low, max_value=spec.high, **kwargs)
    if spec.kind in ("percent", "score"):
        return PercentField(label, min_value=str(spec.low), max_value=str(spec.high), **kwargs)
    return IntField(label, min_value=int(spec.low), max_value=int(spec.high), **kwargs)


class ProgrammeForm(VoucherForm):
    name = StringField(_l("Programme name"), validators=[DataRequired(), Length(max=200)],
                       description=_l("For example: 2026 SME digital transformation pilot fund."))
    year = IntField(_l("Year"), validators=[InputRequired()], min_value=2000, max_value=2100)
    budget = MoneyField(_l("Budget (yuan)"), validators=[InputRequired()], max_value=MONEY_MAX,
                        default=DEFAULT_BUDGET,
                        description=_l("The annual fund. Available = budget − reserved − paid, read from the fund ledger."))
    opens_on = DateField(_l("Applications open on"), validators=[InputRequired()])
    closes_on = DateField(_l("Applications close on"), validators=[InputRequired()],
                          description=_l("The last day applications are accepted."))
    funds_trial_voucher = BooleanField(_l("Funds trial vouchers"), default=True)
    funds_loan_discount = BooleanField(_l("Funds loan interest discounts"), default=True)
    funds_robot_subsidy = BooleanField(_l("Funds robot purchase subsidies"), default=True)
    pilot_industries = SelectMultipleField(
        _l("Pilot industries"), choices=list(INDUSTRIES.items()), validators=[Optional()],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("Domestic-brand robots bought by enterprises in these industries get the higher rate."))

    # The cross-field rules are the service's; checked here too so that one submission shows
    # every problem at once (the service re-checks whatever reaches it).
    def validate_closes_on(self, field):
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(gettext("The window cannot close (%(closes_on)s) before it opens (%(opens_on)s).",
                                          closes_on=field.data.isoformat(), opens_on=self.opens_on.data.isoformat()))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        weights = [getattr(self, name) for name in WEIGHT_FIELDS]
        if all(f.data is not None and not f.errors for f in weights):
            total = sum(f.data for f in weights)
            if total != 100:
                self.weight_effect.errors.append(gettext(
                    "The five weights add up to %(weights_total)s; they must add up to 100.", weights_total=total))
                ok = False
        return ok

    def to_input(self) -> ProgrammeInput:
        return ProgrammeInput(
            name=self.name.data or "", year=self.year.data, budget=self.budget.data,
            opens_on=self.opens_on.data, closes_on=self.closes_on.data,
            funds_trial_voucher=bool(self.funds_trial_voucher.data),
            funds_loan_discount=bool(self.funds_loan_discount.data),
            funds_robot_subsidy=bool(self.funds_robot_subsidy.data),
            pilot_industries=tuple(self.pilot_industries.data or ()),
            parameters={name: getattr(self, name).data for name in PARAMETER_SPECS})

    def param_groups(self):
        """[(legend, [field, ...])] for the template."""
        return [(legend, [getattr(self, name) for name, _label, _help in items]) for legend, items in PARAMETER_GROUPS]


for _legend, _items in PARAMETER_GROUPS:
    for _name, _label, _help in _items:
        setattr(ProgrammeForm, _name, _make_param_field(_name, _label, _help))

if {n for _g, items in PARAMETER_GROUPS for n, _lb, _h in items} != set(PARAMETER_DEFAULTS):
    raise RuntimeError("every programme parameter of PARAMETER_DEFAULTS must be on the programme form")
