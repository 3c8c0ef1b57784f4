"""Every English string of the payment pages, forms, services, documents and API has its Simplified
Chinese translation, with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path

from voucher.i18n import merged_catalog, source_messages

ROOT = Path(__file__).resolve().parents[2]
MINE = ("voucher/payments/", "templates/payments/", "voucher/api/payments.py")


def payment_msgids() -> dict[str, str]:
    return {msgid: where[0] for msgid, where in source_messages(ROOT).items()
            if any(any(w.replace("\\", "/").startswith(p) or f"/{p}" in w for p in MINE) for w in where)}


def test_there_are_payment_strings_to_check():
    found = payment_msgids()
    assert "Payment queue" in found and "The password is not correct. Enter your own login password to confirm." in found


def test_every_payment_string_is_translated():
    catalog = merged_catalog()
    missing = {m: w for m, w in payment_msgids().items() if not (catalog.get(m) and catalog.get(m).string)}
    assert missing == {}


def test_payment_translations_keep_their_placeholders():
    catalog = merged_catalog()
    for msgid in payment_msgids():
        string = catalog.get(msgid).string
        assert sorted(re.findall(r"%\(\w+\)[sd]|%%", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]|%%", string)), msgid
