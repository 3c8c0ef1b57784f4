"""One normalisation for every identifier behind a "once" or "unique" rule.

Invoice numbers, loan contract numbers, USCCs and bank account numbers are compared (and stored
as keys) only after :func:`normalise_identifier`, so that a spelling variant of one identifier —
full-width digits, a zero-width or no-break space, inner spaces, an en-dash, lower case — is the
same identifier and cannot be claimed twice (domain rules, section 10).  Pure: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata

# Every dash-like character (after NFKC, which already folds U+FE58, U+FE63, U+FF0D to ASCII forms
# or to U+2014/U+2010-ish characters) becomes "-".
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2e3a\u2e3b"), "-")
# Invisible characters NFKC keeps: separators (Zs, Zl, Zp), controls (Cc) and format characters (Cf:
# U+200B-U+200D, U+2060, U+FEFF, soft hyphen, bidi marks...).
_DROPPED = {"Zs", "Zl", "Zp", "Cc", "Cf"}


def normalise_identifier(raw: str | None) -> str:
    """The comparison key of an identifier: Unicode NFKC; whitespace, controls and invisible
    format characters removed; every dash as ``-``; upper case.  ``None`` gives ``""``."""
    text = unicodedata.normalize("NFKC", raw or "").translate(_DASHES)
    text = "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in _DROPPED)
    # upper() can produce new characters (ß → SS); NFKC again keeps the key in one normal form.
    return unicodedata.normalize("NFKC", text.upper())


# A Chinese VAT invoice: invoice code (10 or 12 digits) + invoice number (8 digits), or the
# 20-digit number of a fully digital invoice (数电票).  Written in one field, code and number run
# together (18 or 20 digits); separators between them ("-", spaces) are ignored.
_INVOICE = re.compile(r"\d{10}-?\d{8}|\d{12}-?\d{8}|\d{20}", re.ASCII)
INVOICE_SHAPE = "invoice code (10 or 12 digits) followed by the 8-digit invoice number, or the 20-digit number " \
                "of a fully digital invoice"


def invoice_key(invoice_no: str | None) -> str:
    """The key under which an invoice is claimed once: the normalised number without separators
    (code and number run together), e.g. ``3300261109-00000001`` → ``330026110900000001``."""
    return normalise_identifier(invoice_no).replace("-", "")


def invoice_shape_ok(invoice_no: str | None) -> bool:
    """True when the normalised number is a VAT invoice code + number (18 or 20 digits) or the
    20-digit number of a fully digital invoice."""
    return _INVOICE.fullmatch(normalise_identifier(invoice_no)) is not None
