"""Industrial-robot purchase subsidy.

Per line: VAT-exclusive cost = quantity × unit price; rate 10% (imported brand), 15% (domestic brand),
20% (domestic brand bought by an enterprise in a pilot industry); subsidy rounded to the fen half-up.
The total is the sum of the lines, then limited to what is left of the per-enterprise cap; the capped
total is allocated to the lines in order so the working shows where the cap bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..identifiers import invoice_key
from .common import (
    CalcInputError,
    Step,
    fmt_money,
    fmt_pct,
    require_amount,
    require_range,
    round_fen,
    step,
)

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class RobotParams:
    """Subsidy rates (%) and the per-enterprise cap per programme (yuan)."""

    base_rate: Decimal = Decimal("10")
    domestic_rate: Decimal = Decimal("15")
    pilot_domestic_rate: Decimal = Decimal("20")
    enterprise_cap: Decimal = Decimal("2000000")


@dataclass(frozen=True)
class RobotLine:
    model: str
    manufacturer: str
    domestic: bool
    quantity: int
    unit_price_excl_vat: Decimal
    invoice_no: str
    invoice_date: date


@dataclass(frozen=True)
class LineResult:
    index: int  # 0-based position in the input
    model: str
    invoice_no: str
    rate: Decimal
    eligible_cost: Decimal
    subsidy: Decimal
    granted: Decimal
    cap_reduction: Decimal


@dataclass(frozen=True)
class RobotSubsidyResult:
    total_subsidy: Decimal
    uncapped_total: Decimal
    cap_applied: bool
    cap_remaining_before: Decimal
    lines: tuple[LineResult, ...]
    working: tuple[Step, ...]


_RATE_TEXT = {
    "robot.rate.base": "Line {index} ({model}, invoice {invoice_no}): not a domestic brand, base rate {rate}%",
    "robot.rate.domestic": "Line {index} ({model}, invoice {invoice_no}): domestic brand, rate {rate}%",
    "robot.rate.pilot_domestic": "Line {index} ({model}, invoice {invoice_no}): domestic brand bought by an "
    "enterprise in a pilot industry, rate {rate}%",
}


def line_rate(domestic: bool, pilot_industry: bool, params: RobotParams = RobotParams()) -> tuple[str, Decimal]:
    """Rate rule: 20% domestic brand in a pilot industry, 15% domestic brand, else 10%.
    Returns the working-step code naming the tier and the rate (%)."""
    if domestic and pilot_industry:
        return "robot.rate.pilot_domestic", params.pilot_domestic_rate
    if domestic:
        return "robot.rate.domestic", params.domestic_rate
    return "robot.rate.base", params.base_rate


def _check(lines: Sequence[RobotLine], params: RobotParams) -> list[Decimal]:
    for name in ("base_rate", "domestic_rate", "pilot_domestic_rate"):
        require_range(getattr(params, name), f"params.{name}", _ZERO, _HUNDRED)
    require_amount(params.enterprise_cap, "params.enterprise_cap")
    if len(lines) == 0:
        raise CalcInputError("lines", "at least one robot line is required", limit=1)

    prices = []
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        prefix = f"lines.{i}"
        for name in ("model", "manufacturer", "invoice_no"):
            value = getattr(line, name)
            if not isinstance(value, str) or not value.strip():
                raise CalcInputError(f"{prefix}.{name}", "is required")
        if not isinstance(line.domestic, bool):
            raise CalcInputError(f"{prefix}.domestic", "must be true or false")
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise CalcInputError(f"{prefix}.quantity", "must be a whole number", limit=1)
        if line.quantity < 1:
            raise CalcInputError(f"{prefix}.quantity", "must be at least 1", limit=1)
        prices.append(require_amount(line.unit_price_excl_vat, f"{prefix}.unit_price_excl_vat", positive=True))
        if not isinstance(line.invoice_date, date):
            raise CalcInputError(f"{prefix}.invoice_date", "must be a date")
        key = invoice_key(line.invoice_no)
        if key in seen:
            first = seen[key]
            raise CalcInputError(
                f"{prefix}.invoice_no",
                f"invoice number {line.invoice_no.strip()} on line {i + 1} (lines.{i}) duplicates line "
                f"{first + 1} (lines.{first}); an invoice can be claimed only once",
                limit=f"lines.{first}.invoice_no",
            )
        seen[key] = i
    return prices


def robot_subsidy(
    lines: Sequence[RobotLine],
    pilot_industry: bool,
    already_granted: Decimal = Decimal(0),
    params: RobotParams = RobotParams(),
) -> RobotSubsidyResult:
    """Compute the robot subsidy: per line cost × 10/15/20% rounded to the fen, summed, then limited
    to max(0, enterprise cap − already granted). Duplicate invoice numbers are refused."""
    prices = _check(lines, params)
    if not isinstance(pilot_industry, bool):
        raise CalcInputError("pilot_industry", "must be true or false")
    granted_before = require_amount(already_granted, "already_granted")
    cap = round_fen(params.enterprise_cap)

    working: list[Step] = []
    priced = []
    for i, (line, price) in enumerate(zip(lines, prices)):
        code, rate = line_rate(line.domestic, pilot_industry, params)
        cost = line.quantity * price
        subsidy = round_fen(cost * rate / _HUNDRED)
        priced.append((line, rate, cost, subsidy))
        labels = {"index": i + 1, "model": line.model.strip(), "invoice_no": line.invoice_no.strip()}
        working.append(step(code, _RATE_TEXT[code], rate=fmt_pct(rate, 0), **labels))
        working.append(
            step(
                "robot.line.subsidy",
                "Line {index}: cost = {quantity} × {unit_price} = {cost}; subsidy = {cost} × {rate}% = {subsidy}",
                index=i + 1,
                quantity=line.quantity,
                unit_price=fmt_money(price),
                cost=fmt_money(cost),
                rate=fmt_pct(rate, 0),
                subsidy=fmt_money(subsidy),
            )
        )

    uncapped = sum((p[3] for p in priced), round_fen(_ZERO))
    remaining = max(round_fen(_ZERO), cap - granted_before)
    total = min(uncapped, remaining)
    cap_applied = uncapped > remaining
    working.append(step("robot.subtotal", "Sum of the line subsidies = {uncapped_total}", uncapped_total=fmt_money(uncapped)))
    working.append(
        step(
            "robot.cap.remaining",
            "Cap remaining = max(0, cap {cap} − already granted {already_granted}) = {remaining}",
            cap=fmt_money(cap),
            already_granted=fmt_money(granted_before),
            remaining=fmt_money(remaining),
        )
    )
    if not cap_applied:
        working.append(
            step(
                "robot.cap.not_reached",
                "The sum {uncapped_total} is within the remaining cap {remaining}",
                uncapped_total=fmt_money(uncapped),
                remaining=fmt_money(remaining),
            )
        )

    results = []
    left = total
    for i, (line, rate, cost, subsidy) in enumerate(priced):
        granted = min(subsidy, left)
        left -= granted
        reduction = subsidy - granted
        results.append(
            LineResult(
                index=i,
                model=line.model.strip(),
                invoice_no=line.invoice_no.strip(),
                rate=rate,
                eligible_cost=cost,
                subsidy=subsidy,
                granted=granted,
                cap_reduction=reduction,
            )
        )
        if reduction == 0:
            continue
        labels = {"index": i + 1, "model": line.model.strip(), "invoice_no": line.invoice_no.strip()}
        if granted > 0:
            working.append(
                step(
                    "robot.cap.line",
                    "The cap is reached at line {index} ({model}, invoice {invoice_no}): granted {granted} "
                    "of {subsidy} (reduced by {reduction})",
                    granted=fmt_money(granted),
                    subsidy=fmt_money(subsidy),
                    reduction=fmt_money(reduction),
                    **labels,
                )
            )
        else:
            working.append(
                step(
                    "robot.cap.line_excluded",
                    "Line {index} ({model}, invoice {invoice_no}): nothing granted, the cap is exhausted "
                    "(reduced by {reduction})",
                    reduction=fmt_money(reduction),
                    **labels,
                )
            )

    working.append(step("robot.total", "Total subsidy = {total}", total=fmt_money(total)))
    return RobotSubsidyResult(
        total_subsidy=total,
        uncapped_total=uncapped,
        cap_applied=cap_applied,
        cap_remaining_before=remaining,
        lines=tuple(results),
        working=tuple(working),
    )
