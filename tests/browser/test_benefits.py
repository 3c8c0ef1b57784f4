"""Benefits without applying (免申即享) in the browser, from the candidate to a paid payment order: the demo
SME opens a candidate from its start page, sees the evidence rows and the working, confirms it (account,
declaration, the files the form asks for) and lands on the created application; it attaches the
checklist's materials and submits it; an officer finds the application in the subsidy review queue and
approves it; finance prepares the disbursement, a second finance officer approves it (maker-checker),
finance puts it in a payment batch and records the bank's result: the disbursement shows paid with the
candidate's amount to the fen.  In Chinese on a desktop and in English on a 390 px phone (the demo SME has
two open candidates, a robot subsidy and a loan discount: each run confirms the first still open).

One step goes through the services, not the browser: the programme's public notice (公示) is published
back-dated 40 days (``payments.services.publish_notice(today=…)``, as tests/api/conftest.py does), so its
period of working days has ended and the grant is payable today; the live server runs on the real
clock, and publishing in the browser would make the grant payable only after the period."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.browser.conftest import assert_action_visible, assert_fits, login, shot

PDF = {"name": "evidence.pdf", "mimeType": "application/pdf",
       "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}
EVIDENCE = {"zh_Hans_CN": "各项条件的依据", "en": "Evidence per condition"}


@pytest.mark.parametrize("lang,width,height", [("zh_Hans_CN", 1280, 900), ("en", 390, 844)])
def test_sme_confirms_a_candidate_and_it_is_paid(open_page, live_server, live_app, lang, width, height):
    phone = width < 500
    page = open_page(lang, width, height, phone=phone)
    login(page, live_server, "sme", lang)

    # The start page's panel leads to the enterprise's candidates; the first open one is opened.
    page.locator("main a[href='/benefits/mine']").first.click()
    page.wait_for_url(f"{live_server}/benefits/mine")
    page.locator("tr[data-status='open'] a[href^='/benefits/candidates/']").first.click()
    page.wait_for_selector("[data-evidence]")
    candidate_url = page.url
    candidate_id = int(candidate_url.rsplit("/", 1)[1])
    candidate_amount = page.locator("[data-amount]").inner_text().strip()
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

    # The officer approves it: the candidate's amount is reserved.
    officer.goto(application_url)
    approve = officer.locator("form[action$='/approve']")
    assert_action_visible(officer, approve.locator("button[type=submit]"), "the approve button")
    with officer.expect_navigation():
        approve.locator("button[type=submit]").click()
    assert officer.locator("main [data-status='approved']").count() >= 1
    expected = _candidate_amount(live_app, candidate_id)
    assert Decimal(officer.locator("[data-figure=approved_amount]").get_attribute("data-value")) == expected
    assert _digits(candidate_amount) == expected

    # Set-up through the services (see the module's docstring): the public notice, its period over.
    programme_id = _publish_notice_back_dated(live_app, candidate_id)

    # Finance prepares the disbursement; a second finance officer approves it with her password.
    source_type = "robot_application" if "/subsidies/robots/" in application_url else "loan_application"
    application_id = int(application_url.rsplit("/", 1)[1])
    finance = open_page(lang, width, height, phone=phone)
    login(finance, live_server, "finance", lang)
    finance.goto(f"{live_server}/payments/prepare?source_type={source_type}&source_id={application_id}"
                 "&milestone=full")
    with finance.expect_navigation():
        finance.locator("form[action='/payments/prepare'] button[type=submit]").click()
    disbursement_id = int(re.search(r"/payments/disbursements/(\d+)$", finance.url).group(1))
    assert finance.locator("main [data-status='prepared']").count() == 1
    checker = open_page(lang, width, height, phone=phone)
    login(checker, live_server, "finance2", lang)
    checker.goto(f"{live_server}/payments/disbursements/{disbursement_id}/decide")
    checker.check("input[name=decision][value=approve]")
    checker.fill("#password", "demo-finance2-pass")
    with checker.expect_navigation():
        checker.locator("main form[method=post] button[type=submit]").click()
    assert checker.locator("main [data-status='approved']").count() == 1

    # Finance batches it and records the bank's result: paid.
    finance.goto(f"{live_server}/payments/batches/new?programme_id={programme_id}")
    finance.check(f"#d-{disbursement_id}")
    with finance.expect_navigation():
        finance.locator("form[action='/payments/batches/new'] button[type=submit]").click()
    assert re.search(r"/payments/batches/\d+$", finance.url), finance.url
    result = finance.locator(f"form[action*='/lines/{disbursement_id}/result']")
    result.locator("input[name=outcome][value=paid]").check()
    result.locator("input[name=bank_reference]").fill(f"BK-BENEFIT-{lang}-{disbursement_id}")
    with finance.expect_navigation():
        result.locator("button[type=submit]").click()
    assert finance.locator(".alert-success").count() == 1

    # The disbursement (its payment order) shows paid, with the candidate's amount to the fen.
    finance.goto(f"{live_server}/payments/disbursements/{disbursement_id}")
    assert finance.locator("main [data-status='paid']").count() == 1
    main = finance.locator("main").inner_text()
    assert PAID[lang] in main
    assert candidate_amount in main, (candidate_amount, main[:1500])
    assert f"BK-BENEFIT-{lang}-{disbursement_id}" in main
    assert_fits(finance, "the paid disbursement")
    shot(finance, f"benefits-paid-{width}-{lang}")


PAID = {"zh_Hans_CN": "已拨付：资金台账中该金额已由预留转为已拨付。", "en": "Paid: the amount moved from reserved to paid in the fund ledger."}


def _digits(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.]", "", text))


def _candidate_amount(app, candidate_id: int) -> Decimal:
    from voucher.benefits.models import BenefitCandidate
    from voucher.extensions import db

    with app.app_context():
        try:
            return db.session.get(BenefitCandidate, candidate_id).amount
        finally:
            db.session.remove()


def _publish_notice_back_dated(app, candidate_id: int) -> int:
    """The candidate's programme's public notice, published 40 days ago (its period ended): the one set-up
    step done through the services."""
    from sqlalchemy import select

    from voucher.auth.models import User
    from voucher.benefits.models import BenefitCandidate
    from voucher.extensions import db
    from voucher.payments import services as payments
    from voucher.subsidies.common import local_today

    with app.app_context():
        try:
            programme_id = db.session.get(BenefitCandidate, candidate_id).programme_id
            officer = db.session.scalar(select(User).where(User.email == "officer@demo.test"))
            payments.publish_notice(officer.actor(), programme_id, today=local_today() - timedelta(days=40))
            db.session.commit()
            return programme_id
        finally:
            db.session.remove()
