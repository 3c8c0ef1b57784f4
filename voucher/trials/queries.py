"""What the trial pages read, and what other modules ask of trials.

Lists load their rows with the application, solution, enterprise and provider joined in one
query (no N+1).  :func:`payable_items` is the disbursement module's question: which trial-voucher
milestones are payable and not yet paid.  The catalogue's figures and the ranking are in
:mod:`voucher.trials.recommendation`.

Over 600 lines, on purpose: every read of the trial pages, start-page cards and payment queue
(labels, lists, one trial, payable items and payment stages, counts, next steps) is here, section
by section, each small; splitting it further would scatter one page's reads over several modules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from voucher.applications.models import TrialApplication
from voucher.applications.services import local_today
from voucher.appnumbers import number_filter
from voucher.audit.models import AuditEvent
from voucher.auth.models import User
from voucher.catalogue.models import Solution
from voucher.db import contains_text
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.programmes.services import paid_milestones
from voucher.trials.models import (
    ACTIVE_ASSIGNMENT_STATES,
    MILESTONE_KINDS,
    TRIAL_STATES,
    Evaluation,
    EvaluatorAssignment,
    Milestone,
    Trial,
)
from voucher.trials.services import SOURCE_TYPE

# --- plain-language labels --------------------------------------------------------------------

STATUS_LABELS = {
    "open": _l("Waiting for the kick-off"),
    "running": _l("Trial running"),
    "completed": _l("Completed: waiting for the effect evaluation"),
    "evaluated": _l("Evaluated: waiting for the adoption decision"),
    # Not "closed": the enterprise may record its decision before the provider is paid (办结 is for after).
    "closed": _l("Adoption decision recorded"),
    "cancelled": _l("Approval cancelled"),
}
STATUS_BADGES = {"open": "info", "running": "primary", "completed": "warning", "evaluated": "success",
                 "closed": "secondary", "cancelled": "secondary"}

ACCEPTANCE_LABELS = {
    "pending": _l("Waiting for the enterprise's and the provider's acceptance"),
    "sme_accepted": _l("Accepted by the enterprise: waiting for the provider"),
    "provider_accepted": _l("Accepted by the provider: waiting for the enterprise"),
    "accepted": _l("Accepted by the enterprise and the provider"),
}
PARTY_LABELS = {"sme": _l("The enterprise"), "provider": _l("The provider")}

# Where each trial-voucher payment stands, as the enterprise and the provider see it.
PAYMENT_STAGE_LABELS = {
    "not_due_advance": _l("Due when the enterprise confirms the kick-off"),
    "not_due_balance": _l("Due after the acceptance by both parties and a passed evaluation"),
    "evaluation": _l("Awaiting the effect evaluation"),
    "acceptance_both": _l("Awaiting acceptance by the enterprise and the provider"),
    "acceptance_sme": _l("Awaiting acceptance by the enterprise"),
    "acceptance_provider": _l("Awaiting acceptance by the provider"),
    "released": _l("Not paid: the evaluation did not pass and the balance went back to the fund"),
    "cancelled": _l("Not paid: the approval was cancelled"),
    "notice": _l("Awaiting the public notice (公示) of the grant"),
    "notice_running": _l("On public notice until %(date)s: payable after it"),
    "objection": _l("Held: an objection to the public notice waits for the bureau's decision"),
    "payment": _l("Awaiting payment by the bureau"),
    "paid": _l("Paid"),
}
PAYMENT_STAGE_BADGES = {"paid": "success", "payment": "primary", "released": "secondary", "cancelled": "secondary",
                        "objection": "danger"}

MILESTONE_LABELS = {
    "kickoff": _l("Kick-off"),
    "deployed": _l("Deployed"),
    "in_use": _l("In use"),
    "final_report": _l("Final report"),
}
MILESTONE_STATUS_LABELS = {
    "reported": _l("Reported: waiting for the enterprise's confirmation"),
    "confirmed": _l("Confirmed by the enterprise"),
    "disputed": _l("Disputed: waiting for the provider to report it again"),
}
MILESTONE_BADGES = {"reported": "info", "confirmed": "success", "disputed": "danger"}

ASSIGNMENT_STATUS_LABELS = {
    "assigned": _l("Assigned: declaration of no conflict pending"),
    "cleared": _l("No conflict declared: form being filled in"),
    "conflict": _l("Declared a conflict of interest: cannot evaluate"),
    "submitted": _l("Form submitted"),
    "removed": _l("Removed by the officer"),
}

OUTCOME_LABELS = {"passed": _l("Passed"), "failed": _l("Not passed")}

RECOMMENDATION_LABELS = {
    "continue": _l("Continue using the solution"),
    "improve": _l("Continue after improvements"),
    "not_recommended": _l("Not recommended"),
}

CRITERION_LABELS = {
    "effect": _l("Effect"),
    "quality": _l("Quality and stability"),
    "service": _l("Service"),
    "cost_effectiveness": _l("Cost-effectiveness"),
    "replicability": _l("Replicability"),
}

# Why an improvement could not be computed (by the calculation's step code).
IMPROVEMENT_REASONS = {
    "evaluation.improvement.no_baseline": _l("No baseline in the application: the improvement is not computed."),
    "evaluation.improvement.zero_baseline": _l("The baseline is zero: the improvement cannot be expressed as a "
                                               "percentage."),
    "evaluation.improvement.no_after": _l("No post-trial value: the improvement is not computed."),
}

TIMELINE_LABELS = {
    "trial.open": _l("Trial opened after the approval"),
    "trial.start": _l("Kick-off confirmed: the trial started"),
    "trial.complete": _l("Final report confirmed: the trial is completed"),
    "trial.evaluate": _l("Evaluation result recorded"),
    "trial.rescore": _l("Trial score updated after a correction"),
    "trial.close": _l("Adoption decision recorded: the trial is closed"),
    "trial.sme_accept": _l("Delivered scope accepted by the enterprise"),
    "trial.provider_accept": _l("Delivered scope accepted by the provider"),
    "milestone.report": _l("Milestone reported by the provider"),
    "milestone.re_report": _l("Disputed milestone reported again"),
    "milestone.confirm": _l("Milestone confirmed by the enterprise"),
    "milestone.dispute": _l("Milestone disputed by the enterprise"),
    "evaluator_assignment.assign": _l("Evaluator assigned"),
    "evaluator_assignment.declare_no_conflict": _l("Evaluator declared no conflict of interest"),
    "evaluator_assignment.declare_conflict": _l("Evaluator declared a conflict of interest"),
    "evaluator_assignment.submit": _l("Evaluation form submitted"),
    "evaluator_assignment.correct": _l("Evaluation form corrected (new version)"),
    "evaluator_assignment.remove": _l("Evaluator removed"),
}


# --- lists ------------------------------------------------------------------------------------

def overdue_condition(today: date):
    """Past the end date and not completed."""
    return and_(Trial.status == "running", Trial.end_date < today)


@dataclass(frozen=True)
class TrialFilters:
    status: str | None = None
    overdue: bool = False
    provider_id: int | None = None
    q: str | None = None


def _trial_rows():
    ent = aliased(Organisation, name="ent_org")
    prov = aliased(Organisation, name="prov_org")
    stmt = (select(Trial)
            .join(TrialApplication, Trial.application)
            .join(Solution, Trial.solution)
            .join(ent, Trial.enterprise)
            .join(prov, Trial.provider)
            .options(contains_eager(Trial.application), contains_eager(Trial.solution),
                     contains_eager(Trial.enterprise.of_type(ent)), contains_eager(Trial.provider.of_type(prov))))
    return stmt, ent, prov


def _filtered(stmt, filters: TrialFilters, ent, prov, today: date):
    if filters.status in TRIAL_STATES:
        stmt = stmt.where(Trial.status == filters.status)
    if filters.overdue:
        stmt = stmt.where(overdue_condition(today))
    if filters.provider_id:
        stmt = stmt.where(Trial.provider_id == filters.provider_id)
    if filters.q:
        by_number = number_filter(TrialApplication, filters.q)
        if by_number is not None:
            return stmt.where(by_number)
        q = filters.q
        stmt = stmt.where(or_(contains_text(Solution.title, q), contains_text(ent.name, q), contains_text(prov.name, q)))
    return stmt


def trials_page(filters: TrialFilters, page: int, per_page: int, today: date | None = None):
    """Every trial (bureau view), overdue first, then the most recently opened."""
    today = today or local_today()
    stmt, ent, prov = _trial_rows()
    stmt = _filtered(stmt, filters, ent, prov, today)
    order = (case((overdue_condition(today), 0), else_=1), Trial.opened_at.desc(), Trial.id.desc())
    return db.paginate(stmt.order_by(*order), page=page, per_page=per_page, error_out=False)


def my_trials_page(*, provider_id: int | None = None, enterprise_id: int | None = None,
                   filters: TrialFilters = TrialFilters(), page: int = 1, per_page: int = 20,
                   today: date | None = None):
    """A provider's trials of its own solutions, or an enterprise's trials: never another's."""
    today = today or local_today()
    stmt, ent, prov = _trial_rows()
    if provider_id is not None:
        stmt = stmt.where(Trial.provider_id == provider_id)
    elif enterprise_id is not None:
        stmt = stmt.where(Trial.enterprise_id == enterprise_id)
    else:
        stmt = stmt.where(False)
    stmt = _filtered(stmt, TrialFilters(status=filters.status, overdue=filters.overdue, q=filters.q), ent, prov,
                     today)
    order = (case((overdue_condition(today), 0), else_=1), Trial.opened_at.desc(), Trial.id.desc())
    return db.paginate(stmt.order_by(*order), page=page, per_page=per_page, error_out=False)


def provider_choices() -> list[tuple[int, str]]:
    """Providers that have trials (the bureau list's filter)."""
    return list(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(select(Trial.provider_id)))
        .order_by(Organisation.name)).tuples())


def waiting_milestones(trial_ids: list[int]) -> dict[int, int]:
    """Per trial: milestones reported and waiting for the enterprise."""
    if not trial_ids:
        return {}
    rows = db.session.execute(select(Milestone.trial_id, func.count()).where(Milestone.trial_id.in_(trial_ids),
                                                                             Milestone.status == "reported")
                              .group_by(Milestone.trial_id))
    return {tid: n for tid, n in rows}


def evaluator_page(evaluator_id: int, page: int, per_page: int, show_all: bool = False):
    """The evaluator's assignments, those waiting for them first."""
    trial = contains_eager(EvaluatorAssignment.trial)
    stmt = (select(EvaluatorAssignment).join(Trial, EvaluatorAssignment.trial).join(Solution, Trial.solution)
            .join(TrialApplication, Trial.application)
            .options(trial.contains_eager(Trial.solution), trial.contains_eager(Trial.application))
            .where(EvaluatorAssignment.evaluator_id == evaluator_id))
    if not show_all:
        stmt = stmt.where(EvaluatorAssignment.status.in_(("assigned", "cleared")))
    order = (case((EvaluatorAssignment.status.in_(("assigned", "cleared")), 0), else_=1),
             EvaluatorAssignment.assigned_at.asc(), EvaluatorAssignment.id)
    return db.paginate(stmt.order_by(*order), page=page, per_page=per_page, error_out=False)


# --- one trial --------------------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str
    actor_label: str
    actor_role: str
    reason: str | None
    kind: str | None  # the milestone's kind, for milestone events


def timeline(trial: Trial, milestone_rows: list[Milestone], assignment_rows: list[EvaluatorAssignment]):
    """The trial's audit events with its milestones' and evaluator assignments', oldest first."""
    kinds = {str(m.id): m.kind for m in milestone_rows}
    conditions = [and_(AuditEvent.object_type == "trial", AuditEvent.object_id == str(trial.id))]
    if kinds:
        conditions.append(and_(AuditEvent.object_type == "milestone", AuditEvent.object_id.in_(list(kinds))))
    if assignment_rows:
        conditions.append(and_(AuditEvent.object_type == "evaluator_assignment",
                               AuditEvent.object_id.in_([str(a.id) for a in assignment_rows])))
    events = db.session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id))
    return [TimelineEntry(e.occurred_at, e.action, e.actor_label, e.actor_role, e.reason,
                          kinds.get(e.object_id) if e.object_type == "milestone" else None) for e in events]


def evaluations_of(trial_id: int) -> list[Evaluation]:
    """Every version of every form of the trial, with the evaluator loaded."""
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(select(Evaluation).options(selectinload(Evaluation.evaluator))
                                   .where(Evaluation.trial_id == trial_id)
                                   .order_by(Evaluation.assignment_id, Evaluation.version)))


def assignment_rows(trial_id: int) -> list[EvaluatorAssignment]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(select(EvaluatorAssignment).options(selectinload(EvaluatorAssignment.evaluator))
                                   .where(EvaluatorAssignment.trial_id == trial_id).order_by(EvaluatorAssignment.id)))


def trial_for_application(application_id: int) -> Trial | None:
    """The trial opened for an application, or None (the application's page links to it; the
    applications module reads it here, it does not call the trials services)."""
    return db.session.scalar(select(Trial).where(Trial.application_id == application_id))


# --- what the disbursement module asks --------------------------------------------------------

@dataclass(frozen=True)
class PayableItem:
    """One trial-voucher payment that is due and not yet paid.

    ``milestone`` is ``"advance"`` (due when the enterprise confirmed the kick-off) or
    ``"balance"`` (due when the effect evaluation passed and both parties accepted the delivery);
    ``amount`` is the trial's advance (approved amount × programme ``advance_pct`` / 100, rounded to
    the fen half-up, fixed at the kick-off) or the rest of the approved amount; the payee is the
    provider organisation.  Pay it with
    ``programmes.services.pay(actor, "trial_application", application_id, amount, milestone)``.
    """

    application_id: int
    trial_id: int
    programme_id: int
    milestone: str
    amount: Decimal
    payee_organisation_id: int
    due_since: date | datetime | None


def balance_due(trial: Trial) -> bool:
    """Rule: the balance is due once the evaluation passed *and* both the enterprise and the provider
    accepted the delivered scope (acceptance status ``accepted``); one of them alone is not enough."""
    return trial.outcome == "passed" and trial.acceptance_status == "accepted"


def balance_due_since(trial: Trial) -> datetime | None:
    """The later of the evaluation result and the second acceptance (the payment deadline runs from it)."""
    moments = [m for m in (trial.evaluated_at, trial.accepted_at) if m is not None]
    return max(moments) if moments else None


def payable_items(programme_id: int | None = None, application_id: int | None = None) -> list[PayableItem]:
    """Trial-voucher milestones payable and not yet paid (of one programme, or of all; of one
    application when ``application_id`` is given: preparing one payment reads only its trial).

    Contract: the advance of every trial whose kick-off the enterprise confirmed; the balance
    of every trial whose evaluation passed and whose delivered scope both the enterprise and the
    provider accepted (:func:`balance_due`); neither once the ledger holds a ``pay`` entry with
    that milestone for the application (so a milestone is never listed after being paid), and
    nothing for an application whose approval was cancelled.  Two queries, whatever the number
    of trials.  Nothing is paid here.
    """
    stmt = (select(Trial).join(TrialApplication, Trial.application)
            .where(Trial.start_date.is_not(None), Trial.advance_amount.is_not(None),
                   TrialApplication.status != "cancelled"))
    if programme_id is not None:
        stmt = stmt.where(Trial.programme_id == programme_id)
    if application_id is not None:
        stmt = stmt.where(Trial.application_id == application_id)
    trials = list(db.session.scalars(stmt.order_by(Trial.id)))
    if not trials:
        return []
    paid = paid_milestones(SOURCE_TYPE, [t.application_id for t in trials])
    items = []
    for t in trials:
        if (t.application_id, "advance") not in paid and t.advance_amount > 0:
            items.append(PayableItem(t.application_id, t.id, t.programme_id, "advance", t.advance_amount,
                                     t.provider_id, t.start_date))
        if balance_due(t) and (t.application_id, "balance") not in paid and t.balance_amount > 0:
            items.append(PayableItem(t.application_id, t.id, t.programme_id, "balance", t.balance_amount,
                                     t.provider_id, balance_due_since(t)))
    return items


@dataclass(frozen=True)
class PaymentStage:
    """Where one trial-voucher payment (advance or balance) stands."""

    milestone: str
    code: str
    amount: Decimal | None
    until: date | None = None

    @property
    def label(self) -> str:
        text = str(PAYMENT_STAGE_LABELS[self.code])
        return text % {"date": self.until.isoformat()} if self.until and "%(date)s" in text else text

    @property
    def badge(self) -> str:
        return PAYMENT_STAGE_BADGES.get(self.code, "warning")


def _acceptance_wait(trial: Trial) -> str:
    return {"pending": "acceptance_both", "sme_accepted": "acceptance_provider",
            "provider_accepted": "acceptance_sme"}[trial.acceptance_status]


def payment_stages(trials: list[Trial], today: date | None = None) -> dict[int, dict[str, PaymentStage]]:
    """Per trial, the stage of its advance and of its balance: not yet due (and what it waits for:
    the kick-off, the evaluation, the acceptance by the enterprise and/or the provider), released,
    awaiting the grant's public notice, held by an objection, awaiting payment (due, or prepared and
    on its way), paid.  A fixed number of queries, whatever the number of trials."""
    from voucher.payments.models import LIVE_STATES, Disbursement
    from voucher.payments.queries import hold_for, notice_states

    today = today or local_today()
    if not trials:
        return {}
    ids = [t.application_id for t in trials]
    paid = paid_milestones(SOURCE_TYPE, ids)
    live = set(db.session.execute(
        select(Disbursement.source_id, Disbursement.milestone)
        .where(Disbursement.source_type == SOURCE_TYPE, Disbursement.source_id.in_(ids),
               Disbursement.status.in_(LIVE_STATES))).tuples())
    notices = notice_states((SOURCE_TYPE, i) for i in ids)
    out: dict[int, dict[str, PaymentStage]] = {}
    for t in trials:
        hold, until = hold_for(notices.get((SOURCE_TYPE, t.application_id)), today)

        def due(milestone: str, amount, t=t, hold=hold, until=until) -> PaymentStage:
            if (t.application_id, milestone) in paid:
                return PaymentStage(milestone, "paid", amount)
            if (t.application_id, milestone) in live:
                return PaymentStage(milestone, "payment", amount)
            if hold == "not_announced":
                return PaymentStage(milestone, "notice", amount)
            if hold == "notice_running":
                return PaymentStage(milestone, "notice_running", amount, until)
            if hold in ("objection_open", "objection_upheld"):
                return PaymentStage(milestone, "objection", amount)
            return PaymentStage(milestone, "payment", amount)

        cancelled = t.application.status == "cancelled" or t.status == "cancelled"
        if t.advance_amount is None:
            advance = PaymentStage("advance", "cancelled" if cancelled else "not_due_advance", None)
        elif not t.advance_amount:
            advance = PaymentStage("advance", "paid", t.advance_amount)
        else:
            advance = due("advance", t.advance_amount)
        balance_amount = t.balance_amount
        if (t.application_id, "balance") in paid:
            balance = PaymentStage("balance", "paid", balance_amount)
        elif cancelled:
            balance = PaymentStage("balance", "cancelled", balance_amount)
        elif t.outcome == "failed":
            balance = PaymentStage("balance", "released", balance_amount)
        elif t.status in ("open", "running"):
            balance = PaymentStage("balance", "not_due_balance", balance_amount)
        elif t.acceptance_status != "accepted":
            balance = PaymentStage("balance", _acceptance_wait(t), balance_amount)
        elif t.outcome is None:
            balance = PaymentStage("balance", "evaluation", balance_amount)
        elif not balance_amount:
            balance = PaymentStage("balance", "paid", balance_amount)
        else:
            balance = due("balance", balance_amount)
        out[t.id] = {"advance": advance, "balance": balance}
    return out


def sme_next_step(trial: Trial, stages: dict[str, PaymentStage], reported: dict[str, Milestone],
                  own_accepted: bool) -> str:
    """What the enterprise does next, or what happens next when nothing waits for it: never "closed,
    nothing to do" while the provider has not been paid."""
    waiting = [m for m in reported.values() if m.status == "reported"]
    if waiting:
        return str(_l("The provider reported a milestone: confirm it or dispute it with a reason."))
    if trial.status == "open":
        return str(_l("Waiting for the provider to report the kick-off."))
    if trial.status == "running":
        return str(_l("Trial running: waiting for the provider's next milestone."))
    todo = []
    if not own_accepted and trial.outcome != "failed":
        todo.append(str(_l("Accept the delivered scope: check it against your application and confirm it (the "
                           "balance is paid to the provider only after you and the provider accept and the evaluation "
                           "passes).")))
    if trial.status == "evaluated":
        todo.append(str(_l("Record whether your enterprise will pay to keep using the solution, and why.")))
    balance = stages["balance"]
    if balance.code == "paid" and stages["advance"].code == "paid":
        after = str(_l("The advance and the balance have been paid to the provider. Nothing more to do."))
    elif balance.code in ("released", "cancelled"):
        after = balance.label + "."
    else:
        after = str(_l("The balance of %(amount)s: %(stage)s.",
                       amount=_money(balance.amount), stage=balance.label))
    return " ".join(todo + [after])


def _money(value) -> str:
    from voucher.money import format_money

    return format_money(value) if value is not None else ""


# --- dashboard counts -------------------------------------------------------------------------

def provider_counts(provider_id: int, today: date | None = None) -> dict[str, int]:
    """Running trials, overdue ones, and trials where the provider can report the next milestone."""
    today = today or local_today()
    running = db.session.scalar(select(func.count()).select_from(Trial).where(Trial.provider_id == provider_id,
                                                                             Trial.status == "running")) or 0
    overdue = db.session.scalar(select(func.count()).select_from(Trial).where(Trial.provider_id == provider_id,
                                                                             overdue_condition(today))) or 0
    return {"running": running, "overdue": overdue, "to_report": _to_report(Trial.provider_id == provider_id),
            "to_accept": _to_accept(Trial.provider_id == provider_id, ("pending", "sme_accepted"))}


def _to_accept(condition, waiting_states) -> int:
    """Trials whose delivered scope waits for this party's acceptance (final report confirmed, the
    evaluation not failed, the approval standing)."""
    return db.session.scalar(
        select(func.count()).select_from(Trial).join(TrialApplication, Trial.application)
        .where(condition, Trial.status.in_(("completed", "evaluated", "closed")),
               or_(Trial.outcome.is_(None), Trial.outcome != "failed"), TrialApplication.status != "cancelled",
               Trial.acceptance_status.in_(waiting_states))) or 0


def _to_report(condition) -> int:
    """Open or running trials where the next milestone can be reported now: none waits for the
    enterprise and not every milestone is confirmed (or one is disputed)."""
    confirmed = func.coalesce(func.sum(case((Milestone.status == "confirmed", 1), else_=0)), 0)
    blocking = func.coalesce(func.sum(case((Milestone.status == "reported", 1), else_=0)), 0)
    sub = (select(Trial.id).outerjoin(Milestone, Milestone.trial_id == Trial.id)
           .where(condition, Trial.status.in_(("open", "running")))
           .group_by(Trial.id).having(and_(blocking == 0, confirmed < len(MILESTONE_KINDS))))
    return db.session.scalar(select(func.count()).select_from(sub.subquery())) or 0


def sme_counts(enterprise_id: int) -> dict[str, int]:
    to_confirm = db.session.scalar(select(func.count()).select_from(Milestone).join(Trial, Milestone.trial)
                                   .where(Trial.enterprise_id == enterprise_id, Milestone.status == "reported",
                                          Trial.status != "cancelled")) or 0
    adoption = db.session.scalar(select(func.count()).select_from(Trial).where(Trial.enterprise_id == enterprise_id,
                                                                              Trial.status == "evaluated")) or 0
    return {"to_confirm": to_confirm, "adoption": adoption,
            "to_accept": _to_accept(Trial.enterprise_id == enterprise_id, ("pending", "provider_accepted"))}


def evaluator_counts(evaluator_id: int) -> dict[str, int]:
    rows = db.session.execute(select(EvaluatorAssignment.status, func.count())
                              .where(EvaluatorAssignment.evaluator_id == evaluator_id,
                                     EvaluatorAssignment.status.in_(("assigned", "cleared")))
                              .group_by(EvaluatorAssignment.status))
    counts = {s: n for s, n in rows}
    return {"to_declare": counts.get("assigned", 0), "to_score": counts.get("cleared", 0)}


def officer_counts(today: date | None = None) -> dict[str, int]:
    """Completed trials without an active evaluator, and overdue trials."""
    today = today or local_today()
    has_active = (select(EvaluatorAssignment.trial_id)
                  .where(EvaluatorAssignment.status.in_(ACTIVE_ASSIGNMENT_STATES)).distinct())
    needing = db.session.scalar(select(func.count()).select_from(Trial)
                                .where(Trial.status == "completed", Trial.id.not_in(has_active))) or 0
    overdue = db.session.scalar(select(func.count()).select_from(Trial).where(overdue_condition(today))) or 0
    return {"needing_evaluators": needing, "overdue": overdue}


def evaluator_names(user_ids) -> dict[int, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    return {uid: name for uid, name in db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))}


def next_step(role: str, trial: Trial, reported: dict[str, Milestone], next_kind: str | None,
              own_assignment: EvaluatorAssignment | None = None) -> str:
    """What the person looking at the trial does next, in plain words."""
    waiting = [m for m in reported.values() if m.status == "reported"]
    disputed = [m for m in reported.values() if m.status == "disputed"]
    if trial.application.status == "cancelled":
        return str(_l("The approval of this application was cancelled; the trial will not take place."))
    if role == "provider":
        from voucher.trials.services import acceptance_open, acceptances

        if (trial.status in ("completed", "evaluated", "closed") and acceptance_open(trial)
                and "provider" not in acceptances(trial.id)):
            return str(_l("Confirm the delivered scope against the application (acceptance): the balance is paid "
                          "only after the enterprise and you accept and the evaluation passes."))
        if disputed:
            return str(_l("The enterprise disputed a milestone: read its reason and report the milestone again."))
        if waiting:
            return str(_l("Waiting for the enterprise to confirm the milestone you reported."))
        if next_kind:
            return str(_l("Report the next milestone: %(milestone)s.", milestone=MILESTONE_LABELS[next_kind]))
        text = str({"completed": _l("The trial is completed: waiting for the effect evaluation."),
                    "evaluated": _l("The evaluation result is recorded: waiting for the enterprise's adoption "
                                    "decision."),
                    "closed": _l("The enterprise recorded its adoption decision.")}.get(trial.status, ""))
        if trial.status in ("completed", "evaluated", "closed"):
            balance = payment_stages([trial])[trial.id]["balance"]
            text += " " + str(_l("Balance of %(amount)s: %(stage)s.", amount=_money(balance.amount),
                                 stage=balance.label))
        return text
    if role == "sme":
        stages = payment_stages([trial])[trial.id]
        from voucher.trials.services import acceptances

        return sme_next_step(trial, stages, reported, "sme" in acceptances(trial.id))
    if role == "evaluator":
        if own_assignment is not None and own_assignment.status == "cleared":
            return str(_l("Fill in and submit the effect-evaluation form."))
        if own_assignment is not None and own_assignment.status == "submitted":
            return str(_l("You submitted your evaluation. A correction is saved as a new version with its reason."))
        return ""
    return str({"open": _l("Waiting for the provider to report the kick-off."),
                "running": _l("Trial running: the provider reports milestones, the enterprise confirms them."),
                "completed": _l("Completed: assign evaluators; the result is recorded when all have submitted."),
                "evaluated": _l("Evaluated: waiting for the enterprise's adoption decision."),
                "closed": _l("Closed.")}.get(trial.status, ""))
