"""The bureau's words (docs/GLOSSARY.md): no Chinese translation and no PDF label uses a term of
the glossary's "not" column, and no English source string uses an English one.

Only terms written in backticks in the "not" column are checked.  The legitimate exceptions are
in ALLOWED, each with its reason (the glossary's *Exceptions* section)."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from voucher.documents.pdf import labels_for
from voucher.i18n import fragments

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")

# (forbidden term, regex on the msgid where it is right) -> reason
ALLOWED = {
    ("支付", r"\binterest\b"): "the interest an enterprise pays to its bank is 支付, not the bureau's 拨付",
    ("驳回", r"(?i)disbursement|the item (goes|is) back|Rejected by|rejection|required to reject|"
             r"Approve or reject|approve or reject|Finance must reject|rejected or fail"):
        "驳回 is the checker sending a disbursement back to the finance queue (returned), never an application",
}


def forbidden_terms() -> list[str]:
    text = (ROOT / "docs" / "GLOSSARY.md").read_text(encoding="utf-8")
    terms = []
    for line in text.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] == "concept":
            continue
        terms += re.findall(r"`([^`]+)`", cells[3])
    return terms


def allowed(term: str, msgid: str) -> bool:
    return any(t == term and re.search(pattern, msgid) for t, pattern in ALLOWED)


def test_the_glossary_names_the_words_not_to_use():
    terms = forbidden_terms()
    assert {"付款", "支付", "资金支付令", "效果评估", "补贴", "结项", "remarkable"} <= set(terms), terms


def test_no_chinese_translation_uses_a_word_the_glossary_forbids():
    zh_terms = [t for t in forbidden_terms() if CJK.search(t)]
    found = []
    for path in fragments():
        with path.open("rb") as fh:
            for m in read_po(fh, locale="zh_Hans_CN"):
                if not m.id or not m.string:
                    continue
                msgid = m.id if isinstance(m.id, str) else m.id[0]
                strings = [m.string] if isinstance(m.string, str) else list(m.string)
                for term in zh_terms:
                    if any(term in s for s in strings) and not allowed(term, msgid):
                        found.append(f"{path.name}: {term!r} in {strings[0][:60]!r} (msgid {msgid[:60]!r})")
    assert not found, "\n".join(found[:40])


def test_no_english_source_string_uses_a_word_the_glossary_forbids():
    en_terms = [t for t in forbidden_terms() if not CJK.search(t)]
    found = []
    for path in fragments():
        with path.open("rb") as fh:
            for m in read_po(fh, locale="zh_Hans_CN"):
                msgid = m.id if isinstance(m.id, str) else (m.id[0] if m.id else "")
                plain = PLACEHOLDER.sub("", msgid or "")
                found += [f"{path.name}: {term!r} in {msgid[:80]!r}" for term in en_terms
                          if re.search(rf"\b{re.escape(term)}\b", plain, re.I)]
    assert not found, "\n".join(found[:40])


def test_the_pdf_labels_use_the_glossary_words():
    terms = forbidden_terms()
    zh, en = labels_for("zh"), labels_for("en")
    bad = [(key, value, term) for key, value in zh.items() for term in terms
           if CJK.search(term) and term in value]
    bad += [(key, value, term) for key, value in en.items() for term in terms
            if not CJK.search(term) and re.search(rf"\b{re.escape(term)}\b", value, re.I)]
    assert not bad, bad
    assert zh["payment_order"] == "资金拨付单" and en["payment_order"] == "Disbursement order"


def test_an_allowed_exception_is_narrow():
    assert allowed("支付", "Enter the interest actually paid.")
    assert not allowed("支付", "Paid this month")
    assert not allowed("驳回", "Your robot purchase subsidy application no. %(id)s was rejected: %(reason)s")
