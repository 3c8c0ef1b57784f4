"""An application's progress timeline: the stages done (with their dates), the stage now, who acts
next, and the date by which the bureau promised to act (in Chinese working days).

The stages are derived from the kind's state machine, not listed by hand: from ``draft`` the path
follows the first declared transition to a state not yet on the path and not a side state
(returned, rejected, withdrawn, cancelled), so a state added to a machine (an acceptance step,
say) appears in the timeline without touching this module.  The dates are those of the audit
events that entered each state (``after.status``; the latest entry wins, as a returned application
is submitted again).  Subsidies (loan, robot) end with a payment stage read from the fund ledger.

Who acts next is the roles of the forward transition out of the current state (with a few plain
overrides where a person acts before the role the machine records: the provider reports a
milestone before the enterprise confirms it).  The due date is the review deadline while the
bureau reviews, the payment deadline while a disbursement is under way
(:mod:`voucher.deadlines`); other stages wait on the applicant and promise nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voucher.deadlines import Deadline, payment_deadline, review_deadline
from voucher.extensions import db

SIDE_STATES = ("returned", "rejected", "withdrawn", "cancelled")
PAID = "paid"  # the payment stage of a subsidy (from the fund ledger, not a state)
ACCEPTANCE = "acceptance"  # a trial's acceptance (验收) by both parties (from the trial, not a state)
BALANCE_PAID = "balance_paid"  # a trial's balance paid to the provider (from the fund ledger)
# The application states from which a trial voucher's remaining stages run side by side (the
# acceptance, the evaluation, the enterprise's decision, the balance): each is done on its own.
TRIAL_AFTER = ("trial_completed", "evaluated", "closed")

# Who acts, in words a person understands (both languages through the catalogue).
ACTOR_LABELS = {
    "sme": _l("the enterprise"),
    "provider": _l("the solution provider"),
    "officer": _l("the bureau (programme officer)"),
    "evaluator": _l("the evaluation institution"),
    "finance": _l("the bureau's finance office"),
}

# Where someone acts before the role the machine records for the transition.
ACTOR_OVERRIDES = {
    ("trial_application", "approved"): ("provider", "sme"),
    ("trial_application", "trial_running"): ("provider", "sme"),
}

STAGE_LABELS = {
    "draft": _l("Application filed (draft)"),
    "submitted": _l("Submitted: bureau review"),
    "approved": _l("Approved"),
    "trial_running": _l("Trial running"),
    "trial_completed": _l("Trial completed"),
    "accepted": _l("Acceptance"),
    "acceptance": _l("Acceptance"),
    "evaluated": _l("Effect evaluation"),
    "closed": _l("Closed"),
    PAID: _l("Paid"),
    BALANCE_PAID: _l("Balance paid"),
    "returned": _l("Returned for revision"),
    "rejected": _l("Not approved"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Approval cancelled"),
}


def stage_label(code: str) -> str:
    return str(STAGE_LABELS.get(code, code.replace("_", " ")))


def actor_label(role: str) -> str:
    return str(ACTOR_LABELS.get(role, role))


@dataclass
class Stage:
    code: str
    step: str  # done | current | pending | side (a side state reached, e.g. returned)
    at: datetime | None = None

    @property
    def label(self) -> str:
        return stage_label(self.code)


@dataclass
class Timeline:
    number: str | None
    status: str
    stages: list[Stage]
    next_actors: tuple[str, ...] = ()
    due: Deadline | None = None
    finished: bool = False
    side: Stage | None = None  # the side state the application is in (returned, rejected, ...)
    extra: dict = field(default_factory=dict)

    @property
    def current(self) -> Stage | None:
        return self.side or next((s for s in self.stages if s.step == "current"), None)

    @property
    def next_actor_text(self) -> str:
        return ", ".join(actor_label(r) for r in self.next_actors)


def happy_path(machine, start: str = "draft") -> list[tuple[str, tuple[str, ...]]]:
    """The forward stages of a machine with the roles that move each on (empty at the end)."""
    path: list[str] = [start]
    movers: list[tuple[str, ...]] = []
    while True:
        forward = [t for t in machine.transitions
                   if path[-1] in t.sources and t.target not in path and t.target not in SIDE_STATES]
        if not forward:
            movers.append(())
            break
        movers.append(tuple(sorted(forward[0].roles)))
        path.append(forward[0].target)
    return list(zip(path, movers))


def _entered(events) -> dict[str, datetime]:
    """When each state was (last) entered, from the audit events of the state machine."""
    at: dict[str, datetime] = {}
    for e in events:
        status = (e.after or {}).get("status") if isinstance(e.after, dict) else None
        if status:
            at[status] = e.occurred_at
    return at


def _live_disbursement_deadline(source_type: str, source_id: int) -> Deadline | None:
    from voucher.payments.models import Disbursement

    d = db.session.scalar(select(Disbursement).where(Disbursement.source_type == source_type,
                                                     Disbursement.source_id == source_id,
                                                     Disbursement.status.in_(("prepared", "approved", "in_batch")))
                          .order_by(Disbursement.id.desc()).limit(1))
    if d is None or d.payable_since is None:
        return None
    return payment_deadline(d.payable_since)


def _last_payment(source_type: str, source_id: int) -> datetime | None:
    from voucher.programmes.models import FundLedgerEntry

    # The latest payment or return (退汇): a payment the bank returned is not a payment date.
    row = db.session.execute(select(FundLedgerEntry.created_at, FundLedgerEntry.kind).where(
        FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
        FundLedgerEntry.kind.in_(("pay", "return"))).order_by(FundLedgerEntry.seq.desc()).limit(1)).first()
    return row[0] if row is not None and row[1] == "pay" else None


def build(object_type: str, machine, application, events, *, with_payment: bool = False) -> Timeline:
    """The timeline of one application (``object_type`` trial_application, loan_application or
    robot_application) from its machine, its audit events and, for subsidies, the ledger."""
    path = happy_path(machine)
    codes = [code for code, _ in path]
    movers = dict(path)
    entered = _entered(events)
    entered.setdefault("draft", application.created_at)
    status = application.status
    paid_at = _last_payment(object_type, application.id) if with_payment else None
    if with_payment:
        codes.append(PAID)
        movers[codes[-2]] = ("finance",)
        movers[PAID] = ()
        if paid_at:
            entered[PAID] = paid_at

    side = None
    if status in codes:
        position = codes.index(status)
        if with_payment and status == codes[-2] and paid_at:
            position = len(codes) - 1  # paid: the payment stage is where it stands
    else:
        # A side state: the stages reached before it are done; the side state is shown on its own.
        reached = [i for i, c in enumerate(codes) if c in entered and (entered.get(status) is None or
                                                                        entered[c] <= entered[status])]
        position = (max(reached) + 1) if reached else 0
        side = Stage(status, "side", entered.get(status))

    stages = []
    for i, code in enumerate(codes):
        if side is not None:
            step = "done" if i < position else "pending"
        else:
            step = "done" if i < position else "current" if i == position else "pending"
        stages.append(Stage(code, step, entered.get(code) if step in ("done", "current") else None))

    finished = side is not None and status != "returned" or (side is None and position == len(codes) - 1
                                                              and not movers.get(codes[position]))
    if side is not None:
        actors = ("sme",) if status == "returned" else ()
    elif finished:
        actors = ()
    else:
        actors = ACTOR_OVERRIDES.get((object_type, status), movers.get(codes[position], ()))

    if object_type == "trial_application":
        if side is None and status in TRIAL_AFTER:
            return _after_trial(application, stages, entered)
        stages = _with_trial_stages(stages)  # still to come: shown pending, in their order

    due = None
    if side is None and status == "submitted" and application.submitted_at:
        due = review_deadline(application.submitted_at)
    elif side is None and not finished and "finance" in actors:
        due = _live_disbursement_deadline(object_type, application.id)
    return Timeline(application.number, status, stages, tuple(actors), due, finished, side)


def _trial_extras(application) -> tuple[object | None, datetime | None]:
    """The trial of a trial application and when its balance was paid (None while not)."""
    from voucher.programmes.models import FundLedgerEntry
    from voucher.trials.models import Trial

    trial = db.session.scalar(select(Trial).where(Trial.application_id == application.id))
    row = db.session.execute(select(FundLedgerEntry.created_at, FundLedgerEntry.kind).where(
        FundLedgerEntry.source_type == "trial_application", FundLedgerEntry.source_id == application.id,
        FundLedgerEntry.kind.in_(("pay", "return")), FundLedgerEntry.milestone == "balance")
        .order_by(FundLedgerEntry.seq.desc()).limit(1)).first()
    paid_at = row[0] if row is not None and row[1] == "pay" else None  # a returned balance is not paid
    return trial, paid_at


def _with_trial_stages(stages: list[Stage]) -> list[Stage]:
    """A trial voucher's stages in the guide's order: after the trial, the acceptance, the
    evaluation, the balance paid, then the enterprise's closing decision."""
    tail = ("evaluated", "closed")
    by_code = {s.code: s for s in stages}
    out = [s for s in stages if s.code not in tail]
    for code in (ACCEPTANCE, "evaluated", BALANCE_PAID, "closed"):
        out.append(by_code.get(code) or Stage(code, "pending"))
    return out


def _after_trial(application, stages: list[Stage], entered: dict[str, datetime]) -> Timeline:
    """A trial voucher once the trial is completed: the acceptance (验收) by both parties, the
    effect evaluation, the enterprise's decision and the balance paid each finish on their own, in
    any order, so each stage is done when its own fact says so and the stage now is the first not
    done.  The application is finished only when the balance is paid (a closed application whose
    balance is unpaid still waits on the finance office)."""
    trial, paid_at = _trial_extras(application)
    status = application.status
    accepted_at = trial.accepted_at if trial is not None and trial.acceptance_status == "accepted" else None
    done_at = {
        "trial_completed": entered.get("trial_completed"),
        ACCEPTANCE: accepted_at,
        "evaluated": entered.get("evaluated") if status in ("evaluated", "closed") else None,
        "closed": entered.get("closed") if status == "closed" else None,
        BALANCE_PAID: paid_at,
    }
    order = [s.code for s in _with_trial_stages(stages)]
    before = {s.code: s for s in stages}
    out: list[Stage] = []
    current = None
    for code in order:
        if code in done_at:
            at = done_at[code]
            step = "done" if at is not None or (code == "trial_completed") else "pending"
        else:
            at, step = before[code].at, "done"
        if step == "pending" and current is None:
            step, current = "current", code
        out.append(Stage(code, step, at if step == "done" else None))
    if current is None:
        return Timeline(application.number, status, out, (), None, True, None)
    if current == ACCEPTANCE:
        waiting = {"sme_accepted": ("provider",), "provider_accepted": ("sme",)}
        actors = waiting.get(trial.acceptance_status if trial is not None else "", ("provider", "sme"))
    else:
        actors = {"evaluated": ("evaluator",), "closed": ("sme",), BALANCE_PAID: ("finance",)}[current]
    due = _live_disbursement_deadline("trial_application", application.id) if current == BALANCE_PAID else None
    return Timeline(application.number, status, out, actors, due, False, None)
