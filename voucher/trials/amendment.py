"""Amending an approved trial voucher (变更申请, issue 18 §4): a lower or higher voucher amount, or a
new trial start date before the kick-off.  Used by :class:`voucher.trials.grant.TrialVoucher` (the
grant-kind contract); ``voucher/amendments`` owns the request and its decision.

Rules:
- only a grant that stands (approved … closed), not fully paid, no disbursement of it under way;
- the amount: positive, at most two decimals, at most the solution's trial price, never below what is
  already paid; a higher amount reserves the difference under the programme's lock and the caps
  (``programmes.services.reserve``), a lower one releases it (``release``), to the fen;
- once the kick-off fixed the advance: an unpaid advance is recomputed with the trial's own
  percentage; a paid advance stays and the balance takes the difference;
- the trial start date only before the kick-off is confirmed, within the programme's period and not
  in the past.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from voucher.applications import services as applications
from voucher.applications.models import TrialApplication
from voucher.audit.services import record_event
from voucher.calc import round_fen
from voucher.errors import Conflict, DomainError, NotFound, OverCap, ValidationFailed
from voucher.extensions import db
from voucher.grants import AmendmentSubject, payment_under_way
from voucher.money import format_money
from voucher.payments.models import LIVE_STATES, Disbursement
from voucher.programmes import services as ledger
from voucher.trials.models import Trial

SOURCE_TYPE = "trial_application"
FUNDING_KIND = "trial_voucher"
FIELDS = ("requested_amount", "trial_start_date")
AMENDABLE_STATES = ("approved", "trial_running", "trial_completed", "evaluated", "closed")
ZERO = Decimal("0.00")
# A live disbursement not yet paid: its payment is under way (a paid one is finished).
UNFINISHED = tuple(s for s in LIVE_STATES if s != "paid")
MONEY_MAX = Decimal("9999999999.99")


def _application(source_id: int) -> TrialApplication:
    application = db.session.get(TrialApplication, source_id)
    if application is None:
        raise NotFound("No such application.")
    return application


def _trial(application_id: int) -> Trial | None:
    return db.session.scalar(select(Trial).where(Trial.application_id == application_id))


def subject(source_id: int) -> AmendmentSubject:
    a = _application(source_id)
    return AmendmentSubject(SOURCE_TYPE, a.id, a.programme_id, a.enterprise_id, a.number, a.status,
                            {"requested_amount": str(a.requested_amount),
                             "trial_start_date": a.trial_start_date.isoformat()})


def _unfinished_payment(application_id: int) -> str | None:
    """A disbursement of the grant prepared, approved or in a batch (not yet paid), or None.

    ``voucher.grants.payment_under_way`` counts a paid milestone as live too (it stays taken): it is
    asked first, and only when it answers does this look for one that is not yet paid, so a trial
    whose advance is paid can still have its balance amended."""
    if payment_under_way(SOURCE_TYPE, application_id) is None:
        return None
    found = db.session.scalar(select(Disbursement).where(
        Disbursement.source_type == SOURCE_TYPE, Disbursement.source_id == application_id,
        Disbursement.status.in_(UNFINISHED)).order_by(Disbursement.id).limit(1))
    return found.reference if found is not None else None


def ensure_amendable(application: TrialApplication) -> None:
    """Rule: the grant stands, is not fully paid, and no payment of it is under way."""
    if application.status not in AMENDABLE_STATES:
        raise Conflict("Only an approved grant can be amended; this application is %(state)s.",
                       state=application.status)
    paid = ledger.source_paid(SOURCE_TYPE, application.id)
    if paid > 0 and ledger.source_outstanding(SOURCE_TYPE, application.id) == 0:
        raise Conflict("This grant is fully paid (%(paid)s), so it can no longer be amended.",
                       paid=format_money(paid))
    reference = _unfinished_payment(application.id)
    if reference:
        raise Conflict("A payment of this grant is under way (%(reference)s): it cannot be amended until the "
                       "payment is finished or withdrawn.", reference=reference)


def refusal(source_id: int) -> DomainError | None:
    """Why this grant cannot be amended now, or None (the grant's page and the form ask this first)."""
    try:
        ensure_amendable(_application(source_id))
    except DomainError as err:
        return err
    return None


def _check_amount(application: TrialApplication, trial: Trial | None, value) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Enter the new voucher amount in yuan, e.g. 150000.00.", field="requested_amount") from None
    if not amount.is_finite() or amount <= 0 or amount > MONEY_MAX or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed("The new voucher amount must be a positive sum of at most %(max)s yuan with at most "
                               "two decimals.", field="requested_amount", max=format_money(MONEY_MAX))
    if amount == application.requested_amount:
        raise ValidationFailed("The new voucher amount is the approved amount %(amount)s: nothing would change.",
                               field="requested_amount", amount=format_money(amount))
    price = application.solution.trial_price
    if amount > price:
        raise OverCap("The new voucher amount %(requested)s is above the solution's trial price of %(price)s.",
                      field="requested_amount", requested=format_money(amount), price=format_money(price))
    paid = ledger.source_paid(SOURCE_TYPE, application.id)
    if amount < paid:
        raise ValidationFailed("The new voucher amount %(requested)s is below the %(paid)s already paid.",
                               field="requested_amount", requested=format_money(amount), paid=format_money(paid))
    increase = amount - application.requested_amount
    if increase > 0:
        _check_room(application, increase)
    return amount


def _check_room(application: TrialApplication, increase: Decimal) -> None:
    """The enterprise's cap and the programme's available budget, read now (the ledger checks both
    again under the programme's lock when the officer approves)."""
    programme = application.programme
    cap = applications.approval_parameters(application)["trial_cap_per_enterprise"]  # the approval's version
    used = ledger.enterprise_committed(programme.id, application.enterprise_id, FUNDING_KIND)
    if used + increase > cap:
        raise OverCap("Over the enterprise's cap of %(cap)s in this programme: %(used)s is already used, "
                      "%(remaining)s remains, %(requested)s was requested.", field="requested_amount",
                      cap=format_money(cap), used=format_money(used), remaining=format_money(max(cap - used, ZERO)),
                      requested=format_money(increase))
    available = ledger.balances(programme).available
    if increase > available:
        raise OverCap("The programme's available budget is %(available)s, less than the %(requested)s more "
                      "requested.", field="requested_amount", available=format_money(available),
                      requested=format_money(increase))


def _check_start(application: TrialApplication, trial: Trial | None, value, today: date) -> date:
    if not isinstance(value, date):
        raise ValidationFailed("Enter the new trial start date.", field="trial_start_date")
    if trial is not None and trial.start_date is not None:
        raise Conflict("The trial started on %(start)s (the kick-off is confirmed): its dates can no longer change.",
                       field="trial_start_date", start=trial.start_date.isoformat())
    if value == application.trial_start_date:
        raise ValidationFailed("The new trial start date is the approved one: nothing would change.",
                               field="trial_start_date")
    if value < today:
        raise ValidationFailed("The new trial start date %(start)s is in the past (today is %(today)s).",
                               field="trial_start_date", start=value.isoformat(), today=today.isoformat())
    applications.check_programme_period(application.programme, None, value)
    return value


def check(source_id: int, asked: dict, today: date) -> dict[str, dict[str, str]]:
    application = _application(source_id)
    ensure_amendable(application)
    trial = _trial(application.id)
    changes: dict[str, dict[str, str]] = {}
    if asked.get("requested_amount") is not None:
        amount = _check_amount(application, trial, asked["requested_amount"])
        changes["requested_amount"] = {"before": str(application.requested_amount), "after": str(amount)}
    if asked.get("trial_start_date") is not None:
        start = _check_start(application, trial, asked["trial_start_date"], today)
        changes["trial_start_date"] = {"before": application.trial_start_date.isoformat(), "after": start.isoformat()}
    if not changes:
        raise ValidationFailed("Say what should change: a new voucher amount or a new trial start date.",
                               field="requested_amount")
    return changes


def apply(actor, source_id: int, changes: dict[str, dict[str, str]]) -> Decimal:
    """Apply approved changes; the application's row is locked by the caller (``TrialVoucher.lock``)."""
    application = db.session.scalar(select(TrialApplication).where(TrialApplication.id == source_id)
                                    .execution_options(populate_existing=True))
    ensure_amendable(application)
    for name, change in changes.items():
        current = (str(application.requested_amount) if name == "requested_amount"
                   else application.trial_start_date.isoformat())
        if current != change["before"]:
            raise Conflict("The grant changed since this amendment was requested (%(field)s is now %(value)s): "
                           "refuse it and ask the enterprise to request again.", field=name, value=current)
    trial = _trial(application.id)
    difference = ZERO
    before = {"requested_amount": application.requested_amount, "trial_start_date": application.trial_start_date}
    if "requested_amount" in changes:
        new = Decimal(changes["requested_amount"]["after"])
        difference = new - application.requested_amount
        note = f"trial application {application.id} amended"
        if difference > 0:
            ledger.reserve(actor, application.programme_id, funding_kind=FUNDING_KIND, amount=difference,
                           enterprise_id=application.enterprise_id, source_type=SOURCE_TYPE, source_id=application.id,
                           provider_id=application.provider_id, note=note,  # the approval's version's caps
                           rule_version=ledger.get_version(application.rule_version_id)
                           if application.rule_version_id else None)
        else:
            ledger.release(actor, SOURCE_TYPE, application.id, -difference, note=note)
        application.requested_amount = new
        if trial is not None:
            _resplit(trial, new)
    if "trial_start_date" in changes:
        application.trial_start_date = date.fromisoformat(changes["trial_start_date"]["after"])
    db.session.flush()
    if "requested_amount" in changes:
        _reissue_documents(actor, application.id)
    record_event(actor, "trial_application.amended", "trial_application", application.id, before=before,
                 after={"requested_amount": application.requested_amount,
                        "trial_start_date": application.trial_start_date, "ledger_difference": difference})
    return difference


# The documents about the application that state its amount: re-issued as a new version when the
# amount changes (the job marks the earlier one superseded; it stays readable and verifiable).
AMOUNT_DOCUMENTS = ("audit_dossier",)


def _reissue_documents(actor, application_id: int) -> None:
    """Request the next version of each amount-stating document already issued about the application
    (enqueued after the commit).  Without a job queue nothing is requested: the old version stays
    valid until someone asks for a new one."""
    from flask import current_app

    from voucher.documents import services as documents

    if not current_app.config.get("REDIS_URL"):
        return
    for kind in AMOUNT_DOCUMENTS:
        if documents.latest_document(kind, "application", application_id) is not None:
            documents.request_document(actor, kind, "application", application_id)


def _resplit(trial: Trial, amount: Decimal) -> None:
    """The trial's approved amount and, once the kick-off fixed them, its advance and balance."""
    trial.approved_amount = amount
    if trial.advance_amount is None or trial.advance_pct is None:
        return
    if ledger.source_paid(SOURCE_TYPE, trial.application_id) == 0:
        trial.advance_amount = round_fen(amount * trial.advance_pct / 100)
    trial.balance_amount = amount - trial.advance_amount
