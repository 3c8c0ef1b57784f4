"""Forms of the trial pages.  The services re-check every rule; these give early, field-level
messages (all at once) and strict number input."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from voucher.applications.forms import BASELINE_LABELS
from voucher.applications.models import indicator_max
from voucher.forms import PercentField, VoucherForm
from voucher.trials.models import CRITERIA, INDICATOR_CODES
from voucher.trials.queries import CRITERION_LABELS, RECOMMENDATION_LABELS
from voucher.trials.services import COMMENTS_MAX, NOTE_MAX, REASON_MAX, SCOPE_MAX, EvaluationInput


def _int_or_none(value):
    from voucher.pagination import bounded_int

    return bounded_int(value)


class MilestoneReportForm(VoucherForm):
    note = TextAreaField(_l("What was done"), validators=[DataRequired(message=_l("A note is required.")),
                                                         Length(max=NOTE_MAX)], render_kw={"rows": 3},
                         description=_l("For example: the date, what was installed or delivered, who took part."))
    file = FileField(_l("Evidence (optional: PDF, JPEG or PNG)"))


class MilestoneConfirmForm(VoucherForm):
    """The enterprise's confirmation of a milestone: the advance amount it was shown (kick-off) and,
    for a final report confirmed early, the reason."""

    advance = HiddenField()
    early_reason = TextAreaField(_l("Why is the trial finishing early? (shown to the programme officer)"),
                                 validators=[Optional(), Length(max=REASON_MAX)], render_kw={"rows": 2})


class AcceptanceForm(VoucherForm):
    """One party's acceptance of the delivered scope against the application."""

    # Required, checked by the service with the checklist (so every message shows at once).
    delivered_scope = TextAreaField(_l("Scope delivered"), validators=[Optional(), Length(max=SCOPE_MAX)],
                                    render_kw={"rows": 4, "required": True},
                                    description=_l("In your own words: what was installed, configured, trained and "
                                                   "handed over, compared with the application."))
    checklist = SelectMultipleField(_l("Checklist against the application"), choices=[],
                                    option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                    validate_choice=False)
    file = FileField(_l("Signed acceptance report (optional: PDF, JPEG or PNG)"))


class DisputeForm(VoucherForm):
    reason = TextAreaField(_l("Why do you dispute it? (shown to the provider)"),
                           validators=[DataRequired(message=_l("A reason is required.")), Length(max=REASON_MAX)],
                           render_kw={"rows": 2})


class AssignForm(VoucherForm):
    evaluator_id = SelectField(_l("Evaluator"), coerce=_int_or_none,
                               validators=[InputRequired(message=_l("Choose an evaluator."))])


class RemoveAssignmentForm(VoucherForm):
    reason = TextAreaField(_l("Reason for removing the evaluator"),
                           validators=[DataRequired(message=_l("A reason is required.")), Length(max=REASON_MAX)],
                           render_kw={"rows": 2})


class DeclarationForm(VoucherForm):
    confirm = BooleanField(_l("I make this declaration"))


class ConflictForm(VoucherForm):
    reason = TextAreaField(_l("Describe the conflict of interest"),
                           validators=[DataRequired(message=_l("Describe the conflict of interest.")),
                                       Length(max=REASON_MAX)], render_kw={"rows": 2})


class ScoreField(PercentField):
    """A criterion score: 0–100 with at most one decimal."""

    def pre_validate(self, form):
        super().pre_validate(form)
        if self.data is not None and self.data != self.data.quantize(Decimal("0.1")):
            raise ValidationError(str(_l("A score is a number from 0 to 100 with at most one decimal.")))


def _evaluation_fields():
    fields = {}
    for code in INDICATOR_CODES:
        fields[f"after_{code}"] = PercentField(BASELINE_LABELS[code], validators=[Optional()], min_value="0",
                                               max_value=indicator_max(code))
    for code in CRITERIA:
        fields[f"score_{code}"] = ScoreField(CRITERION_LABELS[code],
                                             validators=[InputRequired(message=_l("Enter a score from 0 to 100."))])
    return fields


class EvaluationForm(VoucherForm):
    """The effect-evaluation form: post-trial figures, five scores, comments, recommendation."""

    comments = TextAreaField(_l("Comments"), validators=[DataRequired(message=_l("Write your comments on the trial.")),
                                                         Length(max=COMMENTS_MAX)], render_kw={"rows": 5})
    recommendation = RadioField(_l("Recommendation"), choices=list(RECOMMENDATION_LABELS.items()),
                                validators=[InputRequired(message=_l("Choose a recommendation."))])
    correction_reason = TextAreaField(_l("Reason for the correction"), validators=[Optional(), Length(max=REASON_MAX)],
                                      render_kw={"rows": 2},
                                      description=_l("A submitted form is final: a correction is saved as a new "
                                                     "version with its reason."))

    def after_fields(self):
        return [getattr(self, f"after_{code}") for code in INDICATOR_CODES]

    def score_fields(self):
        return [getattr(self, f"score_{code}") for code in CRITERIA]

    def to_input(self) -> EvaluationInput:
        return EvaluationInput(afters={c: getattr(self, f"after_{c}").data for c in INDICATOR_CODES},
                               scores={c: getattr(self, f"score_{c}").data for c in CRITERIA},
                               comments=self.comments.data or "", recommendation=self.recommendation.data or "",
                               correction_reason=self.correction_reason.data)


for _name, _field in _evaluation_fields().items():
    setattr(EvaluationForm, _name, _field)


class AdoptionForm(VoucherForm):
    adopted = RadioField(_l("Will your enterprise pay to keep using the solution?"),
                         choices=[("yes", _l("Yes, we will keep using it")), ("no", _l("No"))],
                         validators=[InputRequired(message=_l("Choose yes or no."))])
    reason = TextAreaField(_l("Why?"), validators=[DataRequired(message=_l("Explain the decision.")),
                                                   Length(max=REASON_MAX)], render_kw={"rows": 3})
