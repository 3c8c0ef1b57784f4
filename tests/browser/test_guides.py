"""The programme guide as its readers see it: a visitor (no account) reads each kind's guide at desktop
width and on a 390 × 844 phone, in Chinese and in English; the page never scrolls sideways, the steps
diagram turns into a column on the phone, and an officer's edit form fits too.  Screenshots go to
test-artifacts/screenshots/guide-*.png to be looked at."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_fits, login, shot, switch_language

SIZES = [(1280, 900), (390, 844)]


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("width,height", SIZES)
def test_a_visitor_reads_each_guide_without_sideways_scrolling(open_page, live_server, lang, width, height):
    page = open_page(lang, width, height)
    page.goto(f"{live_server}/")
    switch_language(page, lang)
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
    assert_fits(page, "the trial-voucher guide")
    shot(page, f"guide-trial_voucher-{width}-{lang}")
    base_url = page.url.rsplit("/", 1)[0]
    for kind in ("loan_discount", "robot_subsidy"):
        page.goto(f"{base_url}/{kind}")
        assert page.locator(".guide-flow > li").count() == 4
        assert_fits(page, f"the {kind} guide")
        shot(page, f"guide-{kind}-{width}-{lang}")
    page.goto(f"{base_url}/trial_voucher/versions")
    assert page.locator("[data-version]").count() == 2
    assert_fits(page, "the versions page")


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("width,height", SIZES)
def test_the_officer_edit_form_fits_the_screen(open_page, live_server, lang, width, height):
    page = open_page(lang, width, height)
    login(page, live_server, "officer", lang)
    page.goto(f"{live_server}/guide/")
    page.locator("main a[href$='/robot_subsidy']").first.click()
    page.click("a[href$='/robot_subsidy/edit']")
    page.wait_for_selector("[data-rows=materials]")
    rows = page.locator("[data-rows=materials] [data-row]").count()
    page.click("button[data-add-row=materials]")
    assert page.locator("[data-rows=materials] [data-row]").count() == rows + 1
    assert_fits(page, "the edit form")
    shot(page, f"guide-edit-robot_subsidy-{width}-{lang}")
