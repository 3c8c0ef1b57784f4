"""The amount of a recovery order (追回, issue 18 §3): whole, or pro rata to the obligation's
remaining time.

Whole: the amount still recoverable (paid for the grant, less what earlier orders already claim).
Pro rata: that amount × days of the obligation remaining after the breach ÷ days of the whole
obligation, rounded to the fen half-up.  A breach on or before the obligation's first day claims
everything; a breach on or after its last day claims nothing and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .common import CalcInputError, Step, fmt_money, require_amount, round_fen, step

METHODS = ("whole", "pro_rata")


@dataclass(frozen=True)
class RecoveryResult:
    method: str
    recoverable: Decimal  # what may still be recovered (the base)
    total_days: int | None
    remaining_days: int | None
    amount: Decimal  # the amount of the order
    steps: tuple[Step, ...]


def recovery_amount(recoverable, method: str, *, starts_on: date | None = None, ends_on: date | None = None,
                    breach_on: date | None = None) -> RecoveryResult:
    """Work out a recovery order's amount (see the module's docstring)."""
    base = require_amount(recoverable, "recoverable", positive=True)
    if method not in METHODS:
        raise CalcInputError("method", "must be whole or pro_rata")
    steps = [step("base", "Recoverable: paid for the grant, less earlier recovery orders = {base}",
                  base=fmt_money(base))]
    if method == "whole":
        steps.append(step("whole", "Whole recovery: the order is {amount}", amount=fmt_money(base)))
        return RecoveryResult(method, base, None, None, base, tuple(steps))
    if starts_on is None or ends_on is None:
        raise CalcInputError("method", "pro rata needs an obligation with a start and an end date")
    if breach_on is None:
        raise CalcInputError("breach_on", "is required")
    if ends_on <= starts_on:
        raise CalcInputError("ends_on", "must be after the obligation's start", limit=starts_on)
    if breach_on >= ends_on:
        raise CalcInputError("breach_on", "must be before the obligation's end", limit=ends_on)
    total = (ends_on - starts_on).days
    remaining = min(total, (ends_on - breach_on).days)
    amount = round_fen(base * remaining / total)
    steps.append(step("period", "Obligation from {start} to {end}: {total} days", start=starts_on.isoformat(),
                      end=ends_on.isoformat(), total=total))
    steps.append(step("remaining", "Breach on {breach}: {remaining} of {total} days remained",
                      breach=breach_on.isoformat(), remaining=remaining, total=total))
    steps.append(step("pro_rata", "{base} × {remaining} ÷ {total} = {amount} (rounded half-up to the fen)",
                      base=fmt_money(base), remaining=remaining, total=total, amount=fmt_money(amount)))
    return RecoveryResult(method, base, total, remaining, amount, tuple(steps))
