"""A park operator (demo: park_operator@demo.test, 龙湾小微企业园) sees its confirmed enterprises and
their programme use, the request waiting, and downloads the report workbook, in Chinese and in
English; the page fits a 390 px phone.  Skipped, as every browser test, without Chromium."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import assert_fits, login, shot

MEMBERS = ("温州瓯江泵阀有限公司", "永嘉县阀门铸造有限公司", "文成县精工机械厂")
WAITING = "洞头海洋食品机械有限公司"
OTHER_PARK_MEMBER = "乐清市正泰电气配套厂"


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_a_park_operator_sees_its_enterprises_and_exports(open_page, live_server, lang):
    page = open_page(lang)
    login(page, live_server, "park_operator", lang)
    page.goto(f"{live_server}/parks/")
    assert "/parks/" in page.url and page.locator("[data-members]").count() == 1
    table = page.locator("[data-members]").inner_text()
    for name in MEMBERS:
        assert name in table
    assert OTHER_PARK_MEMBER not in page.content()
    assert WAITING in page.locator("#requests").inner_text()
    heading = page.locator("main").inner_text()
    assert ("Member enterprises" in heading) if lang == "en" else ("入园企业" in heading)
    content = page.content()
    assert "70100000" not in content and "313333000017" not in content  # the demo enterprises' bank details
    shot(page, f"park-operator-{lang}")
    with page.expect_download() as download:
        page.click("[data-workbook]")
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert [ws.title for ws in book] == (["Park summary", "Enterprises"] if lang == "en" else ["园区汇总", "企业"])
    names = {row[1].value for row in book.worksheets[1].iter_rows(min_row=2)}
    assert set(MEMBERS) <= names and WAITING not in names


def test_the_park_page_fits_a_phone(open_page, live_server):
    page = open_page("zh_Hans_CN", width=390, height=844, phone=True)
    login(page, live_server, "park_operator")
    page.goto(f"{live_server}/parks/")
    assert_fits(page, "the park page")


def test_the_sme_sees_its_park_on_its_enterprise_page(open_page, live_server):
    page = open_page("zh_Hans_CN")
    login(page, live_server, "sme")
    page.goto(f"{live_server}/enterprise")
    panel = page.locator("[data-park-panel]").inner_text()
    assert "龙湾小微企业园" in panel and "已确认入园" in panel
