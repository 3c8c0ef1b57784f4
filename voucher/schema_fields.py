"""Marshmallow fields and validators shared by the schemas of every domain and the JSON API.

Money and rates travel as decimal strings ("150000.00", "2.40" for 2.40%): parsed here into
``Decimal`` exactly, with the spellings people use (``3500万``, ``3.2%``, full-width digits,
``1,234,567.89``: :mod:`voucher.numbers`) — no float, no exponent, no NaN/Infinity, never rounded
(a value with too many decimals is refused, not silently rounded half-even as
``fields.Decimal(places=2)`` would).  Messages go through gettext at validation time.
"""
from __future__ import annotations

import base64
import binascii
import io
from decimal import ROUND_DOWN, Decimal
from typing import BinaryIO, NamedTuple

import marshmallow as ma
from flask_babel import gettext as _

from voucher.numbers import NumberError, parse_number

# Digits before the decimal point when a field gives no smaller bound: money is stored as a
# BigInteger count of fen, so a longer number would overflow the database (a 500), not be refused.
MAX_INTEGER_DIGITS = 12


def _plain(value: Decimal) -> str:
    return format(value, "f")


class DecimalString(ma.fields.Field):
    """A decimal sent as a JSON string (a JSON integer is accepted too), loaded as ``Decimal``.

    ``places``: the most decimals allowed (and the fewest shown); ``integer_digits``: the most digits
    before the decimal point (every field has this bound: 400 digits are refused with 422, never
    reach the database); ``minimum``/``maximum`` bounds (``exclusive_minimum`` makes the lower bound
    strict).  Dumped as its plain decimal text.
    """

    def __init__(self, *, places: int = 2, minimum: Decimal | str | None = None,
                 maximum: Decimal | str | None = None, exclusive_minimum: bool = False,
                 integer_digits: int = MAX_INTEGER_DIGITS, kind: str = "money", **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.places = places
        self.integer_digits = integer_digits
        self.minimum = Decimal(minimum) if minimum is not None else None
        self.maximum = Decimal(maximum) if maximum is not None else None
        self.exclusive_minimum = exclusive_minimum

    def _serialize(self, value, attr, obj, **kwargs):
        """Plain text with at least ``places`` decimals ("100000" → "100000.00"): the same figure reads
        the same whether it was just computed or read back from the database; never rounded."""
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if isinstance(value, Decimal):
            if value.is_finite() and -value.as_tuple().exponent < self.places:
                value = value.quantize(Decimal(1).scaleb(-self.places))
            return _plain(value)
        return str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ma.ValidationError(_("Send the number as a decimal string, for example \"150000.00\"."))
        text = value if isinstance(value, str) else str(value)
        try:
            parsed = parse_number(text, places=self.places, kind=self.kind)
        except NumberError as err:
            if err.code == "decimals":
                raise ma.ValidationError(_("At most %(places)s decimals.", places=self.places)) from None
            if err.code == "too_long":
                raise ma.ValidationError(_("At most %(digits)s digits before the decimal point.",
                                           digits=self.integer_digits)) from None
            raise ma.ValidationError(_("Not a valid decimal number: use digits with an optional decimal point, "
                                       "for example \"150000.00\".")) from None
        if parsed is None:
            raise ma.ValidationError(_("Not a valid decimal number: use digits with an optional decimal point, "
                                       "for example \"150000.00\"."))
        number = parsed.value
        if len(str(abs(number).to_integral_value(rounding=ROUND_DOWN)).lstrip("0")) > self.integer_digits:
            raise ma.ValidationError(_("At most %(digits)s digits before the decimal point.", digits=self.integer_digits))
        if -number.as_tuple().exponent > self.places:  # pragma: no cover - parse_number quantizes
            raise ma.ValidationError(_("At most %(places)s decimals.", places=self.places))
        if self.minimum is not None:
            if self.exclusive_minimum and number <= self.minimum:
                raise ma.ValidationError(_("Must be greater than %(min)s.", min=_plain(self.minimum)))
            if number < self.minimum:
                raise ma.ValidationError(_("Must be at least %(min)s.", min=_plain(self.minimum)))
        if self.maximum is not None and number > self.maximum:
            raise ma.ValidationError(_("Must be at most %(max)s.", max=_plain(self.maximum)))
        return number


def text(max_length: int, required_message: str | None = None):
    """A non-blank string of at most ``max_length`` characters."""

    def validate(value: str) -> None:
        if not value or not value.strip():
            raise ma.ValidationError(_("Must not be blank."))
        if len(value) > max_length:
            raise ma.ValidationError(_("At most %(max)s characters.", max=max_length))

    return validate


def int_range(minimum: int, maximum: int):
    def validate(value: int) -> None:
        if not (minimum <= value <= maximum):
            raise ma.ValidationError(_("Must be a whole number from %(min)s to %(max)s.", min=minimum, max=maximum))

    return validate


def count(minimum: int, maximum: int):
    def validate(value) -> None:
        if not (minimum <= len(value) <= maximum):
            raise ma.ValidationError(_("Give from %(min)s to %(max)s items.", min=minimum, max=maximum))

    return validate


class Choice(ma.validate.OneOf):
    """``OneOf`` (documented as an ``enum``) with the message translated when it is raised."""

    def _format_error(self, value) -> str:
        return _("Must be one of: %(choices)s.", choices=self.choices_text)


class WholeRange(ma.validate.Range):
    """``Range`` for whole numbers (documented as minimum/maximum), with a translated message."""

    def __init__(self, minimum: int, maximum: int):
        super().__init__(min=minimum, max=maximum)

    def _format_error(self, value, message: str) -> str:
        return _("Must be a whole number from %(min)s to %(max)s.", min=self.min, max=self.max)


class Length(ma.validate.Length):
    """``Length`` of a string (documented as minLength/maxLength), with a translated message."""

    def __init__(self, minimum: int, maximum: int):
        super().__init__(min=minimum, max=maximum)

    def _format_error(self, value, message: str) -> str:
        if self.min and len(value) < self.min:
            return _("At least %(min)s characters.", min=self.min)
        return _("At most %(max)s characters.", max=self.max)


# The largest id the database stores (PostgreSQL ``integer``); larger numbers are never an object.
ID_MAX = 2**31 - 1


def object_id(**kwargs) -> ma.fields.Integer:
    """An object's id in a JSON body: a whole number from 1 to ``ID_MAX``."""
    return ma.fields.Integer(strict=True, validate=WholeRange(1, ID_MAX), **kwargs)


# --- schemas every domain's schemas and the API share -------------------------------------------

class StepSchema(ma.Schema):
    """One line of itemized working."""

    code = ma.fields.String(required=True,
                            metadata={"description": "Stable code of the rule applied, e.g. loan.period.discount"})
    text = ma.fields.String(required=True, metadata={"description": "The sentence, in the request's language"})
    values = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                            metadata={"description": "The figures filled into the sentence"})


class DecodedFile(NamedTuple):
    """An uploaded file from a JSON body, as the services' uploads expect (``stream``, ``filename``)."""

    stream: BinaryIO
    filename: str


class FileUploadSchema(ma.Schema):
    """A file sent inside the JSON body: its name and its bytes in base64 (PDF, JPEG or PNG by content;
    the size limit of uploads applies to the decoded bytes)."""

    class Meta:
        unknown = ma.RAISE

    filename = ma.fields.String(required=True, validate=Length(1, 255))
    content_base64 = ma.fields.String(required=True, metadata={"format": "byte",
                                                               "description": "The file's bytes, base64-encoded"})

    @ma.post_load
    def decode(self, data, **kwargs):
        try:
            raw = base64.b64decode(data["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ma.ValidationError(_("Not valid base64."), "content_base64") from None
        return DecodedFile(io.BytesIO(raw), data["filename"])
