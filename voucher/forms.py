"""Form fields shared by every domain: strict money, percent and integer input.

WTForms' DecimalField accepts ``1e5`` and any number of decimals; the money and rate fields take
amounts as people write them (``3500万``, ``800万元``, ``3.2%``, full-width digits, thousands
separators: :mod:`voucher.numbers`), exactly, with at most two decimals and a range, with a message
naming the field's limit; they carry ``inputmode="decimal"`` and show back what they understood.
"""
from __future__ import annotations

import re
from decimal import Decimal

from flask import g
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, StringField
from wtforms.validators import ValidationError

from voucher.money import format_money
from voucher.numbers import NumberError, parse_decimal, parse_number

_INT = re.compile(r"^-?[0-9]+$")
# Bounds when a field gives none: what the database stores (an INTEGER column; money as a
# BigInteger count of fen) — a larger number would overflow there and answer 500.
INT_MAX = 2**31 - 1
AMOUNT_MAX = Decimal("999999999999.99")

MONEY_FORMAT = _l("Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals).")
RATE_FORMAT = _l("Enter a number such as 2.40 (at most two decimals).")


def nul_names(values) -> list[str]:
    """The names (NUL removed) of the entries of a request multidict holding a NUL character."""
    return [key.replace("\x00", "") or "?" for key, value in values.items(multi=True)
            if "\x00" in key or (isinstance(value, str) and "\x00" in value)]


def _leaf_fields(fields):
    for field in fields:
        if isinstance(field, (FormField, FieldList)):
            yield from _leaf_fields(field)
        else:
            yield field


class VoucherForm(FlaskForm):
    """The base of every web form: a field sent with a NUL character (PostgreSQL text cannot hold one)
    is refused on that field, naming it, like any other invalid input (``validate`` fails, the view
    shows the form again with 422); the request's guard (``configure_security``) answers 422 for what
    no form read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in _leaf_fields(self):
            if any(isinstance(v, str) and "\x00" in v for v in (field.raw_data or ())):
                label = field.label.text if field.label is not None else field.name
                field.process_errors.insert(0, gettext(
                    "“%(name)s” contains a character that is not allowed (NUL).", name=str(label)))
                field.errors = list(field.process_errors)
                g.nul_refused_by_form = True


def parse_amount(raw: str | None) -> Decimal | None:
    """Decimal with at most two places from an amount as people write it (``voucher.numbers``), or
    None when empty or not such a number."""
    try:
        return parse_decimal(raw, places=2, kind="money")
    except NumberError:
        return None


class _HumanNumber(StringField):
    """Shared by money and rate fields: parse with :mod:`voucher.numbers`, show the value back."""

    kind = "money"
    format_message = MONEY_FORMAT

    def __init__(self, label=None, validators=None, *, places: int = 2, **kwargs):
        render_kw = dict(kwargs.pop("render_kw", None) or {})
        render_kw.setdefault("inputmode", "decimal")
        render_kw.setdefault("autocomplete", "off")
        render_kw.setdefault("data-amount", self.kind)
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.places = places
        self.plain_input = True

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        try:
            parsed = parse_number(self.raw, places=self.places, kind=self.kind)
        except NumberError as err:
            if err.code == "too_long" and self.max_value is not None:
                raise ValueError(str(self.too_large_message())) from None
            raise ValueError(str(self.format_message)) from None
        if parsed is not None:
            self.data = parsed.value
            self.plain_input = parsed.plain

    def too_large_message(self):
        return _l("Must be at most %(max)s.", max=self.show(self.max_value))

    def show(self, value) -> str:
        return format_money(value) if self.kind == "money" else f"{value}%"

    def echo(self) -> str:
        """What was understood, shown next to the field ("= ¥35,000,000.00") when the input was not
        a plain number; empty otherwise."""
        if isinstance(self.data, Decimal) and self.raw_data and not self.plain_input:
            return "= " + self.show(self.data)
        return ""


class MoneyField(_HumanNumber):
    """An amount in yuan: at most two decimals, within [min, max]; ``data`` is a Decimal."""

    def __init__(self, label=None, validators=None, *, min_value: Decimal | str = "0",
                 max_value: Decimal | str | None = None, allow_zero: bool = True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min_value = Decimal(min_value)
        self.max_value = Decimal(max_value) if max_value is not None else AMOUNT_MAX
        self.allow_zero = allow_zero

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:.2f}" if isinstance(self.data, Decimal) else ""

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.data < self.min_value or (not self.allow_zero and self.data == 0):
            raise ValidationError(str(_l("Must be more than %(min)s.", min=format_money(self.min_value)))
                                  if not self.allow_zero else
                                  str(_l("Must be at least %(min)s.", min=format_money(self.min_value))))
        if self.max_value is not None and self.data > self.max_value:
            raise ValidationError(str(_l("Must be at most %(max)s.", max=format_money(self.max_value))))


class PercentField(_HumanNumber):
    """A percentage (or 0–100 score, or a baseline figure) with at most two decimals, within [min, max];
    a trailing % is allowed."""

    kind = "rate"
    format_message = RATE_FORMAT

    def __init__(self, label=None, validators=None, *, min_value="0", max_value="100", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min_value, self.max_value = Decimal(min_value), Decimal(max_value)

    def too_large_message(self):
        return _l("Must be between %(min)s and %(max)s.", min=self.min_value, max=self.max_value)

    def show(self, value) -> str:
        return format(value, "f")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format(self.data, "f") if isinstance(self.data, Decimal) else ""

    def pre_validate(self, form):
        if self.data is not None and not (self.min_value <= self.data <= self.max_value):
            raise ValidationError(str(_l("Must be between %(min)s and %(max)s.", min=self.min_value, max=self.max_value)))


class IntField(StringField):
    """A whole number within [min, max] (no decimals, no exponent, ASCII digits only)."""

    def __init__(self, label=None, validators=None, *, min_value: int = 0, max_value: int | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min_value = min_value
        self.max_value = max_value if max_value is not None else INT_MAX

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        text = self.raw.strip()
        self.data = None
        if text and not _INT.match(text):
            raise ValueError(str(_l("Enter a whole number.")))
        if len(text.lstrip("-")) > 18:  # never hand int() a huge string; out of any range anyway
            raise ValueError(str(_l("Must be at most %(max)s.", max=self.max_value)))
        self.data = int(text) if text else None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return str(self.data) if self.data is not None else ""

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.data < self.min_value:
            raise ValidationError(str(_l("Must be at least %(min)s.", min=self.min_value)))
        if self.max_value is not None and self.data > self.max_value:
            raise ValidationError(str(_l("Must be at most %(max)s.", max=self.max_value)))


__all__ = ["MoneyField", "PercentField", "IntField", "parse_amount", "Field"]
