"""Form fields shared by every domain: strict money, percent and integer input.

WTForms' DecimalField accepts ``1e5``, full-width digits and any number of decimals; these
fields accept plain ASCII digits (thousands commas allowed), at most two decimals, and a
range, with a message naming the field's limit.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField
from wtforms.validators import ValidationError

from voucher.money import format_money

_AMOUNT = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]{1,2})?$|^-?[0-9]+(\.[0-9]{1,2})?$")
_INT = re.compile(r"^-?[0-9]+$")
# Bounds when a field gives none: what the database stores (an INTEGER column; money as a
# BigInteger count of fen) — a larger number would overflow there and answer 500.
INT_MAX = 2**31 - 1
AMOUNT_MAX = Decimal("999999999999.99")


def parse_amount(raw: str | None) -> Decimal | None:
    """Decimal with at most two places from plain ASCII input, or None when not such a number."""
    text = (raw or "").strip().replace(" ", "")
    if not text or not _AMOUNT.match(text):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


class MoneyField(StringField):
    """An amount in yuan: at most two decimals, within [min, max]; ``data`` is a Decimal."""

    def __init__(self, label=None, validators=None, *, min_value: Decimal | str = "0",
                 max_value: Decimal | str | None = None, allow_zero: bool = True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min_value = Decimal(min_value)
        self.max_value = Decimal(max_value) if max_value is not None else AMOUNT_MAX
        self.allow_zero = allow_zero

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = parse_amount(self.raw) if self.raw.strip() else None
        if self.raw.strip() and self.data is None:
            self.data = None
            raise ValueError(str(_l("Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals).")))

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


class PercentField(StringField):
    """A percentage (or 0–100 score) with at most two decimals, within [min, max]."""

    def __init__(self, label=None, validators=None, *, min_value="0", max_value="100", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min_value, self.max_value = Decimal(min_value), Decimal(max_value)

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        text = self.raw.strip()
        self.data = parse_amount(text) if text else None
        if text and (self.data is None or "," in text):
            self.data = None
            raise ValueError(str(_l("Enter a number such as 2.40 (at most two decimals).")))

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
