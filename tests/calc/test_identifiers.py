"""One normalisation for identifiers behind "once" rules (domain rules §10, issue 14)."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher.identifiers import invoice_key, invoice_shape_ok, normalise_identifier

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00a0", "\u202f", "\u3000", " ", "\t"]
DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\ufe58", "\ufe63", "\uff0d"]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def spellings(draw):
    """An identifier and one spelling of it: full-width or not, other case, invisible characters
    anywhere, any dash for its dashes."""
    canonical = draw(st.text(alphabet="ABCDEFGHJKXYZ0123456789-", min_size=1, max_size=24))
    out = []
    for ch in canonical:
        if ch == "-":
            ch = draw(st.sampled_from(DASHES))
        elif draw(st.booleans()):
            ch = full_width(ch)
        if ch.isalpha() and draw(st.booleans()):
            ch = ch.lower()
        out.append("".join(draw(st.lists(st.sampled_from(INVISIBLE), max_size=2))))
        out.append(ch)
    out.append("".join(draw(st.lists(st.sampled_from(INVISIBLE), max_size=3))))
    return canonical, "".join(out)


@given(spellings())
def test_every_spelling_of_an_identifier_has_the_same_key(pair):
    canonical, spelled = pair
    assert normalise_identifier(spelled) == canonical
    assert invoice_key(spelled) == canonical.replace("-", "")


@given(st.text(max_size=40))
def test_the_key_is_stable_and_has_no_invisible_characters(text):
    key = normalise_identifier(text)
    assert normalise_identifier(key) == key
    assert not any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs") for ch in key)


@pytest.mark.parametrize("spelled", [
    "330026110900000001", "３３００２６１１０９０００００００１", "3300261109\u200b00000001", "3300261109\u00a000000001",
    "3300 2611 09 0000 0001", "3300261109-00000001", "3300261109\u201300000001", " 330026110900000001\ufeff",
])
def test_the_issues_invoice_spellings_are_one_invoice(spelled):
    assert invoice_key(spelled) == "330026110900000001"
    assert invoice_shape_ok(spelled)


@pytest.mark.parametrize("spelled", ["DK-2026-0001", "ｄｋ－２０２６－０００１", "DK\u200b-2026-0001", "dk\u20132026\u20140001",
                                     "Dk-2026-0001"])
def test_the_issues_contract_spellings_are_one_contract(spelled):
    assert normalise_identifier(spelled) == "DK-2026-0001"


@pytest.mark.parametrize(("number", "ok"), [
    ("330026110900000001", True),            # 10-digit code + 8-digit number
    ("044031900111-12345678", True),         # 12-digit code + number
    ("26332000000012345678", True),          # fully digital invoice (数电票)
    ("33002611090001", False),               # 14 digits: neither shape
    ("INV-001", False),
    ("3300261109000000012", False),          # 19 digits
    ("330026110900000001X", False),
    ("٣٣٠٠٢٦١١٠٩٠٠٠٠٠٠٠١", False),            # Arabic-Indic digits are not a Chinese invoice number
    ("33002611-0900000001", False),          # the separator is not between code and number
])
def test_the_invoice_shape(number, ok):
    assert invoice_shape_ok(number) is ok
