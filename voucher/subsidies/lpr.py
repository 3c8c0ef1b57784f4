"""The 1-year LPR table: the benchmark of every loan interest discount.

Rules enforced here:
- the benchmark of a loan is the 1-year LPR in force on its contract date (:func:`lpr_in_force`),
  never typed by the enterprise;
- only officers record a rate, one per date, audited (:func:`add_lpr_rate`).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.errors import (
    N_,
    Duplicate,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.programmes.models import LprRate
from voucher.subsidies.common import HUNDRED, InputRefused

# --- the LPR table ------------------------------------------------------------------------------

def lpr_in_force(day: date, field: str = "contract_date") -> LprRate:
    """The 1-year LPR in force on ``day``: the rate with the latest ``effective_from`` ≤ day.

    Rule: refused (naming ``field``) when the table has no rate in force on that day.
    """
    if not isinstance(day, date):
        raise ValidationFailed("Enter a date.", field=field)
    rate = db.session.scalar(select(LprRate).where(LprRate.effective_from <= day)
                             .order_by(LprRate.effective_from.desc()).limit(1))
    if rate is None:
        first = db.session.scalar(select(func.min(LprRate.effective_from)))
        if first is None:
            raise ValidationFailed("The bureau has not recorded any 1-year LPR yet, so no benchmark is known for "
                                   "%(day)s.", field=field, day=day.isoformat())
        raise ValidationFailed("No 1-year LPR is recorded in force on %(day)s: the bureau's table starts on "
                               "%(first)s.", field=field, day=day.isoformat(), first=first.isoformat())
    return rate


def add_lpr_rate(actor: Actor, effective_from: date, rate_pct: Decimal) -> LprRate:
    """Record the 1-year LPR in force from a date.

    Rule: officers only; one rate per date (a second one is refused naming the existing rate);
    0 < rate ≤ 100 with at most two decimals; audited.
    """
    require(actor, "subsidies.maintain_lpr")
    problems = []
    if not isinstance(effective_from, date):
        problems.append(("effective_from", N_("Enter the date from which the rate applies."), {}))
    if not isinstance(rate_pct, Decimal) or not rate_pct.is_finite() or rate_pct <= 0 or rate_pct > HUNDRED \
            or rate_pct != rate_pct.quantize(Decimal("0.01")):
        problems.append(("rate_pct", N_("Enter the rate in percent, above 0 and at most 100, with at most two decimals."), {}))
    if problems:
        raise InputRefused(problems)
    existing = db.session.scalar(select(LprRate).where(LprRate.effective_from == effective_from))
    if existing is not None:
        raise Duplicate("A rate is already recorded from %(day)s (%(rate)s%%). Each date can have one rate.",
                        field="effective_from", day=effective_from.isoformat(), rate=existing.rate_pct)
    row = LprRate(effective_from=effective_from, rate_pct=rate_pct)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise Duplicate("A rate is already recorded from %(day)s. Each date can have one rate.",
                        field="effective_from", day=effective_from.isoformat()) from None
    record_event(actor, "lpr_rate.created", "lpr_rate", row.id,
                 after={"effective_from": effective_from, "rate_pct": rate_pct})
    return row
