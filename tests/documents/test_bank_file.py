"""The bank file in each bank's layout: Chinese headers, the bank code (联行号), the purpose (用途),
the layout's encoding (UTF-8 with BOM, or GB18030) and CRLF line ends; refusals name the line."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from voucher.documents.bank_file import FIELDS, LAYOUTS, BankFileError, bank_file, layout_for
from voucher.documents.pdf import BankLine

LINES = [BankLine("温州智造科技有限公司", "温州银行鹿城支行", "0062220000111", Decimal("40000"), "DSB-2026-000001",
                  bank_code="313333000017", purpose="试用券尾款 DSB-2026-000001"),
         BankLine("A, B \"Co\"", "中国工商银行温州分行", "6222000033334444", Decimal("123.45"), "DSB-2026-000002",
                  bank_code="102333000017", purpose="贷款贴息 DSB-2026-000002")]


def test_the_generic_layout_is_utf8_with_a_bom_chinese_headers_and_crlf():
    data = bank_file(LINES, "generic")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = data[3:].decode("utf-8").split("\r\n")
    assert rows[0] == "户名,账号,开户行,联行号,金额,用途"
    assert rows[1] == "温州智造科技有限公司,0062220000111,温州银行鹿城支行,313333000017,40000.00,试用券尾款 DSB-2026-000001"
    assert rows[2] == '"A, B ""Co""",6222000033334444,中国工商银行温州分行,102333000017,123.45,贷款贴息 DSB-2026-000002'
    assert rows[3] == ""  # ends with CRLF
    assert bank_file(LINES) == data  # the default layout


def test_the_gb18030_layout_numbers_the_lines_and_decodes_as_gb18030_without_a_bom():
    data = bank_file(LINES, "gb18030_numbered")
    assert not data.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GB18030, not UTF-8
    text = data.decode("gb18030")
    assert text.endswith("\r\n") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["序号", "账号", "户名", "金额", "联行号", "开户行", "用途"]
    assert rows[1] == ["1", "0062220000111", "温州智造科技有限公司", "40000.00", "313333000017", "温州银行鹿城支行",
                       "试用券尾款 DSB-2026-000001"]
    assert rows[2][0] == "2" and rows[2][2] == 'A, B "Co"'
    assert LAYOUTS["gb18030_numbered"].decode(data) == text


@pytest.mark.parametrize("code", sorted(LAYOUTS))
def test_every_layout_has_the_six_columns_a_bank_needs_with_their_chinese_headers(code):
    layout = layout_for(code)
    fields = [f for _h, f in layout.columns]
    assert {"payee_name", "account", "bank_name", "bank_code", "amount", "purpose"} <= set(fields)
    assert all(header == FIELDS[f] for header, f in layout.columns)
    assert layout.encoding in ("utf-8", "gb18030")


def test_an_unknown_layout_is_refused_naming_the_layouts():
    with pytest.raises(BankFileError, match="generic"):
        bank_file(LINES, "no_such_bank")


@pytest.mark.parametrize("line,words", [
    (BankLine("P", "B", "1", Decimal("1.00"), "DSB-9"), "no bank code"),
    (BankLine("P", "B", "1", Decimal("1.00"), "DSB-9", bank_code="31333300001"), "not 12 digits"),
    (BankLine("P", "B", "1", Decimal("0.00"), "DSB-9", bank_code="313333000017"), "positive"),
    (BankLine("P", "B", "1", Decimal("1.001"), "DSB-9", bank_code="313333000017"), "fen"),
    (BankLine("P", "", "1", Decimal("1.00"), "DSB-9", bank_code="313333000017"), "开户行"),
])
def test_a_line_the_bank_could_not_pay_is_refused_naming_it(line, words):
    with pytest.raises(BankFileError, match=words) as err:
        bank_file([line])
    assert "DSB-9" in str(err.value) or "fen" in words


def test_a_formula_payee_name_is_written_inert_instead_of_failing():
    line = BankLine('=HYPERLINK("x")', "@B", "1", Decimal("1.00"), "R", bank_code="313333000017")
    data = bank_file([line], "generic").decode("utf-8-sig")
    assert data.split("\r\n")[1] == '"\'=HYPERLINK(""x"")",1,\'@B,313333000017,1.00,R'
