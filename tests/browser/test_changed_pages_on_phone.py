"""The pages this round changed, as their users see them: desktop and a 390 px phone, in Chinese
and English.  Each page fits the phone's width (no sideways scrolling of the page itself) and
shows what it is for; the screenshots go to test-artifacts/screenshots/ to be looked at."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_fits, login, shot

PAGES = [
    # (role, path, a selector that must be visible, its text in zh, in en)
    ("officer", "/applications/review?status=submitted", "input[name=solution]", None, None),
    ("officer", "/", "#waiting-table", None, None),
    ("auditor", "/audit/anchors", "main h1", "公布", "Published"),
    ("auditor", "/audit/verify", "main", None, None),
]


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
@pytest.mark.parametrize("role,path,selector,zh,en", PAGES)
def test_changed_page_fits_the_screen_in_both_languages(open_page, live_server, role, path, selector, zh, en,
                                                         lang, width, height):
    page = open_page(lang, width, height)
    login(page, live_server, role, lang)
    response = page.goto(f"{live_server}{path}")
    assert response.status == 200
    assert page.locator(selector).first.is_visible()
    text = page.locator("main").inner_text()
    expected = zh if lang != "en" else en
    if expected:
        assert expected in text
    assert_fits(page, path)
    name = path.strip("/").split("?")[0].replace("/", "-") or "home"
    shot(page, f"round14-{role}-{name}-{width}-{lang}")
