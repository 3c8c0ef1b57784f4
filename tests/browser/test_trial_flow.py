"""The whole trial flow clicked through in Chromium by the five kinds of user (and the two finance
officers), on the live server with the demo data, with a screenshot of each step.

Chinese (the default) runs the whole flow; English runs the start of it (solution → screening →
application → approval).  Every confirmation dialog (``data-confirm``) is accepted, as a user
would; every page reached must not be an error page.
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from tests.browser.conftest import shot
from voucher.deadlines import local_today

STRINGS = {
    "zh_Hans_CN": {"submitted_flash": "已提交", "logout": "退出"},
    "en": {"submitted_flash": "Submitted", "logout": "Log out"},
}


def ok(page):
    """The page is not an error page."""
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("h1").count() >= 1
    text = page.locator("main").inner_text()
    assert "Traceback" not in text
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").first.inner_text()


def submit(page, form_selector: str):
    """Click the form's submit button and wait for the next page."""
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()
    ok(page)


def provider_submits_a_solution(page, base, title: str, lang: str) -> int:
    page.goto(f"{base}/catalogue/mine/new")
    page.fill("#title", title)
    page.select_option("#category", "mes")
    page.check("#industry-pumps_valves")
    page.check("#industry-auto_parts")
    page.fill("#description", "面向泵阀企业的轻量化生产执行系统，含部署、培训与试用期驻场服务。")
    page.fill("#list_price", "90000")
    page.fill("#trial_price", "30000")
    page.fill("#trial_period_days", "30")
    # Keyboard: Enter in a text field submits the main form.
    with page.expect_navigation():
        page.press("#title", "Enter")
    ok(page)
    solution_id = int(re.search(r"/catalogue/solutions/(\d+)", page.url).group(1))
    shot(page, f"flow-{lang}-01-provider-solution-draft")
    submit(page, f"form[action='/catalogue/mine/{solution_id}/submit']")
    shot(page, f"flow-{lang}-02-provider-solution-submitted")
    return solution_id


def evaluator_screens_and_lists(page, base, solution_id: int, title: str, lang: str) -> None:
    page.goto(f"{base}/catalogue/screening")
    assert title in page.locator("main").inner_text()
    shot(page, f"flow-{lang}-03-evaluator-screening-queue")
    submit(page, f"form[action='/catalogue/screening/{solution_id}/start']")
    for name in ("maturity", "references_score", "price_reasonableness", "service_capability", "data_security"):
        page.fill(f"#{name}", "85")
    page.check("input[name=decision][value=list]")
    page.fill("#reasons", "方案成熟，有同类企业应用案例，试用价格合理。")
    shot(page, f"flow-{lang}-04-evaluator-rubric")
    submit(page, f"form[action='/catalogue/screening/{solution_id}']")


def sme_applies(page, base, title: str, lang: str) -> int:
    page.goto(f"{base}/catalogue/")
    page.fill("#q", title)
    with page.expect_navigation():
        page.press("#q", "Enter")
    # The click starts a navigation: wait for it (on a busy machine the next line ran against the
    # new page before it had any content).
    with page.expect_navigation():
        page.click(f"text={title}")
    ok(page)
    page.goto(f"{base}/applications/new?q={title}")
    with page.expect_navigation():
        page.locator("main a[href*='solution_id=']").first.click()
    ok(page)
    page.fill("#requested_amount", "30000")
    page.fill("#need_statement", "车间报工靠纸质单据，希望通过试用实现工单电子化和质量追溯。")
    today = local_today()
    page.fill("#contract_date", (today + timedelta(days=7)).isoformat())
    page.fill("#trial_start_date", (today + timedelta(days=10)).isoformat())
    page.fill("#baseline_production_efficiency", "40")
    page.fill("#baseline_defect_rate", "3.5")
    # The required materials of the checklist, several files at once where the SME has them.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    for code in ("business_licence", "trial_plan", "quotation", "financial_statements", "credit_declaration"):
        page.set_input_files(f"#material_{code}", files=[{"name": f"{code}.pdf", "mimeType": "application/pdf",
                                                          "buffer": pdf}])
    shot(page, f"flow-{lang}-05-sme-application-form")
    submit(page, "main form[method=post]")
    application_id = int(re.search(r"/applications/(\d+)", page.url).group(1))
    submit(page, f"form[action='/applications/{application_id}/submit']")
    shot(page, f"flow-{lang}-06-sme-application-submitted")
    return application_id


def officer_approves(page, base, application_id: int, lang: str) -> None:
    page.goto(f"{base}/applications/review")
    shot(page, f"flow-{lang}-07-officer-review-queue")
    with page.expect_navigation():
        page.locator(f"main a[href='/applications/{application_id}']").first.click()
    page.fill("#approve-comment", "符合试点条件，同意试用。")
    submit(page, f"form[action='/applications/{application_id}/approve']")
    shot(page, f"flow-{lang}-08-officer-approved")


def trial_of(page, base, application_id: int) -> int:
    page.goto(f"{base}/applications/{application_id}")
    href = page.locator("main a[href^='/trials/']").first.get_attribute("href")
    return int(re.search(r"/trials/(\d+)", href).group(1))


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_the_whole_trial_flow_by_every_kind_of_user(people, live_server, lang):
    base = live_server
    title = f"浏览器流程MES-{secrets.token_hex(3)}" if lang == "zh_Hans_CN" else f"Browser flow MES {secrets.token_hex(3)}"
    provider, evaluator, sme, officer = (people("provider", lang), people("evaluator", lang), people("sme", lang),
                                         people("officer", lang))

    solution_id = provider_submits_a_solution(provider, base, title, lang)
    if lang == "en":
        assert "Submit for screening" not in provider.locator("main").inner_text()
    evaluator_screens_and_lists(evaluator, base, solution_id, title, lang)
    application_id = sme_applies(sme, base, title, lang)
    if lang == "en":
        assert "Waiting for the bureau's review" in sme.locator("main").inner_text()
    officer_approves(officer, base, application_id, lang)
    if lang == "en":
        assert "Approved" in officer.locator("main").inner_text()
    trial_id = trial_of(officer, base, application_id)

    # Provider reports each milestone; the SME confirms it (the kick-off starts the trial).
    for n, kind in enumerate(("kickoff", "deployed", "in_use", "final_report"), start=1):
        provider.goto(f"{base}/trials/{trial_id}")
        provider.fill("#report-note", f"里程碑 {n}：已按计划完成。")
        submit(provider, f"form[action='/trials/{trial_id}/milestones/{kind}/report']")
        if n == 1:
            shot(provider, f"flow-{lang}-09-provider-reported-kickoff")
        sme.goto(f"{base}/notifications/")
        sme.goto(f"{base}/trials/{trial_id}")
        if kind == "kickoff":
            # The confirmation says it releases the advance, with the amount (30% of 30,000).
            notice = sme.locator("[data-advance-notice]").inner_text()
            assert "9,000.00" in notice and ("预拨款" in notice if lang == "zh_Hans_CN" else "advance" in notice)
            shot(sme, f"flow-{lang}-09b-sme-kickoff-confirmation")
        if kind == "final_report":
            # Confirmed the same day as the kick-off: far ahead of the 30-day plan, so a reason is asked.
            assert sme.locator("[data-early-notice]").count() == 1
            sme.fill("#confirm-early_reason", "试用目标提前达成，车间已全面切换到新系统。")
        submit(sme, f"form[action='/trials/{trial_id}/milestones/{kind}/confirm']")
        if n == 1:
            shot(sme, f"flow-{lang}-10-sme-confirmed-kickoff")
    shot(sme, f"flow-{lang}-11-trial-completed")

    # Acceptance (验收): the SME (sent to the form by the final-report confirmation), then the provider.
    assert f"/trials/{trial_id}/acceptance" in sme.url
    for who, page_ in (("sme", sme), ("provider", provider)):
        page_.goto(f"{base}/trials/{trial_id}/acceptance")
        page_.fill("#accept-delivered_scope", "系统已部署并投入使用，完成两轮操作培训，已移交管理员账号。")
        for box in page_.locator("main input[name='accept-checklist']").all():
            box.check()
        shot(page_, f"acceptance-{lang}-{who}-desktop")
        page_.set_viewport_size({"width": 390, "height": 844})
        shot(page_, f"acceptance-{lang}-{who}-390")
        page_.set_viewport_size({"width": 1280, "height": 900})
        submit(page_, f"form[action='/trials/{trial_id}/acceptance']")
        shot(page_, f"acceptance-{lang}-{who}-accepted")
    text = provider.locator("main").inner_text()
    assert ("企业和服务商均已验收" if lang == "zh_Hans_CN" else "Accepted by the enterprise and the provider") in text
    provider.set_viewport_size({"width": 390, "height": 844})
    shot(provider, f"acceptance-{lang}-both-accepted-390")
    provider.set_viewport_size({"width": 1280, "height": 900})

    # The officer assigns the evaluator.
    officer.goto(f"{base}/trials/{trial_id}")
    value = officer.locator("#assign-evaluator_id option", has_text="李评估").first.get_attribute("value")
    officer.select_option("#assign-evaluator_id", value)
    submit(officer, f"form[action='/trials/{trial_id}/evaluators']")
    shot(officer, f"flow-{lang}-12-officer-assigned-evaluator")

    # The evaluator declares no conflict, then scores.
    evaluator.goto(f"{base}/trials/evaluations")
    with evaluator.expect_navigation():
        evaluator.locator(f"main a[href*='/trials/{trial_id}']").first.click()
    assert "/declaration" in evaluator.url
    evaluator.check("#declare-confirm")
    shot(evaluator, f"flow-{lang}-13-evaluator-declaration")
    submit(evaluator, "main form:has(input[value=no_conflict])")
    assert "/evaluation" in evaluator.url
    evaluator.fill("#after_production_efficiency", "52")
    evaluator.fill("#after_defect_rate", "2.1")
    for code in ("effect", "quality", "service", "cost_effectiveness", "replicability"):
        evaluator.fill(f"#score_{code}", "88")
    evaluator.fill("#comments", "生产效率提升明显，不良率下降，服务响应及时。")
    evaluator.check("input[name=recommendation][value=continue]")
    shot(evaluator, f"flow-{lang}-14-evaluator-form")
    # The server shows the weighted total first; the evaluator then confirms the irreversible submit.
    with evaluator.expect_navigation():
        evaluator.locator("main form[method=post] button[value=preview]:not(.visually-hidden)").click()
    ok(evaluator)
    assert evaluator.locator("[data-figure=preview_total]").get_attribute("data-value") == "88.0"
    with evaluator.expect_navigation():
        evaluator.locator("#preview button[value=submit]").click()
    ok(evaluator)
    shot(evaluator, f"flow-{lang}-15-evaluation-submitted")

    # The SME records the adoption decision: the trial closes.
    sme.goto(f"{base}/trials/{trial_id}")
    sme.check("input[name='adoption-adopted'][value=yes]")
    sme.fill("#adoption-reason", "效果达到预期，决定付费续用。")
    submit(sme, f"form[action='/trials/{trial_id}/adoption']")
    shot(sme, f"flow-{lang}-16-sme-adoption-recorded")
    assert sme.locator("main").inner_text().count("88") >= 1
    # Not "closed, nothing to do": the balance still waits for its public notice and payment.
    assert sme.locator("[data-stage^='balance:']").get_attribute("data-stage") in (
        "balance:notice", "balance:notice_running", "balance:payment")

    # Finance: the maker prepares a payable item; the checker (another finance officer) approves it.
    finance, finance2 = people("finance", lang), people("finance2", lang)
    finance.goto(f"{base}/payments/queue?show=payable")
    shot(finance, f"flow-{lang}-17-finance-payment-queue")
    with finance.expect_navigation():
        finance.locator("main a[href^='/payments/prepare?']").first.click()
    submit(finance, "form[action='/payments/prepare']")
    disbursement_id = int(re.search(r"/payments/disbursements/(\d+)", finance.url).group(1))
    shot(finance, f"flow-{lang}-18-finance-prepared")
    finance2.goto(f"{base}/payments/disbursements/{disbursement_id}/decide")
    finance2.check("input[name=decision][value=approve]")
    finance2.fill("#password", "demo-finance2-pass")
    submit(finance2, "main form[method=post]")
    shot(finance2, f"flow-{lang}-19-finance2-approved")
    assert f"/payments/disbursements/{disbursement_id}" in finance2.url
