"""The application page's progress timeline and the public look-up, as people see them: desktop
and a 390 px phone, Chinese and English; the page never scrolls sideways and the timeline names
the application by its number.  Screenshots go to test-artifacts/screenshots/ to be looked at."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_fits, login, shot

NUMBER = re.compile(r"(SY|TX|JQ)-\d{4}-\d{6}")


def _first_link(page, live_server, path: str, pattern: str) -> str:
    page.goto(f"{live_server}{path}")
    hrefs = page.eval_on_selector_all("main a", "els => els.map(e => e.getAttribute('href'))")
    return next(h for h in hrefs if h and re.fullmatch(pattern, h))


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
@pytest.mark.parametrize("role,listing,pattern,name", [
    ("officer", "/applications/review?status=submitted", r"/applications/\d+", "trial"),
    ("officer", "/subsidies/review", r"/subsidies/(loans|robots)/\d+", "subsidy"),
    ("sme", "/applications/mine", r"/applications/\d+", "sme-trial"),
])
def test_the_timeline_fits_and_names_the_number(open_page, live_server, role, listing, pattern, name, lang, width, height):
    page = open_page(lang, width, height)
    login(page, live_server, role, lang)
    href = _first_link(page, live_server, listing, pattern)
    assert page.goto(f"{live_server}{href}").status == 200
    timeline = page.locator("[data-timeline]")
    assert timeline.is_visible()
    assert NUMBER.fullmatch(page.locator("[data-application-number]").inner_text().strip())
    assert ("当前环节" if lang != "en" else "Now:") in timeline.inner_text()
    assert page.locator("[data-timeline] [aria-current=step]").count() == 1
    assert_fits(page, href)
    shot(page, f"timeline-{name}-{width}-{lang}")


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_the_public_look_up_page(open_page, live_server, lang, width, height):
    page = open_page(lang, width, height)
    login(page, live_server, "officer", lang)
    href = _first_link(page, live_server, "/applications/review?status=submitted", r"/applications/\d+")
    page.goto(f"{live_server}{href}")
    number = page.locator("[data-application-number]").inner_text().strip()
    uscc = page.locator("main dd code").first.inner_text().strip()
    page.context.clear_cookies()  # the look-up is for anyone: no login
    page.goto(f"{live_server}/progress")
    page.fill("#number", number)
    page.fill("#uscc", uscc)
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-progress-result]")
    assert page.locator("[data-progress-result=found]").is_visible()
    assert_fits(page, "the progress look-up")
    shot(page, f"progress-lookup-{width}-{lang}")
