"""The review of loan and robot applications: submit, withdraw, approve, reject, return, cancel.

Rules enforced here:
- only the enterprise's own SME users submit and withdraw; only officers decide;
  approval reserves the amount in the fund ledger (budget and caps checked there) and every
  change writes an audit event;
- an officer may cancel an approved grant before any of it is paid or a payment of it is under
  way (:func:`cancel_grant`, used when an objection to its public notice is upheld): what is
  still reserved goes back to the fund.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from voucher.access import can, require
from voucher.audit.services import Actor
from voucher.auth.policy import ensure_can_read
from voucher.db import utcnow
from voucher.errors import (
    N_,
    Conflict,
    Forbidden,
    NotFound,
    OverCap,
    TransitionNotAllowed,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.grants import payment_under_way
from voucher.materials import ensure_complete
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role
from voucher.programmes import services as programmes
from voucher.subsidies.common import KINDS, ZERO, _Kind, _locked, application_params, detail_path, local_today
from voucher.subsidies.loans import (
    _fix_loan_figures,
    _loan_approval_amount,
    recompute_loan,
    reprice_loan_at_submission,
)
from voucher.subsidies.materials import checklist, materials_by_code
from voucher.subsidies.robots import reprice_robot_at_submission, robot_cap_left

# --- review: submit, withdraw, approve, reject, return --------------------------------------------------

_NOTICES = {
    ("loan", "approve"): N_("Your loan interest discount application no. %(id)s was approved: %(amount)s is reserved "
                         "for your enterprise. Payment follows the public notice."),
    ("loan", "reject"): N_("Your loan interest discount application no. %(id)s was rejected: %(reason)s"),
    ("loan", "return"): N_("Your loan interest discount application no. %(id)s was returned for revision: %(reason)s"),
    ("robot", "approve"): N_("Your robot purchase subsidy application no. %(id)s was approved: %(amount)s is reserved "
                          "for your enterprise. Payment follows the public notice."),
    ("robot", "reject"): N_("Your robot purchase subsidy application no. %(id)s was rejected: %(reason)s"),
    ("robot", "return"): N_("Your robot purchase subsidy application no. %(id)s was returned for revision: %(reason)s"),
}
_SUBMITTED_NOTICE = {
    "loan": N_("Loan interest discount application no. %(id)s from %(enterprise)s is waiting for review."),
    "robot": N_("Robot purchase subsidy application no. %(id)s from %(enterprise)s is waiting for review."),
}


def _precheck(k: _Kind, app, action: str, actor: Actor) -> None:
    """The state machine's own checks, before any ledger write (409 for the state, 403 for the role)."""
    t = k.machine.find(app.status, action)
    if t is None:
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action=action, state=app.status)
    if actor.role not in t.roles:
        raise Forbidden("Your role may not %(action)s this item.", action=action)


def act(actor: Actor, kind: str, application_id: int, action: str, reason: str | None = None,
        today: date | None = None):
    """Move an application through its review.

    Rule: the enterprise's own SME users submit (drafts and returned ones, while the programme's
    window is open) and withdraw (a withdrawn robot application gives its invoices back); only
    officers approve, reject (with a reason) or return (with a comment).  Approval reserves the
    computed amount in the fund ledger under the programme lock — refused with the figures when
    the budget or the enterprise's cap is short (a robot subsidy is cut to what remains of the
    cap) — and each decision notifies the enterprise.  ``cancel`` is :func:`cancel_grant`.
    """
    if kind not in KINDS:
        raise NotFound("No such application.")
    if action == "cancel":  # never a bare state change: the reservation must go back with it
        return cancel_grant(actor, kind, application_id, reason)
    k = KINDS[kind]
    app = _locked(kind, application_id)
    if can(actor, "subsidies.file"):
        require(actor, "subsidies.file", app, message="This belongs to another organisation.")
    elif not can(actor, "subsidies.decide"):
        ensure_can_read(actor, app.enterprise_id)
    _precheck(k, app, action, actor)
    today = today or local_today()
    details: dict[str, Any] = {}
    amount_field = k.amount_field

    if action == "submit":
        programme = programmes.get_programme(app.programme_id)
        if not programme.is_open_on(today):
            raise ValidationFailed("The programme's application window is %(opens)s to %(closes)s; it is not open "
                                   "today.", opens=programme.opens_on.isoformat(), closes=programme.closes_on.isoformat())
        # The amount is fixed under the rule version in force on the submission day (issue 19 §3).
        if kind == "robot" and app.lines:
            reprice_robot_at_submission(app, today)
        if kind == "loan" and app.periods:
            reprice_loan_at_submission(app, today)
            # Fixed again at submission: approvals since the save may have used the enterprise's cap.
            _fix_loan_figures(app, recompute_loan(app))
        if app.rule_version_id is None:  # made without the form's calculation: the version of the day
            app.rule_version_id = programmes.version_in_force(app.programme_id, today).id
        if getattr(app, amount_field) <= 0:
            raise ValidationFailed("There is nothing to claim in this application.")
        ensure_complete(checklist(kind, app), materials_by_code(kind, app.id))
        app.submitted_at = utcnow()
        details["amount"] = getattr(app, amount_field)
    elif action == "approve":
        computed = getattr(app, amount_field)
        amount = _approval_amount(kind, app)
        if programmes.source_outstanding(k.source_type, app.id) > 0:
            raise Conflict("An amount is already reserved for this application.")
        programmes.reserve(actor, app.programme_id, funding_kind=k.funding_kind, amount=amount,
                           enterprise_id=app.enterprise_id, source_type=k.source_type, source_id=app.id,
                           note=f"{k.source_type} {app.id}",
                           rule_version=programmes.get_version(app.rule_version_id) if app.rule_version_id else None)
        app.approved_amount = amount
        app.decided_at = utcnow()
        details.update(amount=amount, computed=computed)
    elif action in ("reject", "return"):
        app.decided_at = utcnow()
    elif action == "withdraw" and kind == "robot":
        for line in app.lines:
            line.invoice_key = None  # the invoices may be claimed again
    event = k.machine.apply(app, action, actor, reason=reason, details=details)
    if action in ("reject", "return"):
        app.decision_reason = event.reason

    if action == "submit":
        k.machine.publish(app, "submit", actor)  # risk signals follow (voucher.risk.services.on_submit)
        notify_role("officer", _SUBMITTED_NOTICE[kind], detail_path(kind, app.id), id=app.number,
                    enterprise=app.enterprise.name)
    elif (kind, action) in _NOTICES:
        notify_organisation(app.enterprise_id, _NOTICES[(kind, action)], detail_path(kind, app.id), id=app.number,
                            amount=format_money(app.approved_amount), reason=app.decision_reason or "")
    db.session.flush()
    return app


REASON_MAX = 2000
_CANCEL_NOTICES = {
    "loan": N_("The approval of your loan interest discount application no. %(id)s was cancelled and the %(amount)s "
               "reserved for it returned to the fund; it will not be paid. Reason: %(reason)s"),
    "robot": N_("The approval of your robot purchase subsidy application no. %(id)s was cancelled and the %(amount)s "
                "reserved for it returned to the fund; it will not be paid. Its invoices stay claimed. "
                "Reason: %(reason)s"),
}


def cancel_grant(actor: Actor, kind: str, application_id: int, reason: str | None):
    """Cancel an approved loan interest discount or robot purchase subsidy and give its
    reservation back to the fund (used when an officer upholds an objection to its public notice).

    Rule: officers only (403); only an approved grant (409 for any other state); a reason is
    required (at most 2,000 characters).  Refused (``Conflict``, nothing changed) once any of the
    grant has been paid (a ``pay`` entry in the fund ledger) or while a disbursement of it is live
    (prepared, approved, in a batch or paid): finance must reject it, or the bank's failure be
    recorded, first.  Otherwise everything still reserved for the grant is released (ledger
    ``release``), the reason is kept as the decision reason, the state machine moves it to
    ``cancelled`` and writes the audit event (with the amount released), and the enterprise is
    notified.  Lock order as ``applications.services.cancel``: the application row, then the
    programme row (the ledger) — taken before the checks, so a payment cannot slip in between —
    then the application's own changes.  The grant leaves the payment queue (only approved grants
    are payable) and is not announced again.  A cancelled robot application keeps its invoices
    claimed, like a rejected one; a cancelled loan application likewise keeps its interest days
    claimed (a rejected one gives them back): they were granted once, so a new claim for them is
    refused.
    """
    if kind not in KINDS:
        raise NotFound("No such application.")
    k = KINDS[kind]
    require(actor, "subsidies.decide", message="Only a programme officer may cancel a grant.")
    app = _locked(kind, application_id)
    _precheck(k, app, "cancel", actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    programmes.lock_programme(app.programme_id)  # serialises with ledger.pay before the checks below
    paid = programmes.source_paid(k.source_type, app.id)
    if paid > 0:
        raise Conflict("%(amount)s of this grant has already been paid, so it cannot be cancelled.",
                       amount=format_money(paid))
    under_way = payment_under_way(k.source_type, app.id)  # payments answers (voucher.grants)
    if under_way is not None:
        raise Conflict("A payment of this grant is under way (%(reference)s), so it cannot be cancelled. Finance "
                       "must reject that disbursement, or record the bank's failure, first.",
                       reference=under_way)
    entry = programmes.release(actor, k.source_type, app.id, note=f"{k.source_type} {app.id} cancelled")
    released = entry.amount if entry is not None else ZERO
    app.decision_reason = reason
    app.decided_at = utcnow()
    k.machine.apply(app, "cancel", actor, reason=reason, details={"released": released})
    notify_organisation(app.enterprise_id, _CANCEL_NOTICES[kind], detail_path(kind, app.id), id=app.number,
                        amount=format_money(released), reason=reason)
    db.session.flush()
    return app


def _approval_amount(kind: str, app) -> Decimal:
    """What approval reserves: the discount on what remains of the enterprise's daily principal cap;
    for robots, the computed subsidy cut to what remains of the enterprise's cap now (other robot
    subsidies may have been approved since)."""
    if kind == "loan":
        return _loan_approval_amount(app)
    programme = programmes.lock_programme(app.programme_id)
    cap = application_params(app)[1].enterprise_cap  # the application's own rule version
    committed, remaining = robot_cap_left(programme, app.enterprise_id, cap)
    if remaining <= 0:
        raise OverCap("The enterprise's robot-subsidy cap of %(cap)s in this programme is used up (%(used)s already "
                      "committed): nothing can be approved.", field="amount",
                      cap=format_money(cap), used=format_money(committed))
    return min(app.computed_subsidy, remaining)


def approval_preview(kind: str, app) -> dict:
    """For the officer's page: what approval would reserve now and what the fund has available."""
    programme = programmes.get_programme(app.programme_id)
    bal = programmes.balances(programme)
    out = {"available": bal.available, "budget": bal.budget, "amount": None, "cap_remaining": None}
    if kind == "loan":
        out["amount"] = (recompute_loan(app).total_discount if app.status == "submitted" and app.periods
                         else app.computed_discount)
    else:
        _committed, remaining = robot_cap_left(programme, app.enterprise_id, application_params(app)[1].enterprise_cap)
        out["cap_remaining"] = remaining
        out["amount"] = min(app.computed_subsidy, remaining)
    return out
