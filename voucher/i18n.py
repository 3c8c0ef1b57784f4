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


if __name__ == "__main__":
    path = compile_catalog()
    print(f"compiled {len(merged_catalog())} messages into {path}", file=sys.stderr)
