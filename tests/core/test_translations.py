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


def test_templates_translate_in_the_request_locale_and_a_forced_one(app):
    """Templates look the catalogue up once per request and locale (``_install_request_translations``):
    the same request renders Chinese, then English inside ``force_locale``, then Chinese again."""
    from flask import render_template_string
    from flask_babel import force_locale

    source = "{{ _('Next') }}"
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        before = render_template_string(source)
        with force_locale("en"):
            forced = render_template_string(source)
        after = render_template_string(source)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        english = render_template_string(source)
    assert forced == english == "Next"
    assert before == after == "下一页"
