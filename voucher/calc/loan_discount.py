"""Interest discount on digital technical-reform loans.

Eligible if the loan's annual rate <= benchmark (1-year LPR) × (1 − margin). Per interest period:
eligible principal = min(outstanding, cap); discount = eligible principal × subsidy points × actual
days / day basis, rounded to the fen half-up, then capped at the interest actually paid. The total is
the sum of the rounded period amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .common import (
    CalcInputError,
    Step,
    fmt_money,
    fmt_pct,
    require_amount,
    require_range,
    round_fen,
    round_to,
    step,
)

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LoanParams:
    """Programme parameters: rate margin below the benchmark (%), subsidy (percentage points),
    principal cap (yuan) and the day-count basis."""

    rate_margin_pct: Decimal = Decimal("20")
    subsidy_points: Decimal = Decimal("2")
    principal_cap: Decimal = Decimal("10000000")
    day_basis: int = 360


@dataclass(frozen=True)
class InterestPeriod:
    start: date
    end: date
    outstanding_principal: Decimal
    interest_paid: Decimal


@dataclass(frozen=True)
class PrincipalUse:
    """Principal of the enterprise's other claims (served before this one) discounted on each day
    from ``start`` to the day before ``end`` (the periods' day convention)."""

    start: date
    end: date
    principal: Decimal


@dataclass(frozen=True)
class PeriodResult:
    start: date
    end: date
    days: int
    outstanding_principal: Decimal
    eligible_principal: Decimal
    principal_capped: bool
    interest_paid: Decimal
    raw_discount: Decimal
    rounded_discount: Decimal
    discount: Decimal
    capped_by_interest_paid: bool
    interest_cap_reduction: Decimal


@dataclass(frozen=True)
class LoanDiscountResult:
    eligible: bool
    reason: str | None
    rate_ceiling: Decimal
    total_discount: Decimal
    periods: tuple[PeriodResult, ...]
    working: tuple[Step, ...]


def rate_ceiling(benchmark_rate: Decimal, params: LoanParams = LoanParams()) -> Decimal:
    """Highest eligible annual rate (%): benchmark × (1 − margin/100), exact (not rounded)."""
    return benchmark_rate * (1 - params.rate_margin_pct / _HUNDRED)


def _check_params(params: LoanParams) -> None:
    require_range(params.rate_margin_pct, "params.rate_margin_pct", _ZERO, _HUNDRED)
    require_range(params.subsidy_points, "params.subsidy_points", _ZERO, _HUNDRED)
    require_amount(params.principal_cap, "params.principal_cap")
    if isinstance(params.day_basis, bool) or not isinstance(params.day_basis, int) or params.day_basis <= 0:
        raise CalcInputError("params.day_basis", "must be a positive whole number of days", limit=1)


def _check_periods(periods: Sequence[InterestPeriod]) -> list[InterestPeriod]:
    if len(periods) == 0:
        raise CalcInputError("periods", "at least one interest period is required", limit=1)
    checked = []
    for i, period in enumerate(periods):
        prefix = f"periods.{i}"
        for name in ("start", "end"):
            value = getattr(period, name)
            # datetime is a date subclass; its time part would silently change the day count.
            if not isinstance(value, date) or hasattr(value, "hour"):
                raise CalcInputError(f"{prefix}.{name}", "must be a date")
        if period.end <= period.start:
            raise CalcInputError(f"{prefix}.end", "must be after the start date", limit=period.start)
        checked.append(
            InterestPeriod(
                start=period.start,
                end=period.end,
                outstanding_principal=require_amount(period.outstanding_principal, f"{prefix}.outstanding_principal"),
                interest_paid=require_amount(period.interest_paid, f"{prefix}.interest_paid"),
            )
        )
    return checked


def loan_discount(
    benchmark_rate: Decimal,
    loan_rate: Decimal,
    periods: Sequence[InterestPeriod],
    params: LoanParams = LoanParams(),
    others: Sequence[PrincipalUse] = (),
) -> LoanDiscountResult:
    """Compute the interest discount: refuse loans above benchmark × (1 − 20%); per period
    min(outstanding, 10M) × 2 points × actual days / 360, rounded to the fen, capped at interest paid.

    The principal cap holds per enterprise and day across its contracts: on days where ``others``
    (its claims served earlier) already use part of the cap, this claim is discounted only on what
    remains that day (nothing when they use it all); the working names those days and figures."""
    _check_params(params)
    for i, use in enumerate(others):
        if not isinstance(use.start, date) or not isinstance(use.end, date) or use.end <= use.start:
            raise CalcInputError(f"others.{i}", "must be a day range that ends after it starts")
        require_amount(use.principal, f"others.{i}.principal")
    benchmark = require_range(benchmark_rate, "benchmark_rate", _ZERO, _HUNDRED, low_inclusive=False)
    rate = require_range(loan_rate, "loan_rate", _ZERO, _HUNDRED, low_inclusive=False)
    checked = _check_periods(periods)

    ceiling = rate_ceiling(benchmark, params)
    working = [
        step(
            "loan.ceiling",
            "Rate ceiling = benchmark {benchmark}% × (1 − {margin}%) = {ceiling}%",
            benchmark=fmt_pct(benchmark),
            margin=fmt_pct(params.rate_margin_pct, 0),
            ceiling=fmt_pct(ceiling),
        )
    ]
    if rate > ceiling:
        refusal = step(
            "loan.ineligible",
            "Loan rate {loan_rate}% is above the rate ceiling {ceiling}%: the loan is not eligible for an interest discount",
            loan_rate=fmt_pct(rate),
            ceiling=fmt_pct(ceiling),
        )
        working.append(refusal)
        return LoanDiscountResult(
            eligible=False,
            reason=refusal.render(),
            rate_ceiling=ceiling,
            total_discount=round_fen(_ZERO),
            periods=(),
            working=tuple(working),
        )
    working.append(
        step(
            "loan.eligible",
            "Loan rate {loan_rate}% is at or below the rate ceiling {ceiling}%: the loan is eligible",
            loan_rate=fmt_pct(rate),
            ceiling=fmt_pct(ceiling),
        )
    )

    results = []
    for index, period in enumerate(checked, start=1):
        result, period_working = _period(index, period, params, others)
        results.append(result)
        working.extend(period_working)

    total = sum((r.discount for r in results), round_fen(_ZERO))
    working.append(
        step("loan.total", "Total discount = sum of the rounded period discounts = {total}", total=fmt_money(total))
    )
    return LoanDiscountResult(
        eligible=True,
        reason=None,
        rate_ceiling=ceiling,
        total_discount=total,
        periods=tuple(results),
        working=tuple(working),
    )


def used_by_others(start: date, end: date, others: Sequence[PrincipalUse]) -> list[tuple[date, date, Decimal]]:
    """Split ``start``..``end`` into runs of days on which the other claims' principal is constant:
    ``[(from, to, principal used)]``, covering the whole range, zero where nothing else is claimed."""
    cuts = {start, end}
    for use in others:
        for day in (use.start, use.end):
            if start < day < end:
                cuts.add(day)
    days = sorted(cuts)
    runs: list[tuple[date, date, Decimal]] = []
    for a, b in zip(days, days[1:]):
        used = sum((u.principal for u in others if u.start <= a and b <= u.end), _ZERO)
        if runs and runs[-1][2] == used:
            runs[-1] = (runs[-1][0], b, used)
        else:
            runs.append((a, b, used))
    return runs


def _period(index: int, period: InterestPeriod, params: LoanParams,
            others: Sequence[PrincipalUse] = ()) -> tuple[PeriodResult, list[Step]]:
    days = (period.end - period.start).days
    outstanding = period.outstanding_principal
    principal_capped = outstanding > params.principal_cap
    principal = round_fen(params.principal_cap) if principal_capped else outstanding
    runs = used_by_others(period.start, period.end, others)
    if any(used > 0 for _, _, used in runs):
        return _shared_period(index, period, params, runs, principal)
    # One division at the end keeps the raw amount exact whenever it can be.
    raw = principal * params.subsidy_points * days / (_HUNDRED * params.day_basis)
    rounded = round_fen(raw)
    capped_by_interest = rounded > period.interest_paid
    discount = period.interest_paid if capped_by_interest else rounded
    reduction = rounded - discount

    working = [
        step(
            "loan.period.days",
            "Period {index}: {start} to {end} = {days} actual days",
            index=index,
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            days=days,
        )
    ]
    if principal_capped:
        working.append(
            step(
                "loan.period.principal_cap",
                "Period {index}: eligible principal = min(outstanding {outstanding}, cap {cap}) = {principal}",
                index=index,
                outstanding=fmt_money(outstanding),
                cap=fmt_money(params.principal_cap),
                principal=fmt_money(principal),
            )
        )
    else:
        working.append(
            step(
                "loan.period.principal",
                "Period {index}: eligible principal = outstanding {outstanding} (within the cap {cap})",
                index=index,
                outstanding=fmt_money(outstanding),
                cap=fmt_money(params.principal_cap),
            )
        )
    working.append(
        step(
            "loan.period.discount",
            "Period {index}: discount = {principal} × {points}% × {days} / {basis} = {raw}, rounded to the fen = {rounded}",
            index=index,
            principal=fmt_money(principal),
            points=fmt_pct(params.subsidy_points, 0),
            days=days,
            basis=params.day_basis,
            raw=fmt_pct(round_to(raw, 6), 2, 6),
            rounded=fmt_money(rounded),
        )
    )
    if capped_by_interest:
        working.append(
            step(
                "loan.period.interest_cap",
                "Period {index}: the discount {rounded} exceeds the interest paid {interest_paid}; "
                "capped at {discount} (reduced by {reduction})",
                index=index,
                rounded=fmt_money(rounded),
                interest_paid=fmt_money(period.interest_paid),
                discount=fmt_money(discount),
                reduction=fmt_money(reduction),
            )
        )
    result = PeriodResult(
        start=period.start,
        end=period.end,
        days=days,
        outstanding_principal=outstanding,
        eligible_principal=principal,
        principal_capped=principal_capped,
        interest_paid=period.interest_paid,
        raw_discount=raw,
        rounded_discount=rounded,
        discount=discount,
        capped_by_interest_paid=capped_by_interest,
        interest_cap_reduction=reduction,
    )
    return result, working


def _shared_period(index: int, period: InterestPeriod, params: LoanParams, runs: list[tuple[date, date, Decimal]],
                   own: Decimal) -> tuple[PeriodResult, list[Step]]:
    """A period some of whose days the enterprise's earlier claims already discount: each run of
    days is discounted on min(own eligible principal, cap − principal used by the others)."""
    days = (period.end - period.start).days
    working = [
        step(
            "loan.period.days",
            "Period {index}: {start} to {end} = {days} actual days",
            index=index,
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            days=days,
        )
    ]
    raw = _ZERO
    weighted = _ZERO
    cut = own < period.outstanding_principal
    for a, b, used in runs:
        run_days = (b - a).days
        remaining = max(params.principal_cap - used, _ZERO)
        principal = min(own, round_fen(remaining))
        cut = cut or principal < own
        working.append(
            step(
                "loan.period.shared_cap",
                "Period {index}, {start} to {end} ({days} days): the enterprise's other claims approved before this "
                "one already use {used} of the principal cap {cap} per enterprise and day; eligible principal = "
                "min({own}, {cap} − {used}) = {principal}",
                index=index,
                start=a.isoformat(),
                end=b.isoformat(),
                days=run_days,
                used=fmt_money(used),
                cap=fmt_money(params.principal_cap),
                own=fmt_money(own),
                principal=fmt_money(principal),
            )
        )
        raw += principal * params.subsidy_points * run_days / (_HUNDRED * params.day_basis)
        weighted += principal * run_days
    rounded = round_fen(raw)
    capped_by_interest = rounded > period.interest_paid
    discount = period.interest_paid if capped_by_interest else rounded
    reduction = rounded - discount
    working.append(
        step(
            "loan.period.shared_discount",
            "Period {index}: discount = sum over the runs of eligible principal × {points}% × days / {basis} = {raw}, "
            "rounded to the fen = {rounded}",
            index=index,
            points=fmt_pct(params.subsidy_points, 0),
            basis=params.day_basis,
            raw=fmt_pct(round_to(raw, 6), 2, 6),
            rounded=fmt_money(rounded),
        )
    )
    if capped_by_interest:
        working.append(
            step(
                "loan.period.interest_cap",
                "Period {index}: the discount {rounded} exceeds the interest paid {interest_paid}; "
                "capped at {discount} (reduced by {reduction})",
                index=index,
                rounded=fmt_money(rounded),
                interest_paid=fmt_money(period.interest_paid),
                discount=fmt_money(discount),
                reduction=fmt_money(reduction),
            )
        )
    result = PeriodResult(
        start=period.start,
        end=period.end,
        days=days,
        outstanding_principal=period.outstanding_principal,
        eligible_principal=round_fen(weighted / days),  # day-weighted: the runs are in the working
        principal_capped=cut,
        interest_paid=period.interest_paid,
        raw_discount=raw,
        rounded_discount=rounded,
        discount=discount,
        capped_by_interest_paid=capped_by_interest,
        interest_cap_reduction=reduction,
    )
    return result, working
