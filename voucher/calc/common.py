"""Shared pieces of the calculations: fen rounding, input coercion, working steps, input errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")


def round_fen(x: Decimal) -> Decimal:
    """Round an amount to the fen (0.01 yuan), half-up."""
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


def round_to(x: Decimal, places: int) -> Decimal:
    """Round to `places` decimal places, half-up (halves go away from zero)."""
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt(x: Decimal | int | str) -> str:
    """Format a number plainly (no exponent, no grouping)."""
    if isinstance(x, Decimal):
        return format(x, "f")
    return str(x)


def fmt_money(x: Decimal) -> str:
    """Format an amount in yuan with two decimals (more only if it has a part below the fen)."""
    rounded = round_fen(x)
    # Never show a rounded figure that misrepresents the amount actually compared or summed.
    return format(rounded if rounded == x else x, "f")


def fmt_pct(x: Decimal, min_places: int = 2, max_places: int = 6) -> str:
    """Format a percentage with at least `min_places` decimals and no trailing zeros beyond them."""
    x = round_to(x, max_places)
    places = max(min_places, -x.normalize().as_tuple().exponent)
    return format(round_to(x, places), "f")


class CalcInputError(ValueError):
    """An input to a calculation is invalid.

    `field` is a dotted path to the offending input (e.g. "periods.0.end"), `message` an English
    sentence, `limit` the bound that was violated where there is one.
    """

    def __init__(self, field: str, message: str, limit: object | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.limit = limit


@dataclass(frozen=True)
class Step:
    """One line of itemized working.

    `text` is a fixed English template with `{name}` placeholders (the web layer passes it through
    gettext before formatting); `values` holds every placeholder value as a string.
    """

    code: str
    text: str
    # A dict cannot be hashed; keep Step comparable but leave values out of the hash.
    values: Mapping[str, str] = field(default_factory=dict, hash=False)

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        """Return the sentence with the values filled in, translating the template first if asked."""
        template = translate(self.text) if translate is not None else self.text
        return template.format_map(dict(self.values))


def step(code: str, text: str, **values: object) -> Step:
    """Build a Step, formatting Decimals plainly and everything else with str()."""
    return Step(code, text, {k: fmt(v) if isinstance(v, (Decimal, int)) else str(v) for k, v in values.items()})


def to_decimal(value: object, field: str) -> Decimal:
    """Coerce an int, Decimal or numeric string to a finite Decimal; floats are refused (money is exact)."""
    if isinstance(value, bool):
        raise CalcInputError(field, "must be a number, not a boolean")
    if isinstance(value, float):
        raise CalcInputError(field, "must be a Decimal, not a float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise CalcInputError(field, "must be a number") from None
    else:
        raise CalcInputError(field, "must be a number")
    if not result.is_finite():
        raise CalcInputError(field, "must be a finite number")
    return result


def require_amount(value: object, field: str, *, positive: bool = False) -> Decimal:
    """Coerce a yuan amount: a non-negative (or positive) Decimal with no part below the fen,
    returned with exactly two decimals."""
    amount = to_decimal(value, field)
    if positive and amount <= 0:
        raise CalcInputError(field, "must be greater than zero", limit=Decimal(0))
    if amount < 0:
        raise CalcInputError(field, "must not be negative", limit=Decimal(0))
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise CalcInputError(field, "must be in whole fen (at most two decimals)", limit=FEN)
    return amount.quantize(FEN)


def require_range(value: object, field: str, low: Decimal, high: Decimal, *, low_inclusive: bool = True) -> Decimal:
    """Coerce a number and check low <= value <= high (or low < value when low is exclusive)."""
    number = to_decimal(value, field)
    if number > high:
        raise CalcInputError(field, f"must be at most {fmt(high)}", limit=high)
    if number < low or (not low_inclusive and number == low):
        bound = "at least" if low_inclusive else "greater than"
        raise CalcInputError(field, f"must be {bound} {fmt(low)}", limit=low)
    return number
