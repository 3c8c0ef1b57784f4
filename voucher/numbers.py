"""Amounts and rates as people write them, converted exactly (``Decimal``, never a float).

Accepted (after trimming spaces, including the ideographic and no-break ones):

* ASCII or full-width digits (``３５００``), a ``.`` or full-width ``．`` decimal point;
* thousands separators only in groups of three (``1,234,567.89``; ``3,50`` is refused: it could
  be a European decimal comma);
* money: a leading ``¥``/``￥``, a trailing ``元``/``yuan``, and one multiplier ``万`` (10,000) or
  ``亿`` (100,000,000): ``3500万``, ``800万元``, ``1.5亿``;
* rates: a trailing ``%`` or ``％`` (``3.2%`` is 3.2);
* a leading minus sign (the field's own lower bound then refuses it with its limit).

Refused with :class:`NumberError` (a message naming what is wrong, never an exception that
becomes a 500): exponents (``1e9``), ``NaN``, ``∞``, other scripts' digits (``٣``, ``²``),
two multipliers (``万万``), a multiplier on a rate, more decimals than the field keeps once the
multiplier is applied, and anything longer than :data:`MAX_INPUT` characters or with more than
:data:`MAX_DIGITS` digits (such a number is over every field's limit anyway).

The same rules are written in ``static/js/amounts.js`` for the preview shown next to a field while
typing; this module decides.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

MAX_INPUT = 40
MAX_DIGITS = 20
_EXACT = Context(prec=60)

# Full-width forms people type with a Chinese input method; nothing else is folded (NFKC would
# also turn "²" into "2" and "①" into "1").
_FOLD = {ord("０") + i: ord("0") + i for i in range(10)}
_FOLD.update({ord("．"): ".", ord("，"): ",", ord("％"): "%", ord("－"): "-", ord("−"): "-", ord("＋"): "+",
              ord("￥"): "¥"})
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff]+")
_NUMBER = re.compile(r"^(?P<sign>[-+]?)(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?$|"
                     r"^(?P<sign2>[-+]?)\.(?P<frac2>[0-9]+)$")
MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


class NumberError(ValueError):
    """Why a spelling is refused: ``code`` (``format``, ``decimals``, ``too_long``) and its parameters."""

    def __init__(self, code: str, **params) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Parsed:
    value: Decimal
    plain: bool  # typed as a plain number (no unit, multiplier or separator): nothing to echo back


def parse_number(raw: str | None, *, places: int = 2, kind: str = "money") -> Parsed | None:
    """The exact value of ``raw`` or None when empty; :class:`NumberError` when not a number.

    ``kind`` is ``money`` (yuan: ¥, 元, 万, 亿 allowed) or ``rate`` (a percentage: % allowed).
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise NumberError("format")
    text = _SPACES.sub("", raw.translate(_FOLD))
    if not text:
        return None
    if len(text) > MAX_INPUT:
        raise NumberError("too_long", max=MAX_INPUT)
    multiplier = Decimal(1)
    if kind == "money":
        if text.startswith("¥"):
            text = text[1:]
        for unit in ("元", "yuan", "RMB"):
            if text.lower().endswith(unit.lower()):
                text = text[: -len(unit)]
                break
        if text and text[-1] in MULTIPLIERS:
            multiplier = MULTIPLIERS[text[-1]]
            text = text[:-1]
    elif kind == "rate":
        if text.endswith("%"):
            text = text[:-1]
    else:  # pragma: no cover - a programming error
        raise ValueError(kind)
    match = _NUMBER.match(text)
    if not match:
        raise NumberError("format")
    sign = match.group("sign") or match.group("sign2") or ""
    whole = (match.group("int") or "0").replace(",", "")
    frac = match.group("frac") or match.group("frac2") or ""
    if len(whole.lstrip("0")) + len(frac) > MAX_DIGITS:
        raise NumberError("too_long", max=MAX_DIGITS)
    try:
        value = _EXACT.multiply(Decimal(f"{'-' if sign == '-' else ''}{whole}.{frac or '0'}"), multiplier)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain digits
        raise NumberError("format") from None
    step = Decimal(1).scaleb(-places)
    if value != value.quantize(step, context=_EXACT):
        raise NumberError("decimals", places=places)
    value = value.quantize(step, context=_EXACT)
    if value == 0:
        value = abs(value)  # "-0" is zero
    plain = bool(re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", raw.strip()))
    return Parsed(value, plain)


def parse_decimal(raw: str | None, *, places: int = 2, kind: str = "money") -> Decimal | None:
    parsed = parse_number(raw, places=places, kind=kind)
    return parsed.value if parsed is not None else None
