"""Trials, milestones, evaluator assignments, effect evaluations and the adoption decision.

This module is the public face of the trials services: it holds opening and cancelling a trial
with its application's approval, the acceptance (验收) and the adoption decision, and re-exports
(``__all__``) the services of :mod:`voucher.trials.milestones` (reporting and confirming
milestones) and :mod:`voucher.trials.evaluations` (evaluators, the evaluation form, the result);
what they share (the trial's state machine, reading and access, locks) is in
:mod:`voucher.trials.common`.  The ranking and the catalogue's figures are read in
:mod:`voucher.trials.recommendation`.

Plain arguments and an :class:`Actor` in, domain exceptions out; services only flush (the
request commits).  The rules (domain sections 3, 4 and 7):

* a trial is opened when its application is approved (:func:`open_trial_for`, which follows the
  approval the applications module publishes: :func:`register`); the provider's users report the milestones kick-off, deployed, in use and final
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

from sqlalchemy import select

from voucher.applications import services as applications
from voucher.applications.models import TrialApplication
from voucher.audit.services import Actor, record_event
from voucher.auth.policy import ensure_own_organisation
from voucher.db import utcnow
from voucher.documents.models import StoredFile
from voucher.errors import N_, Conflict, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.notifications.services import notify_organisation
from voucher.storage import save_upload
from voucher.trials.common import (
    REASON_MAX,
    SOURCE_TYPE,
    TRIAL_MACHINE,
    Upload,
    acceptance_link,
    assignment_of,
    clean_text,
    ensure_can_view,
    ensure_enterprise,
    ensure_live,
    get_trial,
    lock_trial,
    notify_finance_payable,
    trial_for_application,
    trial_link,
)
from voucher.trials.evaluations import (
    AFTER_MAX,
    ASSIGNMENT_MACHINE,
    COMMENTS_MAX,
    DECLARATION_TEXT,
    EvaluationInput,
    Submitted,
    assign_evaluator,
    assignments,
    can_see_comments,
    declare_conflict,
    declare_no_conflict,
    evaluation_params,
    evaluator_assignment,
    evaluator_choices,
    form_params,
    get_evaluation,
    improvements_for,
    latest_evaluations,
    preview_evaluation,
    record_result,
    remove_assignment,
    submit_evaluation,
)
from voucher.trials.milestones import (
    EARLY_FINISH_PCT,
    MILESTONE_MACHINE,
    NOTE_MAX,
    advance_preview,
    confirm_milestone,
    dispute_milestone,
    early_finish_days,
    milestone_file,
    milestones,
    next_reportable,
    report_milestone,
)
from voucher.trials.models import (
    ACCEPTANCE_STATES,
    Trial,
    TrialAcceptance,
)
from voucher.workflow import StateMachine, transition

SCOPE_MAX = 2000

# The trial's acceptance (验收), beside its status: each party accepts once, in either order.
ACCEPTANCE_MACHINE = StateMachine("trial", ACCEPTANCE_STATES, (
    transition("sme_accept", "pending", "sme_accepted", "sme"),
    transition("sme_accept", "provider_accepted", "accepted", "sme"),
    transition("provider_accept", "pending", "provider_accepted", "provider"),
    transition("provider_accept", "sme_accepted", "accepted", "provider"),
), state_attr="acceptance_status")


# --- opening the trial ------------------------------------------------------------------------

def open_trial_for(actor: Actor, application: TrialApplication) -> Trial:
    """Open the trial of an application that was just approved (on the published approval).

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
    """Cancel the trial of an application whose approval was just cancelled (on the published
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


def _on_approved(application: TrialApplication, actor: Actor) -> None:
    open_trial_for(actor, application)


def _on_approval_cancelled(application: TrialApplication, actor: Actor, reason: str) -> None:
    cancel_trial_for(actor, application, reason)


def register() -> None:
    """Follow the trial application's approval and its cancellation (``applications.MACHINE``).

    Rule: the applications module does not call the trials services; it publishes ``approve`` and
    ``cancel`` at the point where it used to call them (after the reservation or release, the
    transition and the decision, before telling the SME), and this opens or cancels the trial
    there, in the same transaction.  Idempotent (a second ``create_app`` subscribes nothing more).
    """
    applications.MACHINE.subscribe("approve", _on_approved)
    applications.MACHINE.subscribe("cancel", _on_approval_cancelled)


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
    """What a party enters to accept the delivered scope: the scope in words, the checklist codes ticked, an optional signed report."""

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
    trial = lock_trial(trial_id)
    party = party_of(actor, trial)
    ensure_live(trial)
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
    trial = lock_trial(trial_id)
    ensure_enterprise(actor, trial)
    if trial.status != "evaluated":
        raise TransitionNotAllowed("The adoption decision is recorded once, after the evaluation result.")
    if adopted is None:
        raise ValidationFailed("Choose yes or no.", field="adopted")
    reason = clean_text(reason, "reason", "Explain the decision.", REASON_MAX)
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


# The public face: every trials service is imported from here (views, API, demo, jobs, tests and
# other domains); the code is in common.py, milestones.py and evaluations.py beside this module.
# A test that replaces a function patches the module that defines it, not this re-export.
__all__ = [
    # this module: opening and cancelling, acceptance, adoption
    "ACCEPTANCE_MACHINE", "SCOPE_MAX", "AcceptanceInput", "ChecklistItem", "acceptance_checklist", "acceptance_file",
    "acceptance_open", "acceptances", "cancel_trial_for", "open_trial_for", "party_of", "record_acceptance",
    "record_adoption", "register",
    # common: the trial's machine, reading and access
    "REASON_MAX", "SOURCE_TYPE", "TRIAL_MACHINE", "Upload", "acceptance_link", "assignment_of", "ensure_can_view",
    "get_trial", "notify_finance_payable", "trial_for_application", "trial_link",
    # milestones
    "EARLY_FINISH_PCT", "MILESTONE_MACHINE", "NOTE_MAX", "advance_preview", "confirm_milestone", "dispute_milestone",
    "early_finish_days", "milestone_file", "milestones", "next_reportable", "report_milestone",
    # evaluators and the effect-evaluation form
    "AFTER_MAX", "ASSIGNMENT_MACHINE", "COMMENTS_MAX", "DECLARATION_TEXT", "EvaluationInput", "Submitted",
    "assign_evaluator", "assignments", "can_see_comments", "declare_conflict", "declare_no_conflict",
    "evaluation_params", "evaluator_assignment", "evaluator_choices", "form_params", "get_evaluation",
    "improvements_for", "latest_evaluations", "preview_evaluation", "record_result", "remove_assignment",
    "submit_evaluation",
]
