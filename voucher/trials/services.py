"""Trials, milestones, evaluator assignments, effect evaluations and the adoption decision.

Plain arguments and an :class:`Actor` in, domain exceptions out; services only flush (the
request commits).  The rules (domain sections 3, 4 and 7):

* a trial is opened when its application is approved (:func:`open_trial_for`, called by the
  approval); the provider's users report the milestones kick-off, deployed, in use and final
  report in that order, each after the previous one is confirmed; the enterprise's SME users
  confirm or dispute each (a dispute needs a reason, the provider then reports it again);
* confirming the kick-off starts the trial: start date = that day, end date = start + the
  solution's trial period, and fixes the 30% advance (programme ``advance_pct``) and the balance;
  confirming the final report completes it (application: approved → trial running → trial
  completed);
* a final report confirmed more than ``EARLY_FINISH_PCT`` (30%) of the trial period before the
  planned end date needs the enterprise's reason (stored on the trial, shown to the officer);
* acceptance (验收): once the final report is confirmed, the enterprise and the provider each
  confirm the delivered scope against the application (:func:`record_acceptance`: the scope in
  their words, every item of :func:`acceptance_checklist` ticked, optionally the signed report),
  through :data:`ACCEPTANCE_MACHINE` (the trial's acceptance status beside its status); it runs
  alongside the evaluation, and the balance is payable only when both have accepted *and* the
  evaluation passed;
* an officer assigns evaluators to a completed trial; one whose organisation is the provider's
  or the enterprise's is refused; each evaluator declares no conflict of interest before the
  form opens, and one who declares a conflict can neither open nor score the trial;
* an evaluation form holds the post-trial figures, five criterion scores 0–100 (at most one
  decimal) weighted by the programme's weights, the overall score (rounded to 0.1), comments and
  a recommendation; a submitted form is final: a correction is a new version with a reason;
* when every assigned evaluator has submitted, the trial score is the mean of their latest
  overall scores, passed at ``pass_score``; a failed trial's unpaid balance goes back to the fund
  (ledger ``release``), a passed and accepted trial's balance becomes payable
  (:mod:`voucher.trials.queries` ``payable_items``); then the enterprise records its adoption
  decision and the trial closes.

Lock order, for every writer here: the application row, the trial row, then the programme row
(inside the ledger functions), then the audit chain — the same order as the applications module,
so concurrent writers queue instead of deadlocking.  Ledger calls therefore come before any
audit event or state transition of the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voucher.access import BUREAU, can, require
from voucher.applications import services as applications
from voucher.applications.models import BASELINE_MAX, TrialApplication
from voucher.audit.services import Actor, record_event
from voucher.auth.models import User
from voucher.auth.policy import ensure_own_organisation
from voucher.calc import (
    EvaluationParams,
    IndicatorResult,
    ScoreResult,
    TrialScoreResult,
    indicator_improvements,
    overall_score,
    round_fen,
    round_to,
    trial_score,
)
from voucher.db import utcnow
from voucher.documents.models import StoredFile
from voucher.errors import N_, Conflict, Duplicate, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role, notify_users
from voucher.programmes import services as ledger
from voucher.programmes.models import Programme
from voucher.storage import save_upload
from voucher.trials.models import (
    ACCEPTANCE_STATES,
    ACTIVE_ASSIGNMENT_STATES,
    ASSIGNMENT_STATES,
    CRITERIA,
    INDICATOR_CODES,
    MILESTONE_KINDS,
    MILESTONE_STATES,
    RECOMMENDATIONS,
    TRIAL_STATES,
    Evaluation,
    EvaluatorAssignment,
    Milestone,
    Trial,
    TrialAcceptance,
)
from voucher.workflow import StateMachine, transition

SOURCE_TYPE = applications.SOURCE_TYPE  # the ledger's source of a trial voucher: the application
ZERO = Decimal("0.00")
NOTE_MAX = 2000
REASON_MAX = 2000
COMMENTS_MAX = 4000
AFTER_MAX = BASELINE_MAX
ONE_DECIMAL = Decimal("0.1")
SCOPE_MAX = 2000
# A final report confirmed more than this share of the trial period before the planned end date is an
# early finish: the enterprise gives the reason (a 90-day trial confirmed finished 28 or more days early).
EARLY_FINISH_PCT = 30


# The declaration an evaluator accepts before the form opens (stored as shown, with the time).
DECLARATION_TEXT = N_("I declare that I have no conflict of interest in this trial: I am not employed by, nor "
                      "related to, the provider or the enterprise, and I will evaluate the trial impartially.")

TRIAL_MACHINE = StateMachine("trial", TRIAL_STATES, (
    transition("start", "open", "running", "sme"),
    transition("complete", "running", "completed", "sme"),
    transition("evaluate", "completed", "evaluated", ("evaluator", "officer")),
    transition("close", "evaluated", "closed", "sme"),
    transition("cancel", "open", "cancelled", "officer", requires_reason=True),
))

# The trial's acceptance (验收), beside its status: each party accepts once, in either order.
ACCEPTANCE_MACHINE = StateMachine("trial", ACCEPTANCE_STATES, (
    transition("sme_accept", "pending", "sme_accepted", "sme"),
    transition("sme_accept", "provider_accepted", "accepted", "sme"),
    transition("provider_accept", "pending", "provider_accepted", "provider"),
    transition("provider_accept", "sme_accepted", "accepted", "provider"),
), state_attr="acceptance_status")

MILESTONE_MACHINE = StateMachine("milestone", MILESTONE_STATES, (
    transition("confirm", "reported", "confirmed", "sme"),
    transition("dispute", "reported", "disputed", "sme", requires_reason=True),
    transition("re_report", "disputed", "reported", "provider"),
))

ASSIGNMENT_MACHINE = StateMachine("evaluator_assignment", ASSIGNMENT_STATES, (
    transition("declare_no_conflict", "assigned", "cleared", "evaluator"),
    transition("declare_conflict", "assigned", "conflict", "evaluator", requires_reason=True),
    transition("submit", "cleared", "submitted", "evaluator"),
    transition("remove", ("assigned", "cleared"), "removed", "officer", requires_reason=True),
))


def trial_link(trial_id: int) -> str:
    """The trial page's path, for notifications (services build no URLs from a request)."""
    return f"/trials/{trial_id}"


def acceptance_link(trial_id: int) -> str:
    return f"/trials/{trial_id}/acceptance"


EVALUATIONS_LINK = "/trials/evaluations"
PAYMENT_QUEUE_LINK = "/payments/queue"
PAYABLE_MESSAGES = {
    "advance": N_("The advance of %(amount)s for the trial of %(solution)s (%(enterprise)s) is now due: prepare "
                  "the payment to %(provider)s once the grant's public notice period has ended."),
    "balance": N_("The balance of %(amount)s for the trial of %(solution)s (%(enterprise)s) is now due: prepare "
                  "the payment to %(provider)s once the grant's public notice period has ended."),
}


def notify_finance_payable(trial: Trial, milestone: str, amount: Decimal) -> None:
    """Tell every finance officer that a trial payment has become due (the queue then shows it)."""
    notify_role("finance", PAYABLE_MESSAGES[milestone], PAYMENT_QUEUE_LINK, amount=format_money(amount),
                solution=trial.solution.title, application_number=trial.application.number,
                enterprise=trial.enterprise.name, provider=trial.provider.name)


def evaluation_params(programme: Programme) -> EvaluationParams:
    """The programme's criterion weights and pass / remarkable marks, for the calculations."""
    return EvaluationParams(
        weights={"effect": programme.weight_effect, "quality": programme.weight_quality,
                 "service": programme.weight_service, "cost_effectiveness": programme.weight_cost_effectiveness,
                 "replicability": programme.weight_replicability},
        pass_score=programme.pass_score, remarkable_score=programme.remarkable_score)


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


# --- reading and access ----------------------------------------------------------------------

def _get(trial_id: int) -> Trial:
    trial = db.session.get(Trial, trial_id)
    if trial is None:
        raise NotFound("No such trial.")
    return trial


def _lock(trial_id: int) -> Trial:
    """The trial's application row, then the trial row, locked for the rest of the transaction."""
    application_id = db.session.scalar(select(Trial.application_id).where(Trial.id == trial_id))
    if application_id is None:
        raise NotFound("No such trial.")
    db.session.scalar(select(TrialApplication).where(TrialApplication.id == application_id).with_for_update()
                      .execution_options(populate_existing=True))
    return db.session.scalar(select(Trial).where(Trial.id == trial_id).with_for_update()
                             .execution_options(populate_existing=True))


def assignments(trial_id: int) -> list[EvaluatorAssignment]:
    return list(db.session.scalars(select(EvaluatorAssignment).where(EvaluatorAssignment.trial_id == trial_id)
                                   .order_by(EvaluatorAssignment.id)))


def assignment_of(actor: Actor, trial_id: int) -> EvaluatorAssignment | None:
    """The actor's latest assignment to the trial (any state), or None."""
    return db.session.scalar(select(EvaluatorAssignment).where(EvaluatorAssignment.trial_id == trial_id,
                                                               EvaluatorAssignment.evaluator_id == actor.user_id)
                             .order_by(EvaluatorAssignment.id.desc()).limit(1))


def ensure_can_view(actor: Actor, trial: Trial) -> None:
    """Rule: the bureau's readers see every trial; an SME only its enterprise's, a provider only
    its own solutions'; an evaluator only a trial assigned to them and not one where they
    declared a conflict of interest (or were removed).  Anyone else: 403."""
    if can(actor, "trials.view", trial):  # the rule: voucher/trials/access.py
        return
    if actor.role in ("sme", "provider"):
        raise Forbidden("This belongs to another organisation.")
    if actor.role == "evaluator":
        assignment = assignment_of(actor, trial.id)
        if assignment is not None and assignment.status == "conflict":
            raise Forbidden("You declared a conflict of interest in this trial, so you cannot open or score it.")
        raise Forbidden("This trial is not assigned to you.")
    raise Forbidden("You may not see this trial.")


def get_trial(actor: Actor, trial_id: int) -> Trial:
    """The trial, if the actor may see it (see :func:`ensure_can_view`)."""
    trial = _get(trial_id)
    ensure_can_view(actor, trial)
    return trial


def trial_for_application(application_id: int) -> Trial | None:
    return db.session.scalar(select(Trial).where(Trial.application_id == application_id))


def milestones(trial_id: int) -> dict[str, Milestone]:
    """The trial's reported milestones by kind."""
    return {m.kind: m for m in db.session.scalars(select(Milestone).where(Milestone.trial_id == trial_id))}


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
    trial = _get(trial_id)
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


# --- opening the trial ------------------------------------------------------------------------

def open_trial_for(actor: Actor, application: TrialApplication) -> Trial:
    """Open the trial of an application that was just approved (called by the approval).

    Rule: one trial per application (a second call returns the first); the trial period and the
    approved (reserved) amount are copied; the provider's users are notified to report the kick-off.
    """
    existing = trial_for_application(application.id)
    if existing is not None:
        return existing
    if application.status != "approved":
        raise TransitionNotAllowed("A trial is opened only for an approved application.")
    solution = application.solution
    trial = Trial(application_id=application.id, programme_id=application.programme_id,
                  enterprise_id=application.enterprise_id, provider_id=application.provider_id,
                  solution_id=application.solution_id, status="open", period_days=solution.trial_period_days,
                  approved_amount=application.requested_amount)
    db.session.add(trial)
    db.session.flush()
    record_event(actor, "trial.open", "trial", trial.id,
                 after={"status": "open", "application_id": application.id, "period_days": trial.period_days,
                        "approved_amount": trial.approved_amount})
    notify_organisation(application.provider_id,
                        N_("The trial of %(solution)s for %(enterprise)s was approved: report the kick-off when "
                           "the trial starts."), trial_link(trial.id), solution=solution.title,
                        application_number=application.number,
                        enterprise=application.enterprise.name)
    return trial


def cancel_trial_for(actor: Actor, application: TrialApplication, reason: str) -> Trial | None:
    """Cancel the trial of an application whose approval was just cancelled (called by the
    cancellation).

    Rule: only a trial whose kick-off the enterprise has not confirmed (``open``) can go with its
    approval; the provider's users are told that the trial will not take place.  An application
    without a trial has nothing to cancel.
    """
    # The caller holds the application's lock (taken before the trial's, as everywhere): read fresh.
    trial = db.session.scalar(select(Trial).where(Trial.application_id == application.id).with_for_update()
                              .execution_options(populate_existing=True))
    if trial is None:
        return None
    TRIAL_MACHINE.apply(trial, "cancel", actor, reason=reason, details={"application_id": application.id})
    notify_organisation(trial.provider_id,
                        N_("The approval of the trial of %(solution)s for %(enterprise)s was cancelled: the trial "
                           "will not take place. Reason: %(reason)s"), trial_link(trial.id),
                        solution=application.solution.title, application_number=application.number,
                        enterprise=application.enterprise.name, reason=reason)
    return trial


# --- milestones -------------------------------------------------------------------------------

def _ensure_provider(actor: Actor, trial: Trial) -> None:
    require(actor, "trials.report_milestone", message="Only the provider's users report trial milestones.")
    ensure_own_organisation(actor, trial.provider_id)


def _ensure_enterprise(actor: Actor, trial: Trial) -> None:
    require(actor, "trials.confirm_milestone",
            message="Only the enterprise's users confirm milestones and record the adoption decision.")
    ensure_own_organisation(actor, trial.enterprise_id)


def _ensure_officer(actor: Actor) -> None:
    require(actor, "trials.manage", message="Only a programme officer may do this.")


def _ensure_live(trial: Trial) -> None:
    if trial.status == "cancelled" or trial.application.status == "cancelled":
        raise TransitionNotAllowed("The approval of this trial's application was cancelled.")


def _clean_text(value: str | None, field_name: str, missing: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(missing, field=field_name)
    if len(text) > limit:
        raise ValidationFailed("At most %(max)s characters.", field=field_name, max=limit)
    return text


def next_reportable(trial: Trial, reported: dict[str, Milestone]) -> str | None:
    """The milestone the provider may report now: the first not yet reported, once every earlier
    one is confirmed (None while one waits for the enterprise, or when all are done)."""
    if trial.status not in ("open", "running"):
        return None
    for kind in MILESTONE_KINDS:
        m = reported.get(kind)
        if m is None:
            return kind
        if m.status != "confirmed":
            return None
    return None


@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str
    max_bytes: int


def report_milestone(actor: Actor, trial_id: int, kind: str, note: str, upload: Upload | None = None) -> Milestone:
    """The provider reports a milestone (or reports a disputed one again).

    Rule: only the provider's own users; milestones in order (kick-off, deployed, in use, final
    report), each only after the previous one is confirmed by the enterprise; a note is
    required, a file is optional (PDF, JPEG or PNG); a milestone already reported and not
    disputed cannot be reported again.  The enterprise's users are notified.
    """
    trial = _lock(trial_id)
    _ensure_provider(actor, trial)
    if kind not in MILESTONE_KINDS:
        raise NotFound("No such milestone.")
    _ensure_live(trial)
    reported = milestones(trial.id)
    existing = reported.get(kind)
    if existing is not None and existing.status != "disputed":
        raise Conflict("This milestone was already reported; the enterprise confirms or disputes it.")
    if existing is None and next_reportable(trial, reported) != kind:
        raise Conflict("Milestones are reported in order (kick-off, deployed, in use, final report), each after "
                       "the enterprise has confirmed the previous one.")
    note = _clean_text(note, "note", "Describe what was done: a note is required.", NOTE_MAX)
    stored: StoredFile | None = None
    if upload is not None:
        stored = save_upload(actor, upload.stream, upload.filename, max_bytes=upload.max_bytes, owner_type="milestone", owner_id=None,
                             purpose="milestone_evidence", field="file")
    file_facts = {"file_id": stored.id, "file_name": stored.original_name, "sha256": stored.sha256} if stored else {}
    if existing is None:
        milestone = Milestone(trial_id=trial.id, kind=kind, seq=MILESTONE_KINDS.index(kind) + 1, status="reported",
                              note=note, file_id=stored.id if stored else None, reported_by=actor.user_id,
                              reported_at=utcnow(), report_count=1)
        db.session.add(milestone)
        db.session.flush()
        record_event(actor, "milestone.report", "milestone", milestone.id,
                     after={"trial_id": trial.id, "kind": kind, "status": "reported", "note": note, **file_facts})
    else:
        milestone = existing
        MILESTONE_MACHINE.apply(milestone, "re_report", actor,
                                details={"trial_id": trial.id, "kind": kind, "note": note, **file_facts})
        milestone.note = note
        milestone.file_id = stored.id if stored else None
        milestone.reported_by = actor.user_id
        milestone.reported_at = utcnow()
        milestone.report_count += 1
        milestone.decided_by = None
        milestone.decided_at = None
    if stored is not None:
        stored.owner_id = milestone.id
    db.session.flush()
    notify_organisation(trial.enterprise_id,
                        N_("The provider reported a milestone of the trial of %(solution)s: please confirm or "
                           "dispute it."), trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
    return milestone


def _reported_milestone(trial: Trial, kind: str) -> Milestone:
    if kind not in MILESTONE_KINDS:
        raise NotFound("No such milestone.")
    milestone = milestones(trial.id).get(kind)
    if milestone is None:
        raise TransitionNotAllowed("This milestone has not been reported yet.")
    return milestone


def advance_preview(trial: Trial) -> tuple[Decimal, Decimal]:
    """The advance percentage and amount the kick-off confirmation would fix now (programme
    ``advance_pct`` of the approved amount, rounded to the fen half-up): what the page shows."""
    if trial.advance_pct is not None and trial.advance_amount is not None:
        return trial.advance_pct, trial.advance_amount
    pct = trial.programme.advance_pct
    return pct, round_fen(trial.approved_amount * pct / 100)


def early_finish_days(trial: Trial, day: date) -> int | None:
    """Rule: confirming the final report on ``day`` is an early finish when the planned end date is
    more than ``EARLY_FINISH_PCT`` % of the trial period away; the days early then, else None."""
    if trial.end_date is None or not trial.period_days:
        return None
    days = (trial.end_date - day).days
    if days * 100 > EARLY_FINISH_PCT * trial.period_days:
        return days
    return None


def confirm_milestone(actor: Actor, trial_id: int, kind: str, today: date | None = None,
                      early_reason: str | None = None, expected_advance: Decimal | None = None) -> Milestone:
    """The enterprise confirms a reported milestone.

    Rule: only the enterprise's own SME users, only a milestone that is reported (not yet
    confirmed or disputed).  Confirming the kick-off starts the trial: start date = today, end
    date = start + the trial period, the advance (programme ``advance_pct`` of the approved
    amount, rounded to the fen; the percentage is stored on the trial) becomes payable to the
    provider — when the page showed an amount (``expected_advance``) and the programme's
    percentage changed since, the confirmation is refused with the new amount; confirming the
    final report completes the trial and the officers are asked to assign evaluators.  A final
    report confirmed early (:func:`early_finish_days`) needs a reason (stored on the trial, in the
    audit trail and in the officers' notification).
    """
    trial = _lock(trial_id)
    _ensure_enterprise(actor, trial)
    _ensure_live(trial)
    milestone = _reported_milestone(trial, kind)
    day = today or applications.local_today()
    early_days = early_finish_days(trial, day) if kind == "final_report" and milestone.status == "reported" else None
    reason = None
    if early_days is not None:
        reason = (early_reason or "").strip()
        if not reason:
            raise ValidationFailed("The trial is planned to end on %(end)s: confirming it finished today is %(days)s "
                                   "days early (more than %(pct)s%% of the %(period)s-day trial period). Give the "
                                   "reason for finishing early.", field="early_reason", end=trial.end_date.isoformat(),
                                   days=early_days, pct=EARLY_FINISH_PCT, period=trial.period_days)
        if len(reason) > REASON_MAX:
            raise ValidationFailed("At most %(max)s characters.", field="early_reason", max=REASON_MAX)
    if kind == "kickoff" and expected_advance is not None and milestone.status == "reported":
        _pct, advance_now = advance_preview(trial)
        if advance_now != expected_advance:
            raise Conflict("The advance is now %(amount)s (the programme's advance percentage changed): read the "
                           "amount again before confirming.", amount=format_money(advance_now))
    MILESTONE_MACHINE.apply(milestone, "confirm", actor, details={"trial_id": trial.id, "kind": kind})
    milestone.decided_by = actor.user_id
    milestone.decided_at = utcnow()
    application = trial.application
    if kind == "kickoff":
        # The percentage is stored with the amounts: documents explain the split with it, never
        # with the programme's parameter of the day they are printed.
        trial.advance_pct = trial.programme.advance_pct
        advance = round_fen(trial.approved_amount * trial.advance_pct / 100)
        trial.start_date = day
        trial.end_date = day + timedelta(days=trial.period_days)
        trial.advance_amount = advance
        trial.balance_amount = trial.approved_amount - advance
        TRIAL_MACHINE.apply(trial, "start", actor,
                            details={"start_date": trial.start_date, "end_date": trial.end_date,
                                     "advance_pct": trial.advance_pct, "advance_payable": advance,
                                     "balance": trial.balance_amount})
        applications.MACHINE.apply(application, "start_trial", actor, details={"trial_id": trial.id})
    elif kind == "final_report":
        trial.completed_at = utcnow()
        trial.early_finish_days = early_days
        trial.early_finish_reason = reason
        details = {"early_finish_days": early_days} if early_days is not None else None
        TRIAL_MACHINE.apply(trial, "complete", actor, reason=reason, details=details)
        applications.MACHINE.apply(application, "complete_trial", actor, details={"trial_id": trial.id})
    db.session.flush()
    if kind == "final_report":
        if early_days is not None:
            notify_role("officer", N_("The trial of %(solution)s for %(enterprise)s is completed, %(days)s days before "
                                      "its planned end (reason: %(reason)s): assign evaluators."),
                        trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number, enterprise=trial.enterprise.name,
                        days=early_days, reason=reason)
        else:
            notify_role("officer", N_("The trial of %(solution)s for %(enterprise)s is completed: assign evaluators."),
                        trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number, enterprise=trial.enterprise.name)
        for org_id in (trial.enterprise_id, trial.provider_id):
            notify_organisation(org_id, N_("The trial of %(solution)s is completed: confirm the delivered scope "
                                           "against the application (acceptance). The balance is paid only after "
                                           "the enterprise and the provider have both accepted and the evaluation "
                                           "passed."), acceptance_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
    else:
        if kind == "kickoff":
            notify_finance_payable(trial, "advance", trial.advance_amount)
        notify_organisation(trial.provider_id,
                            N_("The enterprise confirmed a milestone of the trial of %(solution)s: report the next "
                               "one when it is reached."), trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
    return milestone


def dispute_milestone(actor: Actor, trial_id: int, kind: str, reason: str) -> Milestone:
    """The enterprise disputes a reported milestone.

    Rule: only the enterprise's own SME users, only a reported milestone, and a reason is
    required (shown to the provider, who reports it again).  The provider's users are notified.
    """
    trial = _lock(trial_id)
    _ensure_enterprise(actor, trial)
    _ensure_live(trial)
    milestone = _reported_milestone(trial, kind)
    reason = _clean_text(reason, "reason", "A reason is required.", REASON_MAX)
    MILESTONE_MACHINE.apply(milestone, "dispute", actor, reason=reason, details={"trial_id": trial.id, "kind": kind})
    milestone.dispute_reason = reason
    milestone.decided_by = actor.user_id
    milestone.decided_at = utcnow()
    db.session.flush()
    notify_organisation(trial.provider_id,
                        N_("The enterprise disputed a milestone of the trial of %(solution)s: %(reason)s"),
                        trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number, reason=reason)
    return milestone


def milestone_file(actor: Actor, trial_id: int, milestone_id: int) -> StoredFile:
    """Rule: a milestone's file is given only to those who may see the trial (403 otherwise)."""
    trial = get_trial(actor, trial_id)
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.trial_id != trial.id or milestone.file_id is None:
        raise NotFound("No such file.")
    return db.session.get(StoredFile, milestone.file_id)


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
    trial = _lock(trial_id)
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
    trial = _lock(trial_id)
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
    reason = _clean_text(reason, "reason", "Describe the conflict of interest.", REASON_MAX)
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
    trial = _lock(trial_id)
    assignment = db.session.get(EvaluatorAssignment, assignment_id)
    if assignment is None or assignment.trial_id != trial.id:
        raise NotFound("No such assignment.")
    reason = _clean_text(reason, "reason", "A reason is required.", REASON_MAX)
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
        elif value > AFTER_MAX:
            errors[name] = N_("The post-trial value can be at most %(max)s.")
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
    params = evaluation_params(trial.programme)
    trial.pass_score, trial.remarkable_score = params.pass_score, params.remarkable_score  # the marks decided with
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
    trial = _lock(trial_id)
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


# --- acceptance (验收) -------------------------------------------------------------------------

@dataclass(frozen=True)
class ChecklistItem:
    """One item of the acceptance checklist: a code and its English template with parameters (the
    page translates it; the form stores it as shown)."""

    code: str
    template: str
    params: dict


CHECKLIST_TEMPLATES = {
    "solution": N_("The solution applied for, %(solution)s, was delivered and works at the enterprise."),
    "milestones": N_("The four milestones (kick-off, deployed, in use, final report) were delivered as reported and "
                     "confirmed."),
    "need": N_("The need stated in the application was addressed: %(need)s"),
    "indicator": N_("The figure \"%(indicator)s\" (baseline %(baseline)s in the application) can be measured after "
                    "the trial."),
}


def acceptance_checklist(trial: Trial) -> list[ChecklistItem]:
    """The checklist of the delivered scope, from the application: the solution, the milestones, the
    need statement, and each baseline indicator the application gave."""
    from voucher.calc import INDICATORS

    application = trial.application
    need = (application.need_statement or "").strip()
    if len(need) > 120:
        need = need[:120] + "…"
    items = [ChecklistItem("solution", CHECKLIST_TEMPLATES["solution"], {"solution": trial.solution.title}),
             ChecklistItem("milestones", CHECKLIST_TEMPLATES["milestones"], {}),
             ChecklistItem("need", CHECKLIST_TEMPLATES["need"], {"need": need})]
    baselines = application.baselines
    for ind in INDICATORS:
        value = baselines.get(ind.code)
        if value is not None:
            items.append(ChecklistItem(f"indicator:{ind.code}", CHECKLIST_TEMPLATES["indicator"],
                                       {"indicator": ind.code, "baseline": str(value)}))
    return items


def acceptances(trial_id: int) -> dict[str, TrialAcceptance]:
    """The trial's acceptance forms by party."""
    return {a.party: a for a in db.session.scalars(select(TrialAcceptance).where(TrialAcceptance.trial_id == trial_id))}


def party_of(actor: Actor, trial: Trial) -> str:
    """Rule: the enterprise's SME users accept for the enterprise, the provider's users for the
    provider; anyone else (another organisation, another role) may not: 403."""
    if actor.role == "sme":
        ensure_own_organisation(actor, trial.enterprise_id)
        return "sme"
    if actor.role == "provider":
        ensure_own_organisation(actor, trial.provider_id)
        return "provider"
    raise Forbidden("Only the enterprise's and the provider's users accept the delivered scope.")


def acceptance_open(trial: Trial) -> bool:
    """The delivered scope can be accepted: the final report is confirmed, the approval stands and
    the evaluation did not fail."""
    return (trial.status in ("completed", "evaluated", "closed") and trial.application.status != "cancelled"
            and trial.outcome != "failed")


@dataclass(frozen=True)
class AcceptanceInput:
    delivered_scope: str
    ticked: frozenset[str]
    upload: Upload | None = None


def record_acceptance(actor: Actor, trial_id: int, data: AcceptanceInput) -> TrialAcceptance:
    """The enterprise or the provider confirms the delivered scope against the application.

    Rule: only the trial's enterprise (SME users) or provider (its users), each party once (a
    second form: 409); after the final report is confirmed and not after a failed evaluation; the
    delivered scope in words (required, at most 2000 characters) and every checklist item ticked
    (each one not ticked is named); an attachment (the signed acceptance report) is optional: PDF,
    JPEG or PNG.  Through the trial's acceptance machine (audited, with the form's facts); when the
    second party accepts, ``accepted_at`` is set and, if the evaluation passed, the balance becomes
    payable (the finance officers are told).  The other party is notified.
    """
    trial = _lock(trial_id)
    party = party_of(actor, trial)
    _ensure_live(trial)
    if trial.outcome == "failed":
        raise TransitionNotAllowed("The trial did not pass its effect evaluation: the balance was released, there is "
                                   "nothing to accept.")
    if trial.status not in ("completed", "evaluated", "closed"):
        raise TransitionNotAllowed("The delivered scope is accepted once the enterprise has confirmed the final "
                                   "report.")
    if party in acceptances(trial.id):
        raise Conflict("Your organisation has already accepted the delivered scope of this trial.")
    errors: dict[str, str] = {}
    scope = (data.delivered_scope or "").strip()
    if not scope:
        errors["delivered_scope"] = N_("Describe the scope delivered: what was installed, set up and handed over.")
    elif len(scope) > SCOPE_MAX:
        errors["delivered_scope"] = N_("At most %(max)s characters.")
    items = acceptance_checklist(trial)
    missing = [i for i in items if i.code not in data.ticked]
    if missing:
        errors["checklist"] = N_("Tick every item that was delivered; the acceptance confirms all of them (%(n)s not "
                                 "ticked). If something was not delivered, do not accept: contact the other party.")
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors, max=SCOPE_MAX, n=len(missing))
    stored: StoredFile | None = None
    if data.upload is not None:
        stored = save_upload(actor, data.upload.stream, data.upload.filename,
                             max_bytes=data.upload.max_bytes, owner_type="trial_acceptance", owner_id=None,
                             purpose="acceptance_report", field="file")
    checklist = [{"code": i.code, "template": i.template, "params": i.params, "ticked": True} for i in items]
    form = TrialAcceptance(trial_id=trial.id, party=party, delivered_scope=scope, checklist=checklist,
                           file_id=stored.id if stored else None, confirmed_by=actor.user_id, confirmed_at=utcnow())
    db.session.add(form)
    db.session.flush()
    if stored is not None:
        stored.owner_id = form.id
    facts = {"acceptance_id": form.id, "party": party, "delivered_scope": scope,
             "checklist": [i.code for i in items]}
    if stored is not None:
        facts.update({"file_id": stored.id, "file_name": stored.original_name, "sha256": stored.sha256})
    ACCEPTANCE_MACHINE.apply(trial, f"{party}_accept", actor, details=facts)
    both = trial.acceptance_status == "accepted"
    if both:
        trial.accepted_at = utcnow()
    db.session.flush()
    other = trial.provider_id if party == "sme" else trial.enterprise_id
    if both:
        message = N_("The enterprise and the provider have both accepted the delivered scope of the trial of "
                     "%(solution)s.")
        notify_organisation(other, message, acceptance_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
        if trial.outcome == "passed" and trial.balance_amount:
            notify_finance_payable(trial, "balance", trial.balance_amount)
    elif party == "sme":
        notify_organisation(other, N_("The enterprise accepted the delivered scope of the trial of %(solution)s: "
                                      "confirm it on your side; the balance is paid after both acceptances and a "
                                      "passed evaluation."), acceptance_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
    else:
        notify_organisation(other, N_("The provider confirmed the delivered scope of the trial of %(solution)s: "
                                      "check it against your application and accept it; the balance is paid after "
                                      "both acceptances and a passed evaluation."), acceptance_link(trial.id),
                            solution=trial.solution.title,
                application_number=trial.application.number)
    return form


def acceptance_file(actor: Actor, trial_id: int, acceptance_id: int) -> StoredFile:
    """Rule: an acceptance form's attachment is given only to those who may see the trial (403)."""
    trial = get_trial(actor, trial_id)
    form = db.session.get(TrialAcceptance, acceptance_id)
    if form is None or form.trial_id != trial.id or form.file_id is None:
        raise NotFound("No such file.")
    return db.session.get(StoredFile, form.file_id)


# --- adoption ---------------------------------------------------------------------------------

def record_adoption(actor: Actor, trial_id: int, adopted: bool | None, reason: str) -> Trial:
    """The enterprise records whether it will pay to keep using the solution, and why.

    Rule: only the enterprise's own SME users, once, after the evaluation result is recorded;
    yes or no and a reason are required.  The trial and its application are closed.
    """
    trial = _lock(trial_id)
    _ensure_enterprise(actor, trial)
    if trial.status != "evaluated":
        raise TransitionNotAllowed("The adoption decision is recorded once, after the evaluation result.")
    if adopted is None:
        raise ValidationFailed("Choose yes or no.", field="adopted")
    reason = _clean_text(reason, "reason", "Explain the decision.", REASON_MAX)
    TRIAL_MACHINE.apply(trial, "close", actor, reason=reason, details={"adopted": adopted})
    applications.MACHINE.apply(trial.application, "close", actor, reason=reason, details={"adopted": adopted})
    trial.adopted = adopted
    trial.adoption_reason = reason
    trial.adoption_recorded_at = utcnow()
    trial.adoption_recorded_by = actor.user_id
    db.session.flush()
    notify_organisation(trial.provider_id,
                        N_("The enterprise recorded its adoption decision on the trial of %(solution)s."),
                        trial_link(trial.id), solution=trial.solution.title,
                application_number=trial.application.number)
    return trial


__all__ = ["AcceptanceInput", "DECLARATION_TEXT", "EvaluationInput", "Submitted", "Upload", "acceptance_checklist",
           "assign_evaluator", "confirm_milestone", "record_acceptance",
           "declare_conflict", "declare_no_conflict", "dispute_milestone", "get_evaluation", "get_trial",
           "open_trial_for", "record_adoption", "record_result", "remove_assignment", "report_milestone",
           "submit_evaluation"]
