"""Every UI string has its Simplified Chinese translation (the default locale)."""
from voucher.i18n import merged_catalog, untranslated


def test_every_source_string_is_translated():
    missing = untranslated()
    listing = "\n".join(f"{where[0]}: {msgid!r}" for msgid, where in sorted(missing.items())[:40])
    assert not missing, f"{len(missing)} untranslated strings, e.g.\n{listing}"


def test_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    bad = [(m.id, m.string) for m in merged_catalog() if m.id and m.string
           and sorted(placeholder.findall(m.id)) != sorted(placeholder.findall(m.string))]
    assert not bad, bad[:10]
