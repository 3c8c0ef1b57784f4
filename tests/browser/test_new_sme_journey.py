"""A new enterprise's whole way through a trial voucher, as its user clicks it (issue 16's acceptance):
read the programme guide from the landing page, open an account and register the enterprise, open
the guide again from the menu, start an application from the catalogue, see the materials
checklist, be refused for a missing material with the list of what is missing, attach it, submit,
follow the timeline (受理编号, the stage now, who acts next, the date due), confirm the kick-off (the
confirmation names the 30% advance and its amount) and accept the delivered scope (验收).

In Chinese and English, on a desktop and on a 390 × 844 phone.  At every step the page is no wider
than the screen and its main action is shown within it; each step's screenshot goes to
``test-artifacts/journey/<lang>-<device>-<nn>-<step>.png`` (the paths are printed).  The officer's
approval and the provider's milestone reports are done by them in their own browsers (``people``).
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from stdnum.cn import uscc as uscc_lib

from tests.browser.conftest import assert_action_visible, assert_fits, menu_link, shot, switch_language
from voucher.deadlines import local_today
from voucher.money import format_money

SOLUTION = "设备上云与能耗监测平台"  # a demo solution of the demo provider (provider@demo.test)
REQUESTED = Decimal("40000")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NUMBER = re.compile(r"SY-\d{4}-\d{6}")
DEVICES = {"desktop": (1280, 800), "phone": (390, 844)}

WORDS = {
    "zh_Hans_CN": {"guide": "办事指南", "refused": "缺少必交材料", "missing": "服务商报价单或服务合同",
                   "now": "当前环节", "next": "下一步办理方", "due": "承诺办结日期", "advance": "预拨款",
                   "accepted": "已于", "required": "必交", "html": "zh-CN"},
    "en": {"guide": "Programme guide", "refused": "Some required materials are missing",
           "missing": "Provider's quotation or draft service contract", "now": "Now:", "next": "Who acts next",
           "due": "Due by", "advance": "advance", "accepted": "accepted 2", "required": "Required material",
           "html": "en"},
}


def _fresh_uscc() -> str:
    body = f"91330302MA{secrets.randbelow(10**7):07d}"
    return body + uscc_lib.calc_check_digit(body)


class Journey:
    """The SME's browser, checking and photographing each step."""

    def __init__(self, page, base: str, lang: str, device: str):
        self.page, self.base, self.lang, self.device = page, base, lang, device
        self.words = WORDS[lang]
        self.step = 0

    def check(self, name: str, action: str) -> None:
        """The page is in the user's language, fits the screen, shows its main action; photographed."""
        page = self.page
        page.wait_for_load_state()
        self.step += 1
        where = f"[{self.lang} {self.device}] step {self.step} {name} ({page.url})"
        assert page.locator("html").get_attribute("lang") == self.words["html"], f"{where}: wrong language"
        assert "Traceback" not in page.locator("body").inner_text()
        path = shot(page, f"{self.lang}-{self.device}-{self.step:02d}-{name}", folder="journey")
        print(f"screenshot: {path}")
        assert_fits(page, where)
        assert_action_visible(page, page.locator(action), where)

    def main_text(self) -> str:
        return self.page.locator("main").inner_text()

    def click_and_wait(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()

    def menu(self, href: str) -> None:
        link = menu_link(self.page, href)
        with self.page.expect_navigation():
            link.click()


def _submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()
    assert page.locator(".alert-danger").count() == 0, page.locator(".alert-danger").first.inner_text()


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_a_new_sme_applies_follows_and_accepts_its_trial(open_page, people, live_server, lang, device):
    base = live_server
    width, height = DEVICES[device]
    # A Wenzhou enterprise's browser is Chinese: the English run chooses English with the switch.
    page = open_page(lang, width, height, phone=device == "phone", locale="zh-CN")
    me = Journey(page, base, lang, device)
    words = me.words

    # 1. A visitor reads the trial-voucher guide from the landing page.
    page.goto(f"{base}/")
    switch_language(page, lang)
    me.check("landing", "#guide-links a[href='/guide/trial_voucher']")
    me.click_and_wait("#guide-links a[href='/guide/trial_voucher']")
    assert page.locator(".guide-flow > li").count() == 7
    assert page.locator("[data-figure=review_days]").is_visible()
    me.check("guide", "main h1")

    # 2. Opens an enterprise account, then registers the enterprise.
    page.goto(f"{base}/")
    me.click_and_wait("main a[href='/register']")
    tag = secrets.token_hex(4)
    page.fill("#name", "林新企")
    page.fill("#email", f"new-sme-{tag}@example.com")
    page.fill("#password", f"Journey-{tag}-pass")
    page.fill("#confirm", f"Journey-{tag}-pass")
    me.check("register-account", "main form button[type=submit]")
    me.click_and_wait("main form button[type=submit]")
    assert "/register" not in page.url, page.locator(".invalid-feedback, .alert").all_inner_texts()
    me.menu("/enterprise")
    enterprise = f"温州新旅程泵阀有限公司{tag}"
    page.fill("#name", enterprise)
    page.fill("#uscc", _fresh_uscc())
    page.select_option("#district", "lucheng")
    page.select_option("#industry", "pumps_valves")
    page.fill("#employees", "45")
    page.fill("#annual_revenue", "3500万")
    page.fill("#contact_name", "林新企")
    page.fill("#contact_phone", "0577-88123456")
    page.fill("#bank_name", "温州银行鹿城支行")
    page.fill("#bank_account", f"7010{secrets.randbelow(10**12):012d}")
    me.check("register-enterprise", "main form button[type=submit]")
    me.click_and_wait("main form button[type=submit]")
    assert page.url.endswith("/enterprise"), page.locator(".invalid-feedback, .alert").all_inner_texts()
    assert enterprise in me.main_text()
    me.check("enterprise-registered", "main h1")

    # 3. The guide again, from the menu.
    me.menu("/guide/")
    assert words["guide"] in me.main_text()
    me.check("guides-from-menu", "main a[href$='/trial_voucher']")

    # 4. From the catalogue to the application form, which shows the checklist.
    me.menu("/catalogue/")
    page.fill("#q", SOLUTION)
    with page.expect_navigation():
        page.press("#q", "Enter")
    me.check("catalogue", f"main a:text-is('{SOLUTION}')")
    me.click_and_wait(f"main a:text-is('{SOLUTION}')")
    me.check("solution", "main a[href*='/applications/new?solution_id=']")
    me.click_and_wait("main a[href*='/applications/new?solution_id=']")
    checklist = page.locator("#materials .list-group-item")
    required = page.locator("#materials .badge.text-bg-danger").all_inner_texts()
    assert checklist.count() == 8 and required == [words["required"]] * 5, required
    assert words["missing"] in me.main_text()
    me.check("application-form", "main form button.btn-primary[type=submit]")
    page.fill("#requested_amount", str(REQUESTED))
    page.fill("#need_statement", "泵阀装配车间能耗靠人工抄表，希望试用设备上云与能耗监测，找出高耗能工序。")
    today = local_today()
    page.fill("#contract_date", (today + timedelta(days=7)).isoformat())
    page.fill("#trial_start_date", (today + timedelta(days=10)).isoformat())
    page.fill("#baseline_production_efficiency", "40")
    # Four of the five required materials (the guide's 材料清单): the quotation is forgotten.
    for code in ("business_licence", "financial_statements", "credit_declaration", "trial_plan"):
        page.set_input_files(f"#material_{code}", files=[{"name": f"{code}.pdf", "mimeType": "application/pdf",
                                                          "buffer": PDF}])
    me.check("application-filled", "main form button.btn-primary[type=submit]")
    _submit(page, "main form[enctype='multipart/form-data']")
    application_id = int(re.search(r"/applications/(\d+)", page.url).group(1))
    me.check("draft-saved", f"form[action='/applications/{application_id}/submit'] button")

    # 5. Submitting without the quotation is refused, naming it.
    _refused = page.locator(".alert-danger")
    with page.expect_navigation():
        page.locator(f"form[action='/applications/{application_id}/submit'] button").click()
    assert _refused.count() == 1
    refusal = _refused.inner_text()
    assert words["refused"] in refusal and words["missing"] in refusal, refusal
    assert page.locator("[data-application-number]").count() == 1
    # The next-step box links straight down to the checklist (three screens below on a phone).
    assert page.locator("[data-to-materials]").count() == 1
    from playwright.sync_api import expect

    page.click("[data-to-materials]")
    expect(page.locator("#materials .list-group-item").first).to_be_in_viewport()
    me.check("refused-missing-material", "#material_quotation")

    # 6. Attaches the quotation and submits.
    page.set_input_files("#material_quotation", files=[{"name": "quotation.pdf", "mimeType": "application/pdf",
                                                        "buffer": PDF}])
    # (the upload form's own button: the "remove" buttons inside it belong to the removal forms)
    _submit(page, f"form[action='/applications/{application_id}/attachments'] >")
    assert "quotation.pdf" in me.main_text()
    me.check("material-attached", f"form[action='/applications/{application_id}/submit'] button")
    _submit(page, f"form[action='/applications/{application_id}/submit']")

    # 7. The timeline: the application number, the stage now, who acts next, the date it is due.
    timeline = page.locator("[data-timeline]")
    number = page.locator("[data-application-number]").inner_text().strip()
    assert NUMBER.fullmatch(number), number
    now = page.locator("[data-timeline-now]").inner_text()
    assert words["now"] in now and words["next"] in now, now
    due = page.locator("[data-due]").inner_text()
    assert re.search(r"\d{4}-\d{2}-\d{2}", due) and words["due"] in due, due
    assert page.locator("[data-timeline] [aria-current=step]").count() == 1
    assert page.locator("[data-timeline] [data-step=done]").count() >= 1
    me.check("submitted-timeline", "[data-timeline-now]")
    assert timeline.is_visible()
    # My applications lists it under the same number.
    me.menu("/applications/mine")
    assert number in me.main_text()
    me.check("my-applications", f"main a[href='/applications/{application_id}']")

    # 8. The officer approves it (in the officer's own browser).
    officer = people("officer")
    officer.goto(f"{base}/applications/{application_id}")
    officer.fill("#approve-comment", "材料齐全，符合试点条件，同意试用。")
    _submit(officer, f"form[action='/applications/{application_id}/approve']")

    # 9. The SME sees the approval and its trial; the provider reports the kick-off.
    page.goto(f"{base}/applications/{application_id}")
    assert page.locator("[data-application-number]").inner_text().strip() == number
    me.check("approved", "main a[href^='/trials/']")
    me.click_and_wait("main a[href^='/trials/']")
    trial_id = int(re.search(r"/trials/(\d+)", page.url).group(1))
    provider = people("provider")

    def provider_reports(kind: str) -> None:
        provider.goto(f"{base}/trials/{trial_id}")
        provider.fill("#report-note", "已按计划完成，请企业确认。")
        _submit(provider, f"form[action='/trials/{trial_id}/milestones/{kind}/report']")

    provider_reports("kickoff")

    # 10. The kick-off confirmation names the 30% advance and its amount.
    page.goto(f"{base}/trials/{trial_id}")
    notice = page.locator("[data-advance-notice]").inner_text()
    advance = format_money(REQUESTED * Decimal("0.30"))
    assert "30%" in notice and advance.lstrip("¥") in notice and words["advance"] in notice, notice
    kickoff = f"form[action='/trials/{trial_id}/milestones/kickoff/confirm'] button"
    me.check("kickoff-to-confirm", kickoff)
    _submit(page, f"form[action='/trials/{trial_id}/milestones/kickoff/confirm']")
    me.check("kickoff-confirmed", "main h1")

    # 11. The remaining milestones, each reported by the provider and confirmed by the SME.
    for kind in ("deployed", "in_use", "final_report"):
        provider_reports(kind)
        page.goto(f"{base}/trials/{trial_id}")
        if kind == "final_report":
            assert page.locator("[data-early-notice]").count() == 1  # far ahead of the planned end
            page.fill("#confirm-early_reason", "能耗监测已覆盖全部工序，试用目标提前达成。")
            me.check("final-report-to-confirm", f"form[action='/trials/{trial_id}/milestones/{kind}/confirm'] button")
        _submit(page, f"form[action='/trials/{trial_id}/milestones/{kind}/confirm']")

    # 12. Acceptance (验收): the SME confirms the delivered scope.
    page.goto(f"{base}/trials/{trial_id}/acceptance")
    page.fill("#accept-delivered_scope", "平台已部署，全部工序电表已接入，完成操作培训。")
    for box in page.locator("main input[name='accept-checklist']").all():
        box.check()
    me.check("acceptance-form", f"form[action='/trials/{trial_id}/acceptance'] button[type=submit]")
    _submit(page, f"form[action='/trials/{trial_id}/acceptance']")
    page.goto(f"{base}/trials/{trial_id}")
    assert any(words["accepted"] in li for li in page.locator("#acceptance li").all_inner_texts())
    me.check("accepted", "#acceptance a.btn")
