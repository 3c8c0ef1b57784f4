"""API schemas of trials: milestones, evaluator assignments, effect-evaluation forms, adoption.

Requests carry the web forms' fields; ``trials.services`` applies the rules (milestone order, who
confirms, conflict-of-interest declaration before the form, scores 0–100 with one decimal, ...)
with the forms' messages.  Post-trial values and scores travel as ``afters: {indicator: "..."}``
and ``scores: {criterion: "..."}`` (refusals name ``afters.<code>`` and ``scores.<code>``).
"""
from __future__ import annotations

import marshmallow as ma

from voucher.applications.schemas import RefSchema, SolutionRefSchema
from voucher.programmes.schemas import rule_version_field
from voucher.schema_fields import ID_MAX, Choice, DecimalString, FileUploadSchema, Length, WholeRange, object_id
from voucher.trials.models import (
    ACCEPTANCE_STATES,
    ASSIGNMENT_STATES,
    CRITERIA,
    INDICATOR_CODES,
    MILESTONE_KINDS,
    MILESTONE_STATES,
    OUTCOMES,
    RECOMMENDATIONS,
    TRIAL_STATES,
)


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- requests ----------------------------------------------------------------------------------

class TrialListArgs(ma.Schema):
    status = ma.fields.String(validate=Choice(TRIAL_STATES))
    overdue = ma.fields.Boolean(metadata={"description": "Only running trials past their end date"})
    q = ma.fields.String(validate=Length(1, 100), metadata={"description": "Solution, enterprise or provider name"})
    provider_id = ma.fields.Integer(validate=WholeRange(1, ID_MAX), metadata={"description": "Bureau roles"})


class MilestoneReportSchema(_Strict):
    kind = ma.fields.String(required=True, metadata={"enum": list(MILESTONE_KINDS),
                                                     "description": "In order: kickoff, deployed, in_use, "
                                                                    "final_report"})
    note = ma.fields.String(required=True, metadata={"maxLength": 2000})
    file = ma.fields.Nested(FileUploadSchema, load_default=None, allow_none=True,
                            metadata={"description": "Optional evidence (PDF, JPEG or PNG)"})


class TrialReasonSchema(_Strict):
    reason = ma.fields.String(required=True, metadata={"maxLength": 2000})


class MilestoneConfirmSchema(_Strict):
    early_reason = ma.fields.String(load_default=None, metadata={
        "maxLength": 2000, "description": "Required when the final report is confirmed more than 30% of the trial "
                                          "period before the planned end date: why the trial finishes early."})


class AssignSchema(_Strict):
    evaluator_id = object_id(required=True, metadata={"description": "An active evaluator user's id"})


class DeclarationSchema(_Strict):
    confirm = ma.fields.Boolean(required=True, metadata={"description": "true: I declare that I have no conflict "
                                                                        "of interest in this trial"})


AftersSchema = type("AftersSchema", (_Strict,), {
    "__doc__": "Post-trial value per indicator (required where the application has a baseline).",
    **{code: DecimalString(load_default=None, allow_none=True) for code in INDICATOR_CODES}})
ScoresSchema = type("ScoresSchema", (_Strict,), {
    "__doc__": "Score per criterion, 0 to 100 with at most one decimal.",
    **{code: DecimalString(load_default=None, allow_none=True) for code in CRITERIA}})


class EvaluationInputSchema(_Strict):
    afters = ma.fields.Nested(AftersSchema, required=True)
    scores = ma.fields.Nested(ScoresSchema, required=True)
    comments = ma.fields.String(required=True, metadata={"maxLength": 4000})
    recommendation = ma.fields.String(required=True, metadata={"enum": list(RECOMMENDATIONS)})
    correction_reason = ma.fields.String(load_default=None, allow_none=True,
                                         metadata={"description": "Required to correct a submitted form (the "
                                                                  "correction is a new version)"})


class AdoptionSchema(_Strict):
    adopted = ma.fields.Boolean(required=True, allow_none=True,
                                metadata={"description": "Will the enterprise pay to keep using the solution?"})
    reason = ma.fields.String(required=True, metadata={"maxLength": 2000})


# --- responses ---------------------------------------------------------------------------------

class TrialSchema(ma.Schema):
    """A trial of an approved trial-voucher application."""

    id = ma.fields.Integer(required=True)
    application_id = ma.fields.Integer(required=True)
    application_number = ma.fields.String(required=True, allow_none=True,
                                          metadata={"description": "The application's number, e.g. SY-2026-000013"})
    programme_id = ma.fields.Integer(required=True)
    solution = ma.fields.Nested(SolutionRefSchema, required=True)
    enterprise = ma.fields.Nested(RefSchema, required=True)
    provider = ma.fields.Nested(RefSchema, required=True)
    status = ma.fields.String(required=True, validate=Choice(TRIAL_STATES))
    status_label = ma.fields.String(required=True)
    overdue = ma.fields.Boolean(required=True, metadata={"description": "Running and past its end date"})
    period_days = ma.fields.Integer(required=True)
    approved_amount = DecimalString(required=True)
    start_date = ma.fields.Date(required=True, allow_none=True)
    end_date = ma.fields.Date(required=True, allow_none=True)
    advance_pct = DecimalString(required=True, allow_none=True, metadata={
        "description": "The programme's advance percentage the kick-off used (stored with the split)"})
    advance_amount = DecimalString(required=True, allow_none=True)
    balance_amount = DecimalString(required=True, allow_none=True)
    score = DecimalString(required=True, allow_none=True)
    pass_score = DecimalString(required=True, allow_none=True, metadata={
        "description": "The pass mark the outcome was decided with"})
    remarkable_score = DecimalString(required=True, allow_none=True, metadata={
        "description": "The remarkable mark the outcome was decided with"})
    outcome = ma.fields.String(required=True, allow_none=True, validate=Choice(OUTCOMES))
    remarkable = ma.fields.Boolean(required=True, allow_none=True)
    adopted = ma.fields.Boolean(required=True, allow_none=True)
    acceptance_status = ma.fields.String(required=True, validate=Choice(ACCEPTANCE_STATES), metadata={
        "description": "Acceptance of the delivered scope: the balance is payable once `accepted` (both the "
                       "enterprise and the provider) and the outcome is `passed`"})
    early_finish_reason = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The enterprise's reason when the final report was confirmed early"})


class MilestoneSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=Choice(MILESTONE_KINDS))
    seq = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=Choice(MILESTONE_STATES))
    status_label = ma.fields.String(required=True)
    note = ma.fields.String(required=True)
    file_id = ma.fields.Integer(required=True, allow_none=True)
    reported_at = ma.fields.DateTime(required=True)
    report_count = ma.fields.Integer(required=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    dispute_reason = ma.fields.String(required=True, allow_none=True)


class AssignmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    evaluator = ma.fields.Nested(RefSchema, required=True)
    status = ma.fields.String(required=True, validate=Choice(ASSIGNMENT_STATES))
    status_label = ma.fields.String(required=True)
    assigned_at = ma.fields.DateTime(required=True)
    declared_at = ma.fields.DateTime(required=True, allow_none=True)
    conflict_reason = ma.fields.String(required=True, allow_none=True)
    removed_reason = ma.fields.String(required=True, allow_none=True)


AftersOutSchema = type("AftersOutSchema", (ma.Schema,), {
    code: DecimalString(required=True, allow_none=True) for code in INDICATOR_CODES})
ScoresOutSchema = type("ScoresOutSchema", (ma.Schema,), {
    code: DecimalString(required=True) for code in CRITERIA})


class EvaluationSchema(ma.Schema):
    """One version of an evaluator's form (the latest version of each assignment counts)."""

    id = ma.fields.Integer(required=True)
    assignment_id = ma.fields.Integer(required=True)
    evaluator_id = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True)
    correction_reason = ma.fields.String(required=True, allow_none=True)
    submitted_at = ma.fields.DateTime(required=True)
    afters = ma.fields.Nested(AftersOutSchema, required=True)
    scores = ma.fields.Nested(ScoresOutSchema, required=True)
    weights = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    overall = DecimalString(required=True, metadata={"description": "Weighted sum, rounded to 0.1"})
    mean_improvement = DecimalString(required=True, allow_none=True)
    comments = ma.fields.String(required=True)
    recommendation = ma.fields.String(required=True, validate=Choice(RECOMMENDATIONS))


class TrialDetailSchema(TrialSchema):
    rule_version = rule_version_field()
    next_step = ma.fields.String(required=True, metadata={"description": "What the caller does next"})
    next_milestone = ma.fields.String(required=True, allow_none=True, validate=Choice(MILESTONE_KINDS),
                                      metadata={"description": "The milestone the provider may report now"})
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    evaluated_at = ma.fields.DateTime(required=True, allow_none=True)
    mean_improvement = DecimalString(required=True, allow_none=True)
    released_amount = DecimalString(required=True, allow_none=True)
    adoption_reason = ma.fields.String(required=True, allow_none=True)
    milestones = ma.fields.List(ma.fields.Nested(MilestoneSchema), required=True)
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema), required=True, metadata={
        "description": "Bureau roles: every assignment; an evaluator: their own; others: none"})
    evaluations = ma.fields.List(ma.fields.Nested(EvaluationSchema), required=True, metadata={
        "description": "The forms the caller may read (the enterprise, the provider and other evaluators only "
                       "once the result is final), every version"})


class EvaluatorSchema(ma.Schema):
    """An active evaluator an officer may assign."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    organisation = ma.fields.String(required=True, allow_none=True)
