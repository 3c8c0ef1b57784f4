"""Interest periods pasted from Excel/WPS or uploaded as .xlsx (issue 16 §5): read back for
checking, every bad cell named at once, formulas refused and never evaluated, limits."""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from tests.subsidies.conftest import EN, count, loan_form
from voucher.subsidies import period_table
from voucher.subsidies.models import LoanApplication, LoanInterestPeriod

D = Decimal
ZH = {"Accept-Language": "zh-CN"}
PASTED = ("计息期开始日\t计息期结束日\t贷款余额（元）\t已付利息（元）\n"
          "2026/1/1\t2026年4月1日\t800万\t48,000.00\n"
          "２０２６-04-01\t2026.7.1\t1,200,000.00\t￥７２００\n")


def xlsx(rows, formula_cells=()) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref, text in formula_cells:
        sheet[ref] = text  # openpyxl stores a string starting with "=" as a formula cell
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


# --- the reader -------------------------------------------------------------------------------

def test_pasted_text_with_chinese_headings_and_amounts_as_people_write_them():
    parsed = period_table.parse_text(PASTED)
    assert parsed.errors == []
    assert [(r.line, r.start, r.end, r.outstanding_principal, r.interest_paid) for r in parsed.rows] == [
        (2, date(2026, 1, 1), date(2026, 4, 1), D("8000000.00"), D("48000.00")),
        (3, date(2026, 4, 1), date(2026, 7, 1), D("1200000.00"), D("7200.00"))]


def test_english_headings_in_another_order_and_extra_columns():
    text = "No.,Interest paid,Period end,Period start,Principal\n1,\"1,000.50\",2026-03-31,2026-01-01,3500万\n"
    parsed = period_table.parse_text(text)
    assert parsed.errors == []
    (row,) = parsed.rows
    assert (row.start, row.end, row.outstanding_principal, row.interest_paid) == (
        date(2026, 1, 1), date(2026, 3, 31), D("35000000.00"), D("1000.50"))


def test_no_headings_reads_four_columns_in_order():
    parsed = period_table.parse_text("2026-01-01\t2026-03-31\t1200000\t3600\n")
    assert parsed.errors == [] and parsed.rows[0].outstanding_principal == D("1200000.00")


def test_every_bad_cell_is_named_at_once_and_no_row_is_taken():
    text = ("开始日期\t结束日期\t本金\t利息\n"
            "2026-13-01\t2026-03-31\t三百万\t100\n"
            "2026-01-01\t\t100\t1.234\n"
            "2026-05-01\t2026-04-01\t100\t=1+1\n")
    parsed = period_table.parse_text(text)
    assert parsed.rows == []
    found = {(e.row, e.column) for e in parsed.errors}
    assert found == {(2, "start"), (2, "outstanding_principal"), (3, "end"), (3, "interest_paid"), (4, "interest_paid")}
    formula = [e for e in parsed.errors if (e.row, e.column) == (4, "interest_paid")][0]
    assert "formula" in formula.message


def test_a_missing_heading_and_too_many_rows_are_refused():
    parsed = period_table.parse_text("开始日期\t结束日期\t本金\n2026-01-01\t2026-03-31\t100\n")
    assert [(e.row, e.column) for e in parsed.errors] == [(1, "interest_paid")]
    many = "".join(f"2026-01-01\t2026-01-02\t{i + 1}\t1\n" for i in range(period_table.MAX_ROWS + 1))
    parsed = period_table.parse_text(many)
    assert parsed.rows == [] and "At most %(max)s" in parsed.errors[0].message
    assert period_table.parse_text("x" * (period_table.MAX_TEXT + 1)).errors[0].params["max"] == "20,000"


def test_xlsx_with_date_cells_numbers_and_a_formula_that_is_never_evaluated():
    data = xlsx([["起息日", "止息日", "贷款余额", "已付利息"],
                 [datetime(2026, 1, 1), datetime(2026, 4, 1), 8000000, 48000.5],
                 [datetime(2026, 4, 1), datetime(2026, 7, 1), None, None]],
                formula_cells=[("C3", "=1+1"), ("D3", '=HYPERLINK("http://evil.example","x")')])
    parsed = period_table.parse_xlsx(data)
    assert parsed.rows == []
    assert {(e.row, e.column) for e in parsed.errors} == {(3, "outstanding_principal"), (3, "interest_paid")}
    assert all("formula" in e.message for e in parsed.errors)
    good = period_table.parse_xlsx(xlsx([[datetime(2026, 1, 1), datetime(2026, 4, 1), 8000000, 48000.5]]))
    assert good.errors == [] and good.rows[0].interest_paid == D("48000.50")


def test_xlsx_limits_and_foreign_files():
    assert "too large" in period_table.parse_xlsx(io.BytesIO(b"PK" + b"0" * 100), max_bytes=50).errors[0].message
    assert ".xlsx" in period_table.parse_xlsx(io.BytesIO(b"\xd0\xcf\x11\xe0 an old xls")).errors[0].message
    rows = [[datetime(2026, 1, 1), datetime(2026, 1, 2), i + 1, 1] for i in range(period_table.MAX_ROWS + 5)]
    assert period_table.parse_xlsx(xlsx(rows)).rows == []


# --- the pages ---------------------------------------------------------------------------------

def _import(client, programme, headers=EN, **extra):
    data = loan_form(programme, action="import_periods", **extra)
    data.pop("plan_file"), data.pop("statement_file")
    return client.post("/subsidies/loans/new", data=data, headers=headers, content_type="multipart/form-data")


def test_pasted_rows_fill_the_form_for_checking_and_save_nothing(client, sme, programme, login):
    login(sme)
    before = (count(LoanApplication), count(LoanInterestPeriod))
    r = _import(client, programme, periods_paste=PASTED)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'id="import-result"' in page and "¥8,000,000.00" in page and "¥7,200.00" in page
    assert 'name="periods-0-outstanding_principal" type="text" value="8000000.00"' in page or \
        re.search(r'name="periods-0-outstanding_principal"[^>]*value="8000000.00"', page)
    assert re.search(r'name="periods-1-start"[^>]*value="2026-04-01"', page)
    assert re.search(r'name="periods-2-start"[^>]*value=""', page)  # a blank row to add more
    assert re.search(r'name="bank_name"[^>]*value="Bank of Wenzhou"', page)  # the other fields kept
    assert (count(LoanApplication), count(LoanInterestPeriod)) == before


@pytest.mark.parametrize("headers,words", [(EN, "Row 3, column “Interest paid (yuan)”"), (ZH, "第 3 行“已付利息（元）”列")])
def test_bad_cells_are_listed_all_at_once_in_both_languages(client, sme, programme, login, headers, words):
    login(sme)
    r = _import(client, programme, headers=headers,
                periods_paste="开始日期\t结束日期\t本金\t利息\n2026-01-01\tsoon\t100\t1\n2026-01-01\t2026-02-01\t100\t=1+1\n")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    errors = re.search(r'id="import-errors".*?</ul>', page, re.S).group(0)
    assert errors.count("<li>") == 2 and words in errors
    # the rows were not replaced
    assert re.search(r'name="periods-0-start"[^>]*value="2026-01-01"', page)
    assert count(LoanApplication) == 0


def test_uploaded_xlsx_fills_the_rows_then_saving_stores_them(client, sme, programme, login):
    login(sme)
    upload = xlsx([["Period start", "Period end", "Outstanding principal (yuan)", "Interest paid (yuan)"],
                   [datetime(2026, 1, 1), datetime(2026, 4, 1), 8000000, 48000]])
    r = _import(client, programme, periods_file=(upload, "periods.xlsx"))
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]
    page = r.get_data(as_text=True)
    assert re.search(r'name="periods-0-end"[^>]*value="2026-04-01"', page)
    # What the page now holds is saved as usual.
    saved = client.post("/subsidies/loans/new", headers=EN, content_type="multipart/form-data",
                        data=loan_form(programme, **{"periods-0-outstanding_principal": "8000000.00",
                                                     "periods-0-interest_paid": "48000.00"}))
    assert saved.status_code == 302
    assert count(LoanInterestPeriod) == 1


def test_a_non_xlsx_upload_is_refused_with_a_message(client, sme, programme, login):
    login(sme)
    r = _import(client, programme, periods_file=(io.BytesIO(b"a,b"), "periods.csv"))
    assert r.status_code == 422 and ".xlsx" in r.get_data(as_text=True)


@pytest.mark.parametrize("headers,heading", [(EN, "Period start"), (ZH, "计息期开始日")])
def test_the_template_is_an_xlsx_with_the_headings_the_reader_reads(client, headers, heading):
    r = client.get("/subsidies/periods-template.xlsx", headers=headers)
    assert r.status_code == 200 and "spreadsheetml" in r.mimetype
    book = load_workbook(io.BytesIO(r.data))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == heading
    sheet.append([datetime(2026, 1, 1), datetime(2026, 4, 1), 8000000, 48000])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    parsed = period_table.parse_xlsx(buffer)
    assert parsed.errors == [] and parsed.rows[0].outstanding_principal == D("8000000.00")


def test_calculator_takes_a_pasted_table_by_get_and_a_file_by_post_without_js(client, lpr):
    r = client.get("/subsidies/calculator/loan", headers=EN, query_string={
        "action": "import_periods", "loan_rate": "2.40", "benchmark_rate": "3.00",
        "periods_paste": "2026-01-01\t2026-04-01\t800万\t48000\n"})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert re.search(r'name="periods-0-outstanding_principal"[^>]*value="8000000.00"', page)
    assert re.search(r'name="loan_rate"[^>]*value="2.40"', page)
    assert 'formmethod="post" formenctype="multipart/form-data"' in page
    upload = xlsx([[datetime(2026, 1, 1), datetime(2026, 4, 1), 8000000, 48000]])
    r = client.post("/subsidies/calculator/loan", headers=EN, content_type="multipart/form-data",
                    data={"action": "import_periods", "loan_rate": "2.40", "periods_file": (upload, "p.xlsx")})
    assert r.status_code == 200
    assert re.search(r'name="periods-0-start"[^>]*value="2026-01-01"', r.get_data(as_text=True))


def test_the_calculator_upload_needs_no_csrf_token_but_the_application_form_does(app, client, sme, programme, login):
    login(sme)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        upload = xlsx([[datetime(2026, 1, 1), datetime(2026, 4, 1), 8000000, 48000]])
        r = client.post("/subsidies/calculator/loan", headers=EN, content_type="multipart/form-data",
                        data={"action": "import_periods", "periods_file": (upload, "p.xlsx")})
        assert r.status_code == 200  # it changes nothing: exempt
        r = _import(client, programme, periods_paste=PASTED)
        assert r.status_code == 400  # the application form still needs its token
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_nul_in_the_pasted_table_is_refused_by_name():
    parsed = period_table.parse_text("2026-01-01\t2026-03-31\t1000000\t8000\x00")
    assert parsed.rows == [] and [e.message for e in parsed.errors] == [
        "A control character (such as a NUL byte) is refused."]
