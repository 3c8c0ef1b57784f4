"""The self-assessment as the demo SME uses it (issue 20 §1 acceptance): from the start page's "Where do
I start?" it takes the assessment (a half-filled form first: the missing questions are named), sees the
radar chart and the suggestions with their evidence, and applies from one; in Chinese and in English, at
desktop width and on a 390 px phone.  Screenshots: test-artifacts/screenshots/maturity-*.png."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_fits, login, shot


@pytest.mark.parametrize("lang, width", [("zh_Hans_CN", 1280), ("en", 390)])
def test_an_sme_takes_the_assessment_sees_radar_and_evidence_and_applies(open_page, live_server, lang, width):
    page = open_page(lang, width, 844 if width < 500 else 900, phone=width < 500)
    login(page, live_server, "sme", lang)
    page.goto(f"{live_server}/maturity/")
    page.click("[data-take]")
    page.wait_for_selector("form input[type=radio]")
    questions = sorted({name for name in page.eval_on_selector_all(
        "form input[type=radio]", "els => els.map(e => e.name)")})
    assert len(questions) >= 6
    # Everything but the last question, then send: the page names the one missing.  Production
    # equipment (e1–e3) is the weakest, so the demo catalogue's MES and O&M solutions are suggested.
    for name in questions[:-1]:
        page.check(f"input[name='{name}'][value='{1 if name.startswith('e') else 3}']")
    page.click("main form button[type=submit]")
    page.wait_for_selector(f"[data-error='{questions[-1]}']")
    assert page.locator("[data-error]").count() == 1
    page.check(f"input[name='{questions[-1]}'][value='3']")
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-radar] svg")
    assert page.locator("[data-radar] polygon[data-series]").count() >= 1
    assert page.locator("[data-overall-level]").is_visible()
    heading = "Where to start: solutions for your weakest dimensions" if lang == "en" else "从这里开始：针对最薄弱维度的解决方案"
    assert heading in page.inner_text("main")
    evidence = page.locator("[data-evidence]")
    assert evidence.count() >= 1
    first = evidence.first
    tried = first.get_attribute("data-tried")
    text = first.inner_text()
    if tried == "0":
        assert ("too little evidence" if lang == "en" else "依据不足") in text
    else:
        assert (f"{tried} similar enterprises tried it" if lang == "en" else f"{tried} 家同类企业试用过") in text
    assert_fits(page, "the self-assessment result")
    shot(page, f"maturity-result-{width}-{lang}")
    apply = page.locator("[data-apply]").first
    href = apply.get_attribute("href")
    solution_id = href.split("solution_id=")[1]
    apply.click()
    page.wait_for_url(f"**/applications/new?solution_id={solution_id}")
    assert page.locator(f"form[action$='solution_id={solution_id}']").count() == 1
    shot(page, f"maturity-apply-{width}-{lang}")
