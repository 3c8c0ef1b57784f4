"""Benefits without applying (免申即享) in the browser: the demo SME opens a candidate from its start page,
sees the evidence rows and the working, confirms it (account, declaration, the files the form asks
for) and lands on the created application; it attaches the checklist's materials and submits it;
then an officer finds the application in the subsidy review queue.  In Chinese on a desktop and in
English on a 390 px phone (the demo SME has two open candidates, a robot subsidy and a loan
discount: each run confirms the first still open)."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_action_visible, assert_fits, login, shot

PDF = {"name": "evidence.pdf", "mimeType": "application/pdf",
       "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}
EVIDENCE = {"zh_Hans_CN": "各项条件的依据", "en": "Evidence per condition"}


@pytest.mark.parametrize("lang,width,height", [("zh_Hans_CN", 1280, 900), ("en", 390, 844)])
def test_sme_confirms_a_candidate_and_the_officer_finds_the_application(open_page, live_server, lang, width, height):
    phone = width < 500
    page = open_page(lang, width, height, phone=phone)
    login(page, live_server, "sme", lang)

    # The start page's panel leads to the enterprise's candidates; the first open one is opened.
    page.locator("main a[href='/benefits/mine']").first.click()
    page.wait_for_url(f"{live_server}/benefits/mine")
    page.locator("tr[data-status='open'] a[href^='/benefits/candidates/']").first.click()
    page.wait_for_selector("[data-evidence]")
    candidate_url = page.url
    assert EVIDENCE[lang] in page.locator("main").inner_text()
    source_rows = page.locator("[data-evidence] tr[data-condition='invoice'], "
                               "[data-evidence] tr[data-condition='interest_period']")
    assert source_rows.count() >= 1  # the source rows behind the figure, each with its import and file row
    assert page.locator("ol.working li").count() >= 2
    confirm = page.locator(f"form[action$='{candidate_url.rsplit('/', 1)[1]}/confirm']")
    assert_action_visible(page, confirm.locator("button[type=submit]"), "the candidate's confirm button")
    assert_fits(page, "the candidate page")
    shot(page, f"benefits-candidate-{width}-{lang}")

    # Confirm: the account, the declaration and every file the form asks for.
    for i in range(confirm.locator("input[type=file]").count()):
        confirm.locator("input[type=file]").nth(i).set_input_files(files=[PDF])
    confirm.locator("input[name=account]").check()
    confirm.locator("input[name=declaration]").check()
    with page.expect_navigation():
        confirm.locator("button[type=submit]").click()
    assert re.search(r"/subsidies/(robots|loans)/\d+$", page.url), page.url
    application_url = page.url
    number = re.search(r"[A-Z]{2}-\d{4}-\d{6}", page.locator("main h1").inner_text()).group(0)
    assert page.locator(".alert-success").count() == 1

    # The checklist's other materials (the confirm form asked only for its own files), then submit.
    if page.locator("[data-missing-materials]").count():
        upload = page.locator("form:has(input[name^=material_])").first
        inputs = upload.locator("input[type=file][name^=material_]")
        for i in range(inputs.count()):
            accept = inputs.nth(i).get_attribute("accept") or ""
            if not accept or "pdf" in accept:
                inputs.nth(i).set_input_files(files=[PDF])
        with page.expect_navigation():
            upload.locator("button[type=submit]:not([form])").click()
        assert page.locator("[data-missing-materials]").count() == 0
    with page.expect_navigation():
        page.locator("form[action$='/submit'] button[type=submit]").click()
    assert page.url.startswith(application_url)
    assert page.locator("main [data-status='submitted']").count() >= 1
    assert_fits(page, "the created application")
    shot(page, f"benefits-application-{width}-{lang}")

    # The officer finds it in the subsidy review queue.
    officer = open_page(lang, width, height, phone=phone)
    login(officer, live_server, "officer", lang)
    officer.goto(f"{live_server}/subsidies/review")
    officer.fill("#q", number)
    with officer.expect_navigation():
        officer.locator("form[role=search] button[type=submit]").click()
    row = officer.locator("main table tbody tr", has=officer.locator(f"a:text-is('{number}')"))
    assert row.count() == 1
    assert row.locator("[data-status='submitted']").count() == 1
    assert_fits(officer, "the review queue")
    shot(officer, f"benefits-review-queue-{width}-{lang}")
