"""Importing the bureau's data: every bad cell reported by row and column, the good rows kept, the
file's SHA-256 kept, the same file refused a second time, officers only."""
from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from tests.factories import fresh_user, valid_uscc
from voucher.audit.models import AuditEvent
from voucher.benefits import services
from voucher.benefits.models import BenefitBlacklist, BenefitInvoice, BenefitLoanLine
from voucher.benefits.tables import FileRefused, template_csv
from voucher.errors import Duplicate, Forbidden
from voucher.extensions import db

USCC = valid_uscc(901)

LOAN_HEAD = "统一社会信用代码,贷款银行,合同编号,合同日期,年利率(%),计息本金,计息开始日,计息结束日,已付利息\n"
INVOICE_HEAD = "统一社会信用代码,发票号码,机器人型号,生产厂家,国产品牌,数量,不含税金额,开票日期\n"


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


@pytest.fixture()
def officer(db_conn):
    return fresh_user("officer").actor()


def test_loan_statement_rows_stored_and_bad_cells_named_by_row_and_column(officer):
    data = csv_bytes(LOAN_HEAD +
                     f"{USCC},温州银行,WZ-2026-0001,2025-06-01,2.40,8000000.00,2026-01-01,2026-04-01,48000.00\n"
                     f"{USCC[:-1]}0,温州银行,WZ-2026-0002,2025-06-01,2.40,8000000.00,2026-01-01,2026-04-01,48000.00\n"
                     f"{USCC},温州银行,WZ-2026-0003,2025-06-01,abc,8000000.00,2026-01-01,2025-12-01,48000.00\n"
                     f"{USCC},温州银行,WZ-2026-0004,2025-13-01,2.40,=A1*2,2026-01-01,2026-04-01,48000.00\n")
    source = services.import_source(officer, "loan_statement", filename="bank.csv", data=data)
    assert source.sha256 == hashlib.sha256(data).hexdigest()
    assert (source.row_count, source.refused_count) == (1, 3)
    cells = {(r["row"], r["column"]) for r in source.report}
    assert cells == {(3, "统一社会信用代码"), (4, "年利率(%)"), (5, "合同日期"), (5, "计息本金")}
    line = db.session.scalars(select(BenefitLoanLine).where(BenefitLoanLine.source_id == source.id)).one()
    assert (line.row_number, line.days, line.outstanding_principal, line.loan_rate) == (2, 90, Decimal("8000000.00"),
                                                                                       Decimal("2.40"))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "benefit_source")).one()
    assert event.after["sha256"] == source.sha256 and event.after["refused_rows"] == 3


def test_the_interest_days_a_bank_states_must_match_the_period(officer):
    data = csv_bytes("统一社会信用代码,贷款银行,合同编号,合同日期,年利率(%),计息本金,计息开始日,计息结束日,计息天数,已付利息\n"
                     f"{USCC},温州银行,WZ-1,2025-06-01,2.40,100.00,2026-01-01,2026-04-01,90,1.00\n"
                     f"{USCC},温州银行,WZ-2,2025-06-01,2.40,100.00,2026-01-01,2026-04-01,91,1.00\n"
                     f"{USCC},温州银行,WZ-3,2025-06-01,2.40,100.00,2026-01-01,2026-04-01,9x,1.00\n")
    source = services.import_source(officer, "loan_statement", filename="bank.csv", data=data)
    assert source.row_count == 1
    assert [(r["row"], r["column"]) for r in source.report] == [(3, "计息天数"), (4, "计息天数")]
    assert source.report[0]["params"] == {"stated": 91, "days": 90}


def test_a_row_rule_across_cells_names_the_later_cell(officer):
    data = csv_bytes(LOAN_HEAD +
                     f"{USCC},温州银行,WZ-1,2025-06-01,2.40,100.00,2026-01-01,2026-04-01,1.00\n"
                     f"{USCC},温州银行,WZ-2,2025-06-01,2.40,100.00,2026-04-01,2026-01-01,1.00\n")
    source = services.import_source(officer, "loan_statement", filename="bank.csv", data=data)
    assert [(r["row"], r["column"]) for r in source.report] == [(3, "计息结束日")]


def test_robot_invoices_from_excel_with_a_repeated_invoice_and_bad_cells(officer):
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "发票号码", "机器人型号", "生产厂家", "国产品牌", "数量", "不含税金额", "开票日期"])
    sheet.append([USCC, "3300261130-00012345", "ER20", "埃夫特", "是", 2, 300000, date(2026, 3, 15)])
    sheet.append([USCC, "330026113000012345", "ER20", "埃夫特", "是", 1, 1000, date(2026, 3, 15)])  # same invoice
    sheet.append([USCC, "12345", "ER20", "埃夫特", "maybe", 0, -5, "yesterday"])
    out = io.BytesIO()
    book.save(out)
    source = services.import_source(officer, "robot_invoice", filename="tax.xlsx", data=out.getvalue())
    assert source.row_count == 1
    cells = {(r["row"], r["column"]) for r in source.report}
    assert cells == {(3, "发票号码"), (4, "发票号码"), (4, "国产品牌"), (4, "数量"), (4, "不含税金额"), (4, "开票日期")}
    invoice = db.session.scalars(select(BenefitInvoice)).one()
    assert (invoice.quantity, invoice.amount_excl_vat, invoice.domestic) == (2, Decimal("300000.00"), True)


def test_blacklist_english_headings_and_optional_end(officer):
    data = csv_bytes(f"USCC,Listed from,Listed to,Source\n{USCC},2026-01-01,,信用中国\n"
                     f"{USCC},2026-05-01,2026-04-01,信用中国\n")
    source = services.import_source(officer, "blacklist", filename="list.csv", data=data)
    assert source.row_count == 1 and source.report[0]["row"] == 3 and source.report[0]["column"] == "移出日期"
    entry = db.session.scalars(select(BenefitBlacklist)).one()
    assert entry.listed_to is None and entry.listed_by == "信用中国"


def test_a_missing_column_or_no_good_row_refuses_the_whole_file(officer):
    with pytest.raises(FileRefused) as refused:
        services.import_source(officer, "blacklist", filename="x.csv", data=csv_bytes(f"USCC,Source\n{USCC},x\n"))
    assert refused.value.errors[0].column == "列入日期"
    with pytest.raises(FileRefused) as refused:
        services.import_source(officer, "blacklist", filename="x.csv",
                               data=csv_bytes("USCC,Listed from,Source\nnot-a-code,2026-01-01,x\n"))
    assert (refused.value.errors[0].row, refused.value.errors[0].column) == (2, "统一社会信用代码")
    with pytest.raises(FileRefused):
        services.import_source(officer, "blacklist", filename="x.csv", data=b"")


def test_the_same_file_twice_is_refused_and_only_officers_import(officer, db_conn):
    data = template_csv("blacklist")
    services.import_source(officer, "blacklist", filename="a.csv", data=data)
    with pytest.raises(Duplicate):
        services.import_source(officer, "blacklist", filename="b.csv", data=data)
    for role in ("auditor", "finance", "sme"):
        with pytest.raises(Forbidden):
            services.import_source(fresh_user(role).actor(), "blacklist", filename="c.csv", data=data)


@pytest.mark.parametrize("kind", ["loan_statement", "robot_invoice", "blacklist"])
def test_each_template_imports_cleanly(officer, kind):
    source = services.import_source(officer, kind, filename=f"{kind}.csv", data=template_csv(kind))
    assert (source.row_count, source.refused_count) == (1, 0)
