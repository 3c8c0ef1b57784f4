"""Interest discount on digital technical-reform loans.

Eligible if the loan's annual rate <= benchmark (1-year LPR) × (1 − margin). Per interest period:
eligible principal = min(outstanding, cap); discount = eligible principal × subsidy points × actual
days / day basis, rounded to the fen half-up, then capped at the interest actually paid. The total is
the sum of the rounded period amounts.

Principal cap per enterprise and day (domain rules, section 10): on any day the principal on which
one enterprise receives the discount, over all its contracts, is at most the cap.  Claims are served
in the order approved, so a later claim gives ``already_subsidised`` (what earlier claims of the
enterprise take on which days) and is discounted only on what remains of the cap on each day; a
period is split into day segments where that changes, and its working says so.
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
    """Principal on which the enterprise already receives the discount from [start, end) (another
    claim's period, or a segment of it)."""

    start: date
    end: date
    principal: Decimal


@dataclass(frozen=True)
class Segment:
    """Days [start, end) of a period on which the eligible principal is constant."""

    start: date
    end: date
    days: int
    already_subsidised: Decimal
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
    # The day segments when the enterprise's cap is partly used on the period's days by earlier
    # claims (empty otherwise); ``eligible_principal`` is then the day-weighted average.
    segments: tuple[Segment, ...] = ()


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


def _check_uses(uses: Sequence[PrincipalUse]) -> list[PrincipalUse]:
    checked = []
    for i, use in enumerate(uses):
        prefix = f"already_subsidised.{i}"
        for name in ("start", "end"):
            value = getattr(use, name)
            if not isinstance(value, date) or hasattr(value, "hour"):
                raise CalcInputError(f"{prefix}.{name}", "must be a date")
        if use.end <= use.start:
            raise CalcInputError(f"{prefix}.end", "must be after the start date", limit=use.start)
        checked.append(PrincipalUse(use.start, use.end, require_amount(use.principal, f"{prefix}.principal")))
    return checked


def loan_discount(
    benchmark_rate: Decimal,
    loan_rate: Decimal,
    periods: Sequence[InterestPeriod],
    params: LoanParams = LoanParams(),
    already_subsidised: Sequence[PrincipalUse] = (),
) -> LoanDiscountResult:
    """Compute the interest discount: refuse loans above benchmark × (1 − 20%); per period
    min(outstanding, 10M) × 2 points × actual days / 360, rounded to the fen, capped at interest paid.
    ``already_subsidised``: the enterprise's principal already discounted (earlier approved claims)
    by day; on each day only what remains of the cap is eligible."""
    _check_params(params)
    uses = _check_uses(already_subsidised)
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
        result, period_working = _period(index, period, params, uses)
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


def _used_segments(start: date, end: date, uses: Sequence[PrincipalUse]) -> list[tuple[date, date, Decimal]]:
    """[start, end) cut where the principal already subsidised changes: ``(from, to, used)``."""
    cuts = {start, end}
    for use in uses:
        if use.start < end and start < use.end:
            cuts.update(d for d in (use.start, use.end) if start < d < end)
    bounds = sorted(cuts)
    out: list[tuple[date, date, Decimal]] = []
    for a, b in zip(bounds, bounds[1:]):
        used = sum((u.principal for u in uses if u.start <= a and b <= u.end), _ZERO)
        if out and out[-1][2] == used:
            out[-1] = (out[-1][0], b, used)
        else:
            out.append((a, b, used))
    return out


def _period(index: int, period: InterestPeriod, params: LoanParams,
            uses: Sequence[PrincipalUse] = ()) -> tuple[PeriodResult, list[Step]]:
    days = (period.end - period.start).days
    outstanding = period.outstanding_principal
    principal_capped = outstanding > params.principal_cap
    principal = round_fen(params.principal_cap) if principal_capped else outstanding
    cap = round_fen(params.principal_cap)
    used = _used_segments(period.start, period.end, uses)
    segments: tuple[Segment, ...] = ()
    if any(u > 0 for _, _, u in used):
        segments = tuple(Segment(a, b, (b - a).days, u, min(principal, max(_ZERO, cap - u))) for a, b, u in used)
        principal_days = sum((s.principal * s.days for s in segments), _ZERO)
    else:
        principal_days = principal * days
    # One division at the end keeps the raw amount exact whenever it can be.
    raw = principal_days * params.subsidy_points / (_HUNDRED * params.day_basis)
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
    for seg in segments:
        working.append(
            step(
                "loan.period.enterprise_cap",
                "Period {index}, {start} to {end} ({days} days): the enterprise already receives the discount on "
                "{used} of principal on these days under earlier approved claims; of the per-enterprise cap {cap} "
                "{remaining} remains, so the eligible principal is {principal}",
                index=index,
                start=seg.start.isoformat(),
                end=seg.end.isoformat(),
                days=seg.days,
                used=fmt_money(seg.already_subsidised),
                cap=fmt_money(cap),
                remaining=fmt_money(max(_ZERO, cap - seg.already_subsidised)),
                principal=fmt_money(seg.principal),
            )
        )
    if len(segments) > 1:
        working.append(
            step(
                "loan.period.discount_segments",
                "Period {index}: discount = ({terms}) × {points}% / {basis} = {raw}, rounded to the fen = {rounded}",
                index=index,
                terms=" + ".join(f"{fmt_money(s.principal)} × {s.days}" for s in segments),
                points=fmt_pct(params.subsidy_points, 0),
                basis=params.day_basis,
                raw=fmt_pct(round_to(raw, 6), 2, 6),
                rounded=fmt_money(rounded),
            )
        )
    else:
        working.append(
            step(
                "loan.period.discount",
                "Period {index}: discount = {principal} × {points}% × {days} / {basis} = {raw}, rounded to the fen = {rounded}",
                index=index,
                principal=fmt_money(segments[0].principal if segments else principal),
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
    if segments:
        principal = round_fen(principal_days / days)
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
        segments=segments,
    )
    return result, working
