"""A finance officer imports the bank's result file of a payment batch and resolves a conflict, in
both languages: the demo batch's line is already paid, so the bank's row for it is a duplicate and
a row naming no line is an unknown reference; both wait for a decision, which needs a reason."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, shot

TEXT = {
    "zh_Hans_CN": {"imported": "银行回单已导入", "duplicate": "重复记录", "unknown": "未知编号", "ignored": "已忽略",
                   "required": "请"},
    "en": {"imported": "The bank's file is imported", "duplicate": "Duplicate", "unknown": "Unknown reference",
           "ignored": "Ignored", "required": "required"},
}


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_finance_imports_the_bank_file_and_resolves_a_conflict(open_page, live_server, lang):
    page = open_page(lang)
    login(page, live_server, "finance", lang)
    page.goto(f"{live_server}/payments/batches")
    with page.expect_navigation():  # page.url is read next: wait for the batch page, not the list
        page.locator("main a[href^='/payments/batches/']").first.click()
    batch_url = page.url
    reference = page.locator("main a[href^='/payments/disbursements/']").first.inner_text().strip()
    amount = page.locator("main table tbody tr").first.locator("td").nth(4).inner_text()
    amount = re.sub(r"[^0-9.]", "", amount)
    with page.expect_navigation():
        page.click("#reconciliation-link")
    assert page.url == batch_url.rstrip("/") + "/reconciliation"

    csv_text = ("户名,账号,金额,用途,银行流水号,交易类型\r\n"
                f"演示公司,6222,{amount},专项资金拨付 {reference},BK-{lang},转账\r\n"
                f"演示公司,6222,12.34,其他款项 {lang},BK-X-{lang},转账\r\n")
    page.set_input_files("input[name=file]", files=[{"name": f"result-{lang}.csv", "mimeType": "text/csv",
                                                      "buffer": ("\ufeff" + csv_text).encode("utf-8")}])
    page.select_option("select[name=layout]", "generic")
    with page.expect_navigation():
        page.click("#import-button")
    words = TEXT[lang]
    assert words["imported"] in page.locator(".alert-success").inner_text()
    duplicate = page.locator("#rows tr[data-status='duplicate']").last
    unknown = page.locator("#rows tr[data-status='unknown_reference']").last
    assert words["duplicate"] in duplicate.inner_text() and words["unknown"] in unknown.inner_text()
    shot(page, f"reconciliation-import-{lang}")

    # Without a reason the decision is refused on its field; with one it is recorded.
    with page.expect_navigation():
        duplicate.locator("button[type=submit]").click()
    duplicate = page.locator("#rows tr[data-status='duplicate']").last
    assert duplicate.locator(".invalid-feedback").count() >= 1
    duplicate.locator("textarea[name=reason]").fill("银行重复回单，拨付已记录" if lang != "en" else "Repeated bank advice")
    with page.expect_navigation():
        duplicate.locator("button[type=submit]").click()
    assert page.locator(".alert-success").count() == 1
    assert words["ignored"] in page.locator("#rows tr[data-status='duplicate']").last.inner_text()
    shot(page, f"reconciliation-decided-{lang}")
