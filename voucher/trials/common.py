"""What every part of the trials services shares: the trial's state machine, reading a trial and
who may see it, the row locks, the links and small checks.

The services themselves are in :mod:`voucher.trials.services` (opening, acceptance, adoption, and
the public face of the whole package), :mod:`voucher.trials.milestones` and
:mod:`voucher.trials.evaluations`.  Lock order, for every writer: the application row, the trial
row (:func:`lock_trial`), then the programme row (inside the ledger functions), then the audit chain.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from sqlalchemy import select

from voucher.access import can, require
from voucher.applications import services as applications
from voucher.applications.models import TrialApplication
from voucher.audit.services import Actor
from voucher.auth.policy import ensure_own_organisation
from voucher.errors import N_, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.money import format_money
from voucher.notifications.services import notify_role
from voucher.trials.models import (
    TRIAL_STATES,
    EvaluatorAssignment,
    Trial,
)
from voucher.workflow import StateMachine, transition

SOURCE_TYPE = applications.SOURCE_TYPE  # the ledger's source of a trial voucher: the application
ZERO = Decimal("0.00")
REASON_MAX = 2000


TRIAL_MACHINE = StateMachine("trial", TRIAL_STATES, (
    transition("start", "open", "running", "sme"),
    transition("complete", "running", "completed", "sme"),
    transition("evaluate", "completed", "evaluated", ("evaluator", "officer")),
    transition("close", "evaluated", "closed", "sme"),
    transition("cancel", "open", "cancelled", "officer", requires_reason=True),
))


def trial_link(trial_id: int) -> str:
    """The trial page's path, for notifications (services build no URLs from a request)."""
    return f"/trials/{trial_id}"


def acceptance_link(trial_id: int) -> str:
    """The trial's acceptance page, for notifications."""
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


# --- reading and access ----------------------------------------------------------------------

def find_trial(trial_id: int) -> Trial:
    """The trial, or 404 (no access check: see :func:`get_trial`)."""
    trial = db.session.get(Trial, trial_id)
    if trial is None:
        raise NotFound("No such trial.")
    return trial


def lock_trial(trial_id: int) -> Trial:
    """The trial's application row, then the trial row, locked for the rest of the transaction."""
    application_id = db.session.scalar(select(Trial.application_id).where(Trial.id == trial_id))
    if application_id is None:
        raise NotFound("No such trial.")
    db.session.scalar(select(TrialApplication).where(TrialApplication.id == application_id).with_for_update()
                      .execution_options(populate_existing=True))
    return db.session.scalar(select(Trial).where(Trial.id == trial_id).with_for_update()
                             .execution_options(populate_existing=True))


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
    trial = find_trial(trial_id)
    ensure_can_view(actor, trial)
    return trial


def trial_for_application(application_id: int) -> Trial | None:
    """The trial opened for an application (one per application), or None before its approval."""
    return db.session.scalar(select(Trial).where(Trial.application_id == application_id))


def ensure_enterprise(actor: Actor, trial: Trial) -> None:
    """Rule: only the trial's enterprise's own SME users (403 otherwise)."""
    require(actor, "trials.confirm_milestone",
            message="Only the enterprise's users confirm milestones and record the adoption decision.")
    ensure_own_organisation(actor, trial.enterprise_id)


def ensure_live(trial: Trial) -> None:
    """Rule: nothing more happens on a trial whose application's approval was cancelled (409)."""
    if trial.status == "cancelled" or trial.application.status == "cancelled":
        raise TransitionNotAllowed("The approval of this trial's application was cancelled.")


def clean_text(value: str | None, field_name: str, missing: str, limit: int) -> str:
    """The text stripped; refused when empty (``missing``) or longer than ``limit`` characters."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(missing, field=field_name)
    if len(text) > limit:
        raise ValidationFailed("At most %(max)s characters.", field=field_name, max=limit)
    return text


@dataclass(frozen=True)
class Upload:
    """A file sent with a milestone or an acceptance form (stored by :func:`voucher.storage.save_upload`)."""

    stream: BinaryIO
    filename: str
    max_bytes: int

