"""Builds the Simplified Chinese catalogue.

Each domain keeps its own fragment, ``translations/zh_Hans_CN/LC_MESSAGES/<domain>.po``, so
parallel work never collides in one file; this merges them into ``messages.mo`` (the
catalogue Flask-Babel reads).  ``python -m voucher.i18n`` runs it; ``make`` does before
run and test.  English is the source language and needs no catalogue.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = "zh_Hans_CN"
DIRECTORY = Path(__file__).resolve().parent / "translations" / LOCALE / "LC_MESSAGES"


def fragments() -> list[Path]:
    return sorted(p for p in DIRECTORY.glob("*.po") if p.name != "messages.po")


def merged_catalog() -> Catalog:
    merged = Catalog(locale=LOCALE, domain="messages")
    for path in fragments():
        with path.open("rb") as fh:
            cat = read_po(fh, locale=LOCALE)
        for message in cat:
            if not message.id or not message.string or message.fuzzy:
                continue
            merged.add(message.id, message.string, context=message.context)
    return merged


def compile_catalog() -> Path:
    target = DIRECTORY / "messages.mo"
    catalog = merged_catalog()
    with target.open("wb") as fh:
        write_mo(fh, catalog)
    return target




# Keywords whose first argument is a translatable English template: gettext and friends, the
# domain exceptions (service messages are translated when shown), calc working steps (2nd arg).
ERROR_CLASSES = ("DomainError", "ValidationFailed", "NotFound", "Forbidden", "Conflict", "Duplicate",
                 "TransitionNotAllowed", "OverCap", "BudgetExhausted", "SameApprover")
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
            "lazy_ngettext": (1, 2), "N_": None, **{name: None for name in ERROR_CLASSES}}


def source_messages(root: Path | None = None) -> dict[str, list[str]]:
    """Every translatable msgid in the code and templates → where it occurs."""
    from babel.messages.extract import extract_from_dir

    root = root or Path(__file__).resolve().parent.parent
    method_map = [("voucher/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {**{k: v for k, v in KEYWORDS.items() if v}, **{k: None for k, v in KEYWORDS.items() if not v}}
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
            str(root), method_map=method_map, keywords=keywords,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}}):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def untranslated() -> dict[str, list[str]]:
    catalog = merged_catalog()
    return {m: where for m, where in source_messages().items() if not catalog.get(m)}


if __name__ == "__main__":
    if sys.argv[1:] == ["missing"]:
        for msgid, where in sorted(untranslated().items()):
            print(f"{where[0]}\t{msgid!r}")
        sys.exit(0)
    path = compile_catalog()
    print(f"compiled {len(merged_catalog())} messages into {path}", file=sys.stderr)
