"""Milestones: the provider reports kick-off, deployed, in use and final report in that order, the
enterprise confirms or disputes each (domain section 3).

Confirming the kick-off starts the trial (dates, the advance becomes payable); confirming the final
report completes it (an early finish needs the enterprise's reason).  Services only flush.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from voucher.access import require
from voucher.applications import services as applications
from voucher.audit.services import Actor, record_event
from voucher.auth.policy import ensure_own_organisation
from voucher.calc import (
    round_fen,
)
from voucher.db import utcnow
from voucher.documents.models import StoredFile
from voucher.errors import N_, Conflict, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role
from voucher.storage import save_upload
from voucher.trials.common import (
    REASON_MAX,
    TRIAL_MACHINE,
    Upload,
    acceptance_link,
    clean_text,
    ensure_enterprise,
    ensure_live,
    get_trial,
    lock_trial,
    notify_finance_payable,
    trial_link,
)
from voucher.trials.models import (
    MILESTONE_KINDS,
    MILESTONE_STATES,
    Milestone,
    Trial,
)
from voucher.workflow import StateMachine, transition

NOTE_MAX = 2000
# A final report confirmed more than this share of the trial period before the planned end date is an
# early finish: the enterprise gives the reason (a 90-day trial confirmed finished 28 or more days early).
EARLY_FINISH_PCT = 30

MILESTONE_MACHINE = StateMachine("milestone", MILESTONE_STATES, (
    transition("confirm", "reported", "confirmed", "sme"),
    transition("dispute", "reported", "disputed", "sme", requires_reason=True),
    transition("re_report", "disputed", "reported", "provider"),
))


def milestones(trial_id: int) -> dict[str, Milestone]:
    """The trial's reported milestones by kind."""
    return {m.kind: m for m in db.session.scalars(select(Milestone).where(Milestone.trial_id == trial_id))}


def _ensure_provider(actor: Actor, trial: Trial) -> None:
    require(actor, "trials.report_milestone", message="Only the provider's users report trial milestones.")
    ensure_own_organisation(actor, trial.provider_id)



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



def report_milestone(actor: Actor, trial_id: int, kind: str, note: str, upload: Upload | None = None) -> Milestone:
    """The provider reports a milestone (or reports a disputed one again).

    Rule: only the provider's own users; milestones in order (kick-off, deployed, in use, final
    report), each only after the previous one is confirmed by the enterprise; a note is
    required, a file is optional (PDF, JPEG or PNG); a milestone already reported and not
    disputed cannot be reported again.  The enterprise's users are notified.
    """
    trial = lock_trial(trial_id)
    _ensure_provider(actor, trial)
    if kind not in MILESTONE_KINDS:
        raise NotFound("No such milestone.")
    ensure_live(trial)
    reported = milestones(trial.id)
    existing = reported.get(kind)
    if existing is not None and existing.status != "disputed":
        raise Conflict("This milestone was already reported; the enterprise confirms or disputes it.")
    if existing is None and next_reportable(trial, reported) != kind:
        raise Conflict("Milestones are reported in order (kick-off, deployed, in use, final report), each after "
                       "the enterprise has confirmed the previous one.")
    note = clean_text(note, "note", "Describe what was done: a note is required.", NOTE_MAX)
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
    pct = applications.approval_parameters(trial.application)["advance_pct"]  # the approval's rule version
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
    trial = lock_trial(trial_id)
    ensure_enterprise(actor, trial)
    ensure_live(trial)
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
        trial.advance_pct = applications.approval_parameters(application)["advance_pct"]  # approval's version
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
    trial = lock_trial(trial_id)
    ensure_enterprise(actor, trial)
    ensure_live(trial)
    milestone = _reported_milestone(trial, kind)
    reason = clean_text(reason, "reason", "A reason is required.", REASON_MAX)
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


