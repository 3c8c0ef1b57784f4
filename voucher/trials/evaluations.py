"""Evaluators and the effect-evaluation form (domain section 4): an officer assigns evaluators to a
completed trial, each declares no conflict of interest, fills in the form (weighted scores), and
when all have submitted the trial's result is recorded (a failed trial's balance goes back to the
fund).  Services only flush.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voucher.access import BUREAU, require
from voucher.applications import services as applications
from voucher.applications.models import BASELINE_MAX, PERCENT_MAX, indicator_max
from voucher.applications.services import PERCENT_FIGURE_MESSAGE
from voucher.audit.services import Actor, record_event
from voucher.auth.models import User
from voucher.calc import (
    EvaluationParams,
    IndicatorResult,
    ScoreResult,
    TrialScoreResult,
    indicator_improvements,
    overall_score,
    round_to,
    trial_score,
)
from voucher.db import utcnow
from voucher.errors import N_, Conflict, Duplicate, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.notifications.services import notify_organisation, notify_role, notify_users
from voucher.programmes import services as ledger
from voucher.programmes.models import Programme
from voucher.trials.common import (
    EVALUATIONS_LINK,
    REASON_MAX,
    SOURCE_TYPE,
    TRIAL_MACHINE,
    ZERO,
    assignment_of,
    clean_text,
    ensure_can_view,
    find_trial,
    get_trial,
    lock_trial,
    notify_finance_payable,
    trial_link,
)
from voucher.trials.models import (
    ACTIVE_ASSIGNMENT_STATES,
    ASSIGNMENT_STATES,
    CRITERIA,
    INDICATOR_CODES,
    RECOMMENDATIONS,
    Evaluation,
    EvaluatorAssignment,
    Trial,
)
from voucher.workflow import StateMachine, transition

COMMENTS_MAX = 4000
AFTER_MAX = BASELINE_MAX
ONE_DECIMAL = Decimal("0.1")


# The declaration an evaluator accepts before the form opens (stored as shown, with the time).
DECLARATION_TEXT = N_("I declare that I have no conflict of interest in this trial: I am not employed by, nor "
                      "related to, the provider or the enterprise, and I will evaluate the trial impartially.")

ASSIGNMENT_MACHINE = StateMachine("evaluator_assignment", ASSIGNMENT_STATES, (
    transition("declare_no_conflict", "assigned", "cleared", "evaluator"),
    transition("declare_conflict", "assigned", "conflict", "evaluator", requires_reason=True),
    transition("submit", "cleared", "submitted", "evaluator"),
    transition("remove", ("assigned", "cleared"), "removed", "officer", requires_reason=True),
))


def evaluation_params(programme: Programme, day: date | None = None, version=None) -> EvaluationParams:
    """The criterion weights and pass / remarkable marks of the programme's rule version in force on
    ``day`` (today by default; or of ``version``), for the calculations."""
    if version is None:
        version = ledger.version_in_force(programme.id, day or applications.local_today())
    p = ledger.parse_parameters(version.parameters)
    return EvaluationParams(
        weights={"effect": p["weight_effect"], "quality": p["weight_quality"], "service": p["weight_service"],
                 "cost_effectiveness": p["weight_cost_effectiveness"], "replicability": p["weight_replicability"]},
        pass_score=p["pass_score"], remarkable_score=p["remarkable_score"])


def form_params(trial: Trial, corrected: Evaluation | None = None) -> EvaluationParams:
    """The weights (and marks) an evaluation form is scored with.

    Rule: a first submission uses the programme's weights of the day; a correction uses the
    weights stored on the version it corrects, so a later change of the programme's weights never
    re-weights a past evaluation through a correction; once the outcome is recorded, the marks are
    those it was decided with (stored on the trial)."""
    params = evaluation_params(trial.programme)
    weights = params.weights
    if corrected is not None and corrected.weights:
        weights = {k: Decimal(v) for k, v in corrected.weights.items()}
    if trial.pass_score is not None:  # the outcome is recorded: the marks it was decided with
        return EvaluationParams(weights=weights, pass_score=trial.pass_score, remarkable_score=trial.remarkable_score)
    return EvaluationParams(weights=weights, pass_score=params.pass_score, remarkable_score=params.remarkable_score)


def assignments(trial_id: int) -> list[EvaluatorAssignment]:
    """The trial's evaluator assignments, every state, in the order they were made."""
    return list(db.session.scalars(select(EvaluatorAssignment).where(EvaluatorAssignment.trial_id == trial_id)
                                   .order_by(EvaluatorAssignment.id)))


def latest_evaluations(trial_id: int) -> dict[int, Evaluation]:
    """The latest version of each assignment's evaluation form, by assignment id."""
    out: dict[int, Evaluation] = {}
    for ev in db.session.scalars(select(Evaluation).where(Evaluation.trial_id == trial_id)
                                 .order_by(Evaluation.assignment_id, Evaluation.version)):
        out[ev.assignment_id] = ev
    return out


def can_see_comments(actor: Actor, trial: Trial, evaluation: Evaluation) -> bool:
    """Rule: the bureau always; the evaluator who wrote the form; everyone else who may see the
    trial only once its result is final (the enterprise never sees comments before)."""
    if actor.role in BUREAU:
        return True
    if actor.role == "evaluator" and evaluation.evaluator_id == actor.user_id:
        return True
    return trial.result_final


def get_evaluation(actor: Actor, trial_id: int, evaluation_id: int) -> tuple[Trial, Evaluation]:
    """One version of an evaluation form with its comments.

    Rule: only who may see the trial, and (see :func:`can_see_comments`) the enterprise, the
    provider and the other evaluators only once the result is final: 403 before.
    """
    trial = get_trial(actor, trial_id)
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.trial_id != trial.id:
        raise NotFound("No such evaluation.")
    if not can_see_comments(actor, trial, evaluation):
        raise Forbidden("The evaluators' forms and comments are shown once the evaluation result is final.")
    return trial, evaluation


def evaluator_assignment(actor: Actor, trial_id: int) -> tuple[Trial, EvaluatorAssignment]:
    """The evaluator's own assignment on a trial they may open.

    Rule: only an evaluator (a provider or anyone else may not score: 403), only on a trial
    assigned to them, never one where they declared a conflict (403).
    """
    require(actor, "trials.evaluate", message="Only an assigned evaluator may score a trial.")
    trial = find_trial(trial_id)
    ensure_can_view(actor, trial)
    return trial, assignment_of(actor, trial.id)


def improvements_for(trial: Trial, afters: dict[str, Decimal | None]) -> tuple[IndicatorResult, ...]:
    """Each indicator's improvement % from the application's baseline and the post-trial value."""
    return indicator_improvements(trial.application.baselines, afters)


def _mean_improvement(results) -> Decimal | None:
    values = [r.improvement for r in results if r.improvement is not None]
    if not values:
        return None
    return round_to(sum(values, Decimal(0)) / len(values), 2)


def _ensure_officer(actor: Actor) -> None:
    require(actor, "trials.manage", message="Only a programme officer may do this.")



# --- evaluators -------------------------------------------------------------------------------

def evaluator_choices() -> list[User]:
    """Active evaluator users (the officer picks from them)."""
    return list(db.session.scalars(select(User).options(selectinload(User.organisation))
                                   .where(User.role == "evaluator", User.active.is_(True))
                                   .order_by(User.name, User.id)))


def assign_evaluator(actor: Actor, trial_id: int, evaluator_id: int | None) -> EvaluatorAssignment:
    """An officer assigns an evaluator to a completed trial.

    Rule: officers only; the trial is completed (not yet evaluated); the user is an active
    evaluator, not already assigned to it, who has not declared a conflict in it; an evaluator
    whose organisation is the provider's or the enterprise's is refused with the reason.  The
    evaluator is notified.
    """
    _ensure_officer(actor)
    trial = lock_trial(trial_id)
    if trial.status != "completed":
        raise TransitionNotAllowed("Evaluators are assigned once the trial is completed and until its result is "
                                   "recorded.", field="evaluator_id")
    user = db.session.get(User, evaluator_id) if evaluator_id else None
    if user is None or user.role != "evaluator" or not user.active:
        raise ValidationFailed("Choose an active evaluator.", field="evaluator_id")
    if user.organisation_id is not None and user.organisation_id == trial.provider_id:
        raise ValidationFailed("%(name)s works for the provider of this trial and cannot evaluate it: choose "
                               "another evaluator.", field="evaluator_id", name=user.name)
    if user.organisation_id is not None and user.organisation_id == trial.enterprise_id:
        raise ValidationFailed("%(name)s works for the enterprise of this trial and cannot evaluate it: choose "
                               "another evaluator.", field="evaluator_id", name=user.name)
    for a in assignments(trial.id):
        if a.evaluator_id != user.id:
            continue
        if a.status in ACTIVE_ASSIGNMENT_STATES:
            raise Duplicate("%(name)s is already assigned to this trial.", field="evaluator_id", name=user.name)
        if a.status == "conflict":
            raise ValidationFailed("%(name)s declared a conflict of interest in this trial: choose another "
                                   "evaluator.", field="evaluator_id", name=user.name)
    assignment = EvaluatorAssignment(trial_id=trial.id, evaluator_id=user.id, status="assigned",
                                     assigned_by=actor.user_id, assigned_at=utcnow())
    db.session.add(assignment)
    db.session.flush()
    record_event(actor, "evaluator_assignment.assign", "evaluator_assignment", assignment.id,
                 after={"trial_id": trial.id, "evaluator_id": user.id, "evaluator": user.name, "status": "assigned"})
    notify_users([user.id], N_("You were assigned to evaluate the trial of %(solution)s: declare that you have no "
                               "conflict of interest, then fill in the effect-evaluation form."),
                 trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
    return assignment


def _own_assignment_locked(actor: Actor, trial_id: int) -> tuple[Trial, EvaluatorAssignment]:
    require(actor, "trials.evaluate", message="Only an assigned evaluator may score a trial.")
    trial = lock_trial(trial_id)
    ensure_can_view(actor, trial)
    return trial, assignment_of(actor, trial.id)


def declare_no_conflict(actor: Actor, trial_id: int, confirmed: bool,
                        declaration_text: str | None = None) -> EvaluatorAssignment:
    """The evaluator declares no conflict of interest: the evaluation form opens.

    Rule: only the assigned evaluator, once; the box must be ticked; the declaration text (as
    shown to them) and the time are stored and audited.
    """
    trial, assignment = _own_assignment_locked(actor, trial_id)
    if assignment.status != "assigned":
        raise TransitionNotAllowed("You have already made your declaration for this trial.")
    if not confirmed:
        raise ValidationFailed("Tick the box to declare that you have no conflict of interest, or declare a "
                               "conflict instead.", field="confirm")
    text = (declaration_text or "").strip() or DECLARATION_TEXT
    ASSIGNMENT_MACHINE.apply(assignment, "declare_no_conflict", actor,
                             details={"trial_id": trial.id, "declaration": text})
    assignment.declared_at = utcnow()
    assignment.declaration_text = text
    db.session.flush()
    return assignment


def declare_conflict(actor: Actor, trial_id: int, reason: str) -> EvaluatorAssignment:
    """The evaluator declares a conflict of interest: they cannot open or score the trial.

    Rule: only the assigned evaluator, before declaring no conflict; a reason is required (the
    officer sees it on the trial page and assigns another evaluator); officers are notified.
    """
    trial, assignment = _own_assignment_locked(actor, trial_id)
    if assignment.status != "assigned":
        raise TransitionNotAllowed("You have already made your declaration for this trial.")
    reason = clean_text(reason, "reason", "Describe the conflict of interest.", REASON_MAX)
    ASSIGNMENT_MACHINE.apply(assignment, "declare_conflict", actor, reason=reason, details={"trial_id": trial.id})
    assignment.declared_at = utcnow()
    assignment.conflict_reason = reason
    db.session.flush()
    notify_role("officer", N_("An evaluator declared a conflict of interest in the trial of %(solution)s: assign "
                              "another evaluator."), trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
    return assignment


def remove_assignment(actor: Actor, trial_id: int, assignment_id: int, reason: str) -> EvaluatorAssignment:
    """An officer withdraws an evaluator who has not submitted (e.g. unavailable).

    Rule: officers only, a reason is required, only before the evaluator has submitted a form.
    """
    _ensure_officer(actor)
    trial = lock_trial(trial_id)
    assignment = db.session.get(EvaluatorAssignment, assignment_id)
    if assignment is None or assignment.trial_id != trial.id:
        raise NotFound("No such assignment.")
    reason = clean_text(reason, "reason", "A reason is required.", REASON_MAX)
    ASSIGNMENT_MACHINE.apply(assignment, "remove", actor, reason=reason, details={"trial_id": trial.id})
    assignment.removed_reason = reason
    db.session.flush()
    notify_users([assignment.evaluator_id],
                 N_("You were withdrawn from the evaluation of the trial of %(solution)s by the bureau: %(reason)s"),
                 EVALUATIONS_LINK, solution=trial.solution.title,
                application_number=trial.application.number, reason=reason)
    return assignment


# --- the effect-evaluation form ---------------------------------------------------------------

@dataclass
class EvaluationInput:
    """What the evaluator enters: post-trial value per indicator, score per criterion, comments,
    recommendation, and for a correction its reason."""

    afters: dict[str, Decimal | None]
    scores: dict[str, Decimal | None]
    comments: str
    recommendation: str
    correction_reason: str | None = None


def _check_evaluation(data: EvaluationInput, baselines: dict[str, Decimal | None]) -> tuple[dict, dict]:
    """Every field's problem at once (the form shows them all); nothing is saved on a refusal."""
    errors: dict[str, str] = {}
    afters: dict[str, Decimal | None] = {}
    for code in INDICATOR_CODES:
        value = data.afters.get(code)
        name = f"after_{code}"
        if value is None:
            if baselines.get(code) is not None:
                errors[name] = N_("Enter the post-trial value: the application has a baseline for this indicator.")
            afters[code] = None
        elif not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(Decimal("0.01")):
            errors[name] = N_("Enter a number with at most two decimals.")
        elif value < 0:
            errors[name] = N_("The post-trial value cannot be negative.")
        elif value > indicator_max(code):
            errors[name] = (PERCENT_FIGURE_MESSAGE if indicator_max(code) == PERCENT_MAX
                            else N_("The post-trial value can be at most %(max)s."))
        else:
            afters[code] = value
    scores: dict[str, Decimal] = {}
    for code in CRITERIA:
        value = data.scores.get(code)
        name = f"score_{code}"
        if value is None:
            errors[name] = N_("Enter a score from 0 to 100.")
        elif (not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(ONE_DECIMAL)
              or not Decimal(0) <= value <= Decimal(100)):
            errors[name] = N_("A score is a number from 0 to 100 with at most one decimal.")
        else:
            scores[code] = value.quantize(ONE_DECIMAL)
    comments = (data.comments or "").strip()
    if not comments:
        errors["comments"] = N_("Write your comments on the trial.")
    elif len(comments) > COMMENTS_MAX:
        errors["comments"] = N_("At most %(comments_max)s characters.")
    if data.recommendation not in RECOMMENDATIONS:
        errors["recommendation"] = N_("Choose a recommendation.")
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors, max=format(AFTER_MAX, ","),
                               comments_max=COMMENTS_MAX)
    return afters, scores


def _release_balance(actor: Actor, trial: Trial) -> Decimal:
    """Give back to the fund what is reserved for a failed trial beyond the advance still owed.

    The advance (fixed at kick-off) is owed to the provider whatever the outcome: when it is
    already paid, everything still reserved is released; when not, it stays reserved (and
    payable) and only the balance is released.
    """
    outstanding = ledger.source_outstanding(SOURCE_TYPE, trial.application_id)
    paid = ledger.source_paid(SOURCE_TYPE, trial.application_id)
    advance_owed = max((trial.advance_amount or ZERO) - paid, ZERO)
    amount = outstanding - min(advance_owed, outstanding)
    if amount <= 0:
        return ZERO
    ledger.release(actor, SOURCE_TYPE, trial.application_id, amount=amount,
                   note=f"trial {trial.id} failed its effect evaluation: balance released")
    return amount


def _trial_result(trial: Trial, overalls: list[Decimal]) -> TrialScoreResult:
    params = evaluation_params(trial.programme)
    if trial.pass_score is not None:
        # The outcome is recorded: a correction re-scores with the marks it was decided with.
        params = EvaluationParams(weights=params.weights, pass_score=trial.pass_score,
                                  remarkable_score=trial.remarkable_score)
    return trial_score(overalls, params)


def _record_outcome(actor: Actor, trial: Trial, result: TrialScoreResult, latest: list[Evaluation],
                    released: Decimal) -> None:
    """Write the result on the trial and move trial and application on (after any ledger call)."""
    outcome = "passed" if result.passed else "failed"
    trial.score = result.mean
    trial.outcome = outcome
    trial.remarkable = result.remarkable
    # Decided under the rule version in force on the day of the outcome (issue 19 §3).
    version = ledger.version_in_force(trial.programme_id, applications.local_today())
    params = evaluation_params(trial.programme, version=version)
    trial.pass_score, trial.remarkable_score = params.pass_score, params.remarkable_score  # the marks decided with
    trial.rule_version_id = version.id
    trial.rule_inputs = {
        "overall_scores": [str(e.overall) for e in latest],
        "evaluations": [{"evaluation_id": e.id, "overall": str(e.overall),
                         "weights": {k: str(v) for k, v in (e.weights or {}).items()}} for e in latest],
        "weights": {k: str(v) for k, v in params.weights.items()}, "mean": str(result.mean),
        "pass_score": str(params.pass_score), "remarkable_score": str(params.remarkable_score)}
    trial.mean_improvement = _mean_of([e.mean_improvement for e in latest])
    trial.evaluated_at = utcnow()
    trial.released_amount = released if outcome == "failed" else None
    details = {"score": result.mean, "outcome": outcome, "remarkable": result.remarkable,
               "evaluations": result.count, "released": released}
    TRIAL_MACHINE.apply(trial, "evaluate", actor, details=details)
    applications.MACHINE.apply(trial.application, "record_evaluation", actor, details=details)
    db.session.flush()
    if outcome == "passed":
        sme_message = N_("The trial of %(solution)s passed its effect evaluation (score %(score)s): record whether "
                         "you will keep using the solution.")
        if trial.acceptance_status == "accepted":
            provider_message = N_("The trial of %(solution)s passed its effect evaluation (score %(score)s): the "
                                  "balance becomes payable.")
        else:
            provider_message = N_("The trial of %(solution)s passed its effect evaluation (score %(score)s): the "
                                  "balance becomes payable once the enterprise and you have accepted the delivery.")
    else:
        sme_message = N_("The trial of %(solution)s did not pass its effect evaluation (score %(score)s): record "
                         "whether you will keep using the solution.")
        provider_message = N_("The trial of %(solution)s did not pass its effect evaluation (score %(score)s): the "
                              "balance was released back to the fund.")
    notify_organisation(trial.enterprise_id, sme_message, trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number,
                        score=str(result.mean))
    if outcome == "passed" and trial.balance_amount and trial.acceptance_status == "accepted":
        notify_finance_payable(trial, "balance", trial.balance_amount)
    notify_organisation(trial.provider_id, provider_message, trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number,
                        score=str(result.mean))


def _mean_of(values) -> Decimal | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return round_to(sum(present, Decimal(0)) / len(present), 2)


@dataclass(frozen=True)
class _Scored:
    correcting: bool
    reason: str
    afters: dict
    scores: dict
    latest: dict
    params: EvaluationParams
    score: ScoreResult


def _score_evaluation(trial: Trial, assignment: EvaluatorAssignment, data: EvaluationInput) -> _Scored:
    """The checks and the weighted total shared by the preview and the submission (one calculation)."""
    if assignment.status == "assigned":
        raise Conflict("Declare that you have no conflict of interest before the form opens.")
    if trial.status not in ("completed", "evaluated"):
        raise TransitionNotAllowed("The evaluation can no longer be changed: the trial is closed.")
    correcting = assignment.status == "submitted"
    reason = (data.correction_reason or "").strip()
    if correcting and not reason:
        raise ValidationFailed("A submitted form is final: give the reason for the correction.",
                               field="correction_reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="correction_reason", max=REASON_MAX)
    afters, scores = _check_evaluation(data, trial.application.baselines)
    latest = latest_evaluations(trial.id)
    params = form_params(trial, latest.get(assignment.id) if correcting else None)
    return _Scored(correcting, reason, afters, scores, latest, params, overall_score(scores, params))


def preview_evaluation(actor: Actor, trial_id: int, data: EvaluationInput) -> ScoreResult:
    """The weighted total the evaluation would be stored with, before the irreversible submit.

    Rule: the same checks and the same calculation as :func:`submit_evaluation` (which still
    recomputes); nothing is saved, locked or audited.
    """
    trial, assignment = evaluator_assignment(actor, trial_id)
    return _score_evaluation(trial, assignment, data).score


@dataclass(frozen=True)
class Submitted:
    """What a submission stored and computed: the form version, its score and, when it completed the trial, the trial's result."""

    evaluation: Evaluation
    score: ScoreResult
    result: TrialScoreResult | None  # the trial's result when this submission completed it


def submit_evaluation(actor: Actor, trial_id: int, data: EvaluationInput) -> Submitted:
    """An evaluator submits the effect-evaluation form (or a corrected version of it).

    Rule: only the assigned evaluator (a provider or anyone else: 403; a conflict: 403), after
    declaring no conflict; every field valid or nothing is saved; the overall score is the
    programme-weighted sum rounded to 0.1.  A submitted form is final: a correction is a new
    version with a reason (audited), allowed until the adoption is recorded and never changing
    an outcome already recorded.  When every assigned evaluator has submitted, the trial score is
    the mean of their latest overall scores: passed at the programme's pass mark, otherwise the
    unpaid balance is released to the fund.
    """
    trial, assignment = _own_assignment_locked(actor, trial_id)
    scored = _score_evaluation(trial, assignment, data)
    correcting, reason, afters, scores, latest, params, score = (
        scored.correcting, scored.reason, scored.afters, scored.scores, scored.latest, scored.params, scored.score)
    results = improvements_for(trial, afters)
    mean_improvement = _mean_improvement(results)

    active = [a for a in assignments(trial.id) if a.status in ACTIVE_ASSIGNMENT_STATES]
    overalls = {a.id: latest[a.id].overall for a in active if a.id in latest and a.id != assignment.id}
    overalls[assignment.id] = score.overall
    complete = all(a.id in overalls for a in active)
    result: TrialScoreResult | None = None
    released = ZERO
    if complete:
        result = _trial_result(trial, list(overalls.values()))
        if trial.status == "evaluated":
            new_outcome = "passed" if result.passed else "failed"
            if new_outcome != trial.outcome:
                raise Conflict("This correction would change the recorded outcome of the trial (score %(old)s → "
                               "%(new)s); a recorded outcome is final. Contact the programme officer.",
                               old=str(trial.score), new=str(result.mean))
        elif not result.passed:
            released = _release_balance(actor, trial)  # the ledger before any audit event (lock order)

    previous = latest.get(assignment.id)
    evaluation = Evaluation(assignment_id=assignment.id, trial_id=trial.id, evaluator_id=actor.user_id,
                            version=(previous.version + 1) if previous else 1,
                            correction_reason=(reason or None) if correcting else None, submitted_at=utcnow(),
                            weights={k: int(v) for k, v in params.weights.items()}, overall=score.overall,
                            mean_improvement=mean_improvement, comments=data.comments.strip(),
                            recommendation=data.recommendation,
                            **{f"after_{c}": afters.get(c) for c in INDICATOR_CODES},
                            **{f"score_{c}": scores[c] for c in CRITERIA})
    db.session.add(evaluation)
    db.session.flush()
    facts = {"trial_id": trial.id, "evaluation_id": evaluation.id, "version": evaluation.version,
             "overall": score.overall, "scores": scores, "afters": afters, "recommendation": data.recommendation}
    if correcting:
        record_event(actor, "evaluator_assignment.correct", "evaluator_assignment", assignment.id,
                     before={"version": previous.version, "overall": previous.overall}, after=facts, reason=reason)
    else:
        ASSIGNMENT_MACHINE.apply(assignment, "submit", actor, details=facts)
    latest[assignment.id] = evaluation
    counted = [latest[a.id] for a in active if a.id in latest]
    if result is not None and trial.status == "completed":
        _record_outcome(actor, trial, result, counted, released)
    elif result is not None and trial.status == "evaluated" and result.mean != trial.score:
        before = {"score": trial.score, "remarkable": trial.remarkable}
        trial.score = result.mean
        trial.remarkable = result.remarkable
        trial.mean_improvement = _mean_of([e.mean_improvement for e in counted])
        db.session.flush()
        record_event(actor, "trial.rescore", "trial", trial.id, before=before,
                     after={"score": result.mean, "remarkable": result.remarkable}, reason=reason)
    db.session.flush()
    return Submitted(evaluation, score, result)


def record_result(actor: Actor, trial_id: int) -> TrialScoreResult:
    """An officer records the result from the forms submitted, when no assigned evaluator is
    still pending (after a conflict or a removal left only submitted forms).

    Rule: officers only; the trial is completed; at least one form is submitted and no active
    evaluator is still to submit.  Same outcome rule as :func:`submit_evaluation`.
    """
    _ensure_officer(actor)
    trial = lock_trial(trial_id)
    if trial.status != "completed":
        raise TransitionNotAllowed("The result is recorded once, for a completed trial.")
    active = [a for a in assignments(trial.id) if a.status in ACTIVE_ASSIGNMENT_STATES]
    pending = [a for a in active if a.status != "submitted"]
    if pending:
        raise Conflict("%(count)s assigned evaluator(s) have not submitted their form yet.", count=len(pending))
    latest = latest_evaluations(trial.id)
    counted = [latest[a.id] for a in active if a.id in latest]
    if not counted:
        raise Conflict("No evaluation form has been submitted yet: assign an evaluator.")
    result = _trial_result(trial, [e.overall for e in counted])
    released = ZERO if result.passed else _release_balance(actor, trial)
    _record_outcome(actor, trial, result, counted, released)
    return result


