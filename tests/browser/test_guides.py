"""The programme guide as its readers see it: a visitor (no account) reads each kind's guide at desktop
width and on a 390 × 844 phone, in Chinese and in English; the page never scrolls sideways, the steps
diagram turns into a column on the phone, and an officer's edit form fits too.  Screenshots go to
test-artifacts/screenshots/guide-*.png to be looked at."""
from __future__ import annotations

import pytest

from tests.browser.conftest import login, shot

SIZES = [(1280, 900), (390, 844)]


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _switch(page, base: str, lang: str) -> None:
    page.goto(f"{base}/")
    if lang == "en":
        toggle = page.locator(".site-menu-toggle")
        if toggle.is_visible():  # on a phone the language switch is behind the menu button
            toggle.click()
            page.locator("#lang-select").wait_for(state="visible")
        page.select_option("#lang-select", "en")
        page.click("form[action='/lang'] button[type=submit]")
        page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("width,height", SIZES)
def test_a_visitor_reads_each_guide_without_sideways_scrolling(browser, live_server, lang, width, height):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  locale="zh-CN" if lang != "en" else "en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _switch(page, live_server, lang)
        # From the landing page's link to the guide of the programme open now.
        page.click("#guide-links a[href='/guide/trial_voucher']")
        page.wait_for_selector(".guide-flow")
        assert "/guide/" in page.url
        headings = page.locator("main h2").all_inner_texts()
        expected = (["受理条件", "材料清单", "办理流程", "承诺时限"] if lang != "en" else
                    ["Who is eligible", "Required materials", "How it is handled", "Time limits we commit to"])
        assert headings[:4] == expected
        steps = page.locator(".guide-flow > li")
        assert steps.count() == 7
        first, second = steps.nth(0).bounding_box(), steps.nth(1).bounding_box()
        if width < 992:
            assert second["y"] > first["y"] + first["height"] - 1  # one under the other
        else:
            assert abs(second["y"] - first["y"]) < 2  # side by side
        assert page.locator("[data-figure=review_days]").is_visible()
        assert _overflow(page) <= 1, f"the trial-voucher guide scrolls sideways at {width}px"
        shot(page, f"guide-trial_voucher-{width}-{lang}")
        base_url = page.url.rsplit("/", 1)[0]
        for kind in ("loan_discount", "robot_subsidy"):
            page.goto(f"{base_url}/{kind}")
            assert page.locator(".guide-flow > li").count() == 4
            assert _overflow(page) <= 1, f"the {kind} guide scrolls sideways at {width}px"
            shot(page, f"guide-{kind}-{width}-{lang}")
        page.goto(f"{base_url}/trial_voucher/versions")
        assert page.locator("[data-version]").count() == 2
        assert _overflow(page) <= 1
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("width,height", SIZES)
def test_the_officer_edit_form_fits_the_screen(browser, live_server, lang, width, height):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  locale="zh-CN" if lang != "en" else "en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, live_server, "officer", lang)
        page.goto(f"{live_server}/guide/")
        page.locator("main a[href$='/robot_subsidy']").first.click()
        page.click("a[href$='/robot_subsidy/edit']")
        page.wait_for_selector("[data-rows=materials]")
        rows = page.locator("[data-rows=materials] [data-row]").count()
        page.click("button[data-add-row=materials]")
        assert page.locator("[data-rows=materials] [data-row]").count() == rows + 1
        assert _overflow(page) <= 1, f"the edit form scrolls sideways at {width}px"
        shot(page, f"guide-edit-robot_subsidy-{width}-{lang}")
    finally:
        context.close()
