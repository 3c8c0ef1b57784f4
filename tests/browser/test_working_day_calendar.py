"""An officer enters next year's holiday arrangement in the browser (the confirmation accepted),
and the year's days show in the calendar; the finance officer reads them in English."""
from __future__ import annotations

from datetime import date

from tests.browser.conftest import login, shot
from voucher.deadlines import local_today


def test_an_officer_enters_next_years_arrangement_and_finance_reads_it(dialog_page, live_server, browser):
    page = dialog_page
    year = local_today().year + 1
    login(page, live_server, "officer")
    page.goto(f"{live_server}/calendar/{year}")
    page.fill("#reference", f"国办发明电〔{year - 1}〕7号")
    page.fill("#days_off", f"{year}-01-01 元旦\n{year}-10-01/{year}-10-07 国庆节\n{year}-13-01 错误")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    # The bad third line is refused on its field, and nothing is recorded.
    assert "第 3 行" in page.locator("#days_off-err").inner_text()
    page.fill("#days_off", f"{year}-01-01 元旦\n{year}-10-01/{year}-10-07 国庆节")
    saturday = next(date(year, 9, d) for d in range(20, 30) if date(year, 9, d).weekday() == 5)
    page.fill("#working_days", f"{saturday.isoformat()} 国庆节")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator(".alert-success").count() == 1
    rows = page.locator("#calendar-days tbody tr")
    assert rows.count() == 9  # 1 + 7 days off, 1 worked Saturday
    assert page.locator(f"#calendar-days tr[data-day='{saturday.isoformat()}']").inner_text().count("上班") == 1
    shot(page, "calendar-officer-zh_Hans_CN")

    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US").new_page()
    login(other, live_server, "finance", "en")
    other.goto(f"{live_server}/calendar/")
    row = other.locator(f"#calendar-years tr[data-year='{year}']").inner_text()
    assert "Entered by the bureau" in row and f"国办发明电〔{year - 1}〕7号" in row
    other.goto(f"{live_server}/calendar/{year}")
    assert other.locator("#calendar-days tbody tr").count() == 9 and other.locator("#days_off").count() == 0
    shot(other, "calendar-finance-en")
    other.context.close()
