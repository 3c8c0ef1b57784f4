"""Amending an approved loan interest discount (变更申请, issue 18 §4): a corrected interest period (its
dates and, if need be, the interest paid).  Used by :class:`voucher.subsidies.grant.LoanDiscount`.

Rules: only an approved grant, nothing of it paid, no disbursement of it under way; the corrected
period obeys the application form's rules (ends after it starts, within the loan term, already ended,
no overlap with the application's other periods or with another claim of the same loan contract);
the discount is recomputed by the same ``voucher.calc`` function with the application's stored
parameters, on what remains of the enterprise's daily principal cap; the ledger releases or reserves
the difference.  Lock order as approval: the application's row (the caller), the enterprise's row,
then the programme's (the ledger).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from voucher.calc import InterestPeriod
from voucher.errors import Conflict, DomainError, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.grants import AmendmentSubject, payment_under_way
from voucher.money import format_money
from voucher.programmes import services as programmes
from voucher.subsidies.common import MAX_AMOUNT, calculate_loan
from voucher.subsidies.loans import (
    PeriodInput,
    _check_loan_overlap,
    _fix_loan_figures,
    _lock_enterprise,
    _stored_loan_params,
    principal_already_subsidised,
)
from voucher.subsidies.models import LoanApplication

SOURCE_TYPE = "loan_application"
FIELDS = ("period", "period_start", "period_end", "interest_paid")


def _application(source_id: int) -> LoanApplication:
    app = db.session.get(LoanApplication, source_id)
    if app is None:
        raise NotFound("No such application.")
    return app


def _period_text(p) -> str:
    return f"{p.start_date.isoformat()}/{p.end_date.isoformat()}/{p.interest_paid}"


def subject(source_id: int) -> AmendmentSubject:
    app = _application(source_id)
    values = {f"period_{p.position}": _period_text(p) for p in app.periods}
    values["approved_amount"] = str(app.approved_amount) if app.approved_amount is not None else ""
    return AmendmentSubject(SOURCE_TYPE, app.id, app.programme_id, app.enterprise_id, app.number, app.status, values)


def ensure_amendable(app, source_type: str = SOURCE_TYPE) -> None:
    """Rule (both subsidy kinds): an approved grant, nothing of it paid, no disbursement of it under way."""
    if app.status != "approved":
        raise Conflict("Only an approved grant can be amended; this application is %(state)s.", state=app.status)
    paid = programmes.source_paid(source_type, app.id)
    if paid > 0:
        raise Conflict("This grant is fully paid (%(paid)s), so it can no longer be amended.", paid=format_money(paid))
    reference = payment_under_way(source_type, app.id)
    if reference:
        raise Conflict("A payment of this grant is under way (%(reference)s): it cannot be amended until the "
                       "payment is finished or withdrawn.", reference=reference)


def _corrected(app: LoanApplication, asked: dict, today: date):
    """The period asked for, checked; returns (its row, the new InterestPeriod list)."""
    rows = {p.position: p for p in app.periods}
    if not rows:
        raise ValidationFailed("This application has no interest periods to correct.", field="period")
    position = asked.get("period")
    if position not in rows:
        raise ValidationFailed("Choose the interest period to correct (1 to %(max)s).", field="period",
                               max=max(rows))
    row = rows[position]
    start = asked.get("period_start") or row.start_date
    end = asked.get("period_end") or row.end_date
    paid = asked.get("interest_paid")
    paid = row.interest_paid if paid is None else paid
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValidationFailed("Enter the corrected period's dates.", field="period_start")
    if not isinstance(paid, Decimal) or not paid.is_finite() or paid < 0 or paid > MAX_AMOUNT \
            or paid != paid.quantize(Decimal("0.01")):
        raise ValidationFailed("The interest paid must be a sum of 0 to %(max)s yuan with at most two decimals.",
                               field="interest_paid", max=format_money(MAX_AMOUNT))
    if end <= start:
        raise ValidationFailed("The period must end after it starts.", field="period_end")
    if end > today:
        raise ValidationFailed("Claim only periods that have ended (the end is in the future).", field="period_end")
    if start < app.term_start or end > app.term_end:
        raise ValidationFailed("The period must lie within the loan term (%(start)s to %(end)s).",
                               field="period_start", start=app.term_start.isoformat(), end=app.term_end.isoformat())
    if (start, end, paid) == (row.start_date, row.end_date, row.interest_paid):
        raise ValidationFailed("The corrected period is the approved one: nothing would change.", field="period_start")
    for other in app.periods:
        if other.position != position and start < other.end_date and other.start_date < end:
            raise ValidationFailed("This period overlaps period %(other)s: each day is claimed once.",
                                   field="period_start", other=other.position)
    problems = _check_loan_overlap(app.enterprise_id, app.contract_no,
                                   [PeriodInput(start, end, row.outstanding_principal, paid)], app.id)
    if problems:
        _name, message, params = problems[0]
        raise ValidationFailed(message, field="period_start", **params)
    periods = [InterestPeriod(start, end, p.outstanding_principal, paid) if p.position == position
               else InterestPeriod(p.start_date, p.end_date, p.outstanding_principal, p.interest_paid)
               for p in app.periods]
    return row, periods, (start, end, paid)


def _discount(app: LoanApplication, periods):
    return calculate_loan(app.benchmark_rate, app.loan_rate, periods, _stored_loan_params(app),
                          already_subsidised=principal_already_subsidised(app.enterprise_id, app.id))


def refusal(source_id: int) -> DomainError | None:
    """Why this grant cannot be amended now, or None (the grant's page and the form ask this first)."""
    try:
        ensure_amendable(_application(source_id))
    except DomainError as err:
        return err
    return None


def check(source_id: int, asked: dict, today: date) -> dict[str, dict[str, str]]:
    app = _application(source_id)
    ensure_amendable(app)
    row, periods, (start, end, paid) = _corrected(app, asked, today)
    result = _discount(app, periods)
    changes = {f"period_{row.position}": {"before": _period_text(row),
                                          "after": f"{start.isoformat()}/{end.isoformat()}/{paid}"}}
    if result.total_discount != app.approved_amount:
        changes["approved_amount"] = {"before": str(app.approved_amount), "after": str(result.total_discount)}
    return changes


def apply(actor, source_id: int, changes: dict[str, dict[str, str]]) -> Decimal:
    """Apply a corrected period (the application's row locked by the caller); the discount is computed
    again now, under the enterprise's lock, and ``changes["approved_amount"]`` says what it became."""
    from voucher.audit.services import record_event

    app = db.session.get(LoanApplication, source_id, populate_existing=True)
    ensure_amendable(app)
    _lock_enterprise(app.enterprise_id)
    [key] = [k for k in changes if k.startswith("period_")]
    position = int(key.split("_", 1)[1])
    row = next((p for p in app.periods if p.position == position), None)
    if row is None or _period_text(row) != changes[key]["before"]:
        raise Conflict("The grant changed since this amendment was requested (%(field)s is now %(value)s): "
                       "refuse it and ask the enterprise to request again.", field=key,
                       value=_period_text(row) if row else "—")
    start, end, paid = changes[key]["after"].split("/")
    asked = {"period": position, "period_start": date.fromisoformat(start), "period_end": date.fromisoformat(end),
             "interest_paid": Decimal(paid)}
    _row, periods, _values = _corrected(app, asked, date.max)  # "ended" was checked on the day asked
    result = _discount(app, periods)
    before = {"period": _period_text(row), "approved_amount": app.approved_amount}
    difference = result.total_discount - app.approved_amount
    note = f"loan application {app.id} amended"
    if difference > 0:
        programmes.reserve(actor, app.programme_id, funding_kind="loan_discount", amount=difference,
                           enterprise_id=app.enterprise_id, source_type=SOURCE_TYPE, source_id=app.id, note=note)
    elif difference < 0:
        programmes.release(actor, SOURCE_TYPE, app.id, -difference, note=note)
    row.start_date, row.end_date, row.interest_paid = asked["period_start"], asked["period_end"], asked["interest_paid"]
    row.days = result.periods[[p.position for p in app.periods].index(position)].days
    _fix_loan_figures(app, result)
    app.approved_amount = result.total_discount
    changes["approved_amount"] = {"before": str(before["approved_amount"]), "after": str(app.approved_amount)}
    db.session.flush()
    record_event(actor, "loan_application.amended", "loan_application", app.id, before=before,
                 after={"period": _period_text(row), "approved_amount": app.approved_amount,
                        "ledger_difference": difference})
    return difference
