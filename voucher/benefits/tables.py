"""Reading an officer's source file (CSV or Excel .xlsx) into checked rows, row by row.

Rules:

* the first non-empty row is the heading; columns are found by their heading in Chinese or English
  (the template's headings, :func:`template_csv`); a required column missing refuses the whole file;
* CSV in UTF-8 (a BOM is skipped) or GB18030; .xlsx is read without calculating anything: a formula
  cell (or text starting with ``=``) is refused, never evaluated;
* every bad cell is reported with its row (as the file numbers it, heading = 1) and its column's
  heading; a row with any bad cell is refused, the good rows are kept (the report lists the others);
* USCCs are checked as everywhere (GB 32100-2015 check digit, :func:`normalise_uscc`), invoice numbers
  by their shape, identifiers compared normalised (``voucher.identifiers``).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Callable

from voucher import tabular
from voucher.calc import invoice_key
from voucher.enterprises.services import normalise_uscc
from voucher.errors import N_, ValidationFailed
from voucher.formulas import starts_with_formula
from voucher.identifiers import invoice_shape_ok, normalise_identifier
from voucher.numbers import NumberError, parse_number

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 60 * 1024 * 1024
MAX_ROWS = 20_000
MAX_AMOUNT = Decimal("999999999999.99")
EARLIEST = date(2000, 1, 1)
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_YES = {"是", "y", "yes", "true", "1", "国产", "domestic"}
_NO = {"否", "n", "no", "false", "0", "进口", "imported"}


@dataclass(frozen=True)
class CellError:
    """One refused cell (or row / file when ``column`` / ``row`` is None); ``message`` a msgid."""

    row: int | None
    column: str | None
    message: str
    params: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message, "params": self.params}


class FileRefused(ValidationFailed):
    """The whole file is refused (nothing saved); ``errors`` names every problem."""

    def __init__(self, errors: list[CellError]) -> None:
        super().__init__(N_("The file is refused: %(count)s problem(s), listed by row and column."),
                         field="file", count=len(errors))
        self.errors = errors


class _Bad(Exception):
    def __init__(self, message: str, **params) -> None:
        self.message, self.params = message, params


# --- cell parsers: text → value, or _Bad ---------------------------------------------------------

def _text(limit: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not text:
            raise _Bad(N_("This cell is empty."))
        if len(text) > limit:
            raise _Bad(N_("At most %(max)s characters."), max=limit)
        return text
    return parse


def _uscc(text: str) -> str:
    try:
        return normalise_uscc(text)
    except ValidationFailed as err:
        raise _Bad(err.message, **err.params) from None


def _money(text: str) -> Decimal:
    try:
        parsed = parse_number(text, places=2, kind="money")
    except NumberError:
        raise _Bad(N_("Enter an amount in yuan with at most two decimals, such as 1200000.00.")) from None
    if parsed is None:
        raise _Bad(N_("This cell is empty."))
    if parsed.value <= 0 or parsed.value > MAX_AMOUNT:
        raise _Bad(N_("The amount must be more than zero and at most %(max)s."), max="999999999999.99")
    return parsed.value


def _rate(text: str) -> Decimal:
    try:
        parsed = parse_number(text, places=2, kind="rate")
    except NumberError:
        raise _Bad(N_("Enter the annual rate in percent with at most two decimals, such as 2.40.")) from None
    if parsed is None:
        raise _Bad(N_("This cell is empty."))
    if parsed.value <= 0 or parsed.value >= 100:
        raise _Bad(N_("The annual rate must be more than 0 and less than 100 (percent)."))
    return parsed.value


def _date(text: str) -> date:
    match = _DATE.match(text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
    except ValueError:
        day = None
    if day is None:
        raise _Bad(N_("Enter a date such as 2026-01-31."))
    if day < EARLIEST:
        raise _Bad(N_("The date cannot be before %(day)s."), day=EARLIEST.isoformat())
    return day


def _optional_date(text: str) -> date | None:
    return _date(text) if text else None


def _yes_no(text: str) -> bool:
    folded = text.strip().lower()
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise _Bad(N_("Enter 是 or 否 (yes or no)."))


def _quantity(text: str) -> int:
    if not text:
        return 1
    if not re.fullmatch(r"\d{1,5}", text) or not (1 <= int(text) <= 10000):
        raise _Bad(N_("Enter the number of robots, from 1 to 10000."))
    return int(text)


def _optional_days(text: str) -> int | None:
    if not text:
        return None
    if not re.fullmatch(r"\d{1,4}", text):
        raise _Bad(N_("Enter the number of interest days as a whole number."))
    return int(text)


def _invoice(text: str) -> str:
    if not text:
        raise _Bad(N_("This cell is empty."))
    if len(text) > 64 or not invoice_shape_ok(text):
        raise _Bad(N_("%(invoice)s is not a VAT invoice number: enter the invoice code (10 or 12 digits) followed "
                      "by the 8-digit invoice number, or the 20-digit number of a fully digital invoice (数电票)."),
                   invoice=text[:64])
    return text


@dataclass(frozen=True)
class Column:
    field: str
    heading: str       # the template's heading (Chinese)
    english: str       # the English heading, also accepted
    parse: Callable[[str], object]
    required: bool = True


KINDS: dict[str, tuple[Column, ...]] = {
    "loan_statement": (
        Column("uscc", "统一社会信用代码", "USCC", _uscc),
        Column("lender", "贷款银行", "Lender", _text(200)),
        Column("contract_no", "合同编号", "Contract number", _text(64)),
        Column("contract_date", "合同日期", "Contract date", _date),
        Column("loan_rate", "年利率(%)", "Annual rate (%)", _rate),
        Column("outstanding_principal", "计息本金", "Outstanding principal", _money),
        Column("period_start", "计息开始日", "Period start", _date),
        Column("period_end", "计息结束日", "Period end", _date),
        Column("days_stated", "计息天数", "Interest days", _optional_days, required=False),
        Column("interest_paid", "已付利息", "Interest paid", _money),
    ),
    "robot_invoice": (
        Column("uscc", "统一社会信用代码", "USCC", _uscc),
        Column("invoice_no", "发票号码", "Invoice number", _invoice),
        Column("model", "机器人型号", "Robot model", _text(120)),
        Column("manufacturer", "生产厂家", "Manufacturer", _text(200)),
        Column("domestic", "国产品牌", "Domestic brand", _yes_no),
        Column("quantity", "数量", "Quantity", _quantity, required=False),
        Column("amount_excl_vat", "不含税金额", "Amount excluding VAT", _money),
        Column("invoice_date", "开票日期", "Invoice date", _date),
    ),
    "blacklist": (
        Column("uscc", "统一社会信用代码", "USCC", _uscc),
        Column("listed_from", "列入日期", "Listed from", _date),
        Column("listed_to", "移出日期", "Listed to", _optional_date, required=False),
        Column("listed_by", "来源", "Source", _text(200)),
    ),
}


def template_csv(kind: str) -> bytes:
    """The template of a kind: its headings and one example row, UTF-8 with a BOM (Excel opens it)."""
    examples = {
        "loan_statement": ["91330300MA2ABCDE14", "温州银行", "WZ-2026-0001", "2025-06-01", "2.40", "8000000.00",
                           "2026-01-01", "2026-04-01", "90", "48000.00"],
        "robot_invoice": ["91330300MA2ABCDE14", "3300261130-00012345", "ER20-1100", "埃夫特", "是", "2", "300000.00",
                          "2026-03-15"],
        "blacklist": ["91330300MA2ABCDE14", "2026-01-01", "", "信用中国"],
    }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.heading for c in KINDS[kind]])
    writer.writerow(examples[kind])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- reading the file -----------------------------------------------------------------------------

def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _read_csv(data: bytes) -> list[tuple[int, list]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused([CellError(None, None, N_("The file is neither UTF-8 nor GB18030 text, nor an Excel .xlsx file."))])
    if "\x00" in text:
        raise FileRefused([CellError(None, None, N_("A control character (such as a NUL byte) is refused."))])
    try:
        return tabular.read_csv_text(text)
    except tabular.TableUnreadable as err:
        raise FileRefused([CellError(err.row, None, err.message, err.params)]) from None


def _read_xlsx(data: bytes) -> tuple[list[tuple[int, list]], set[tuple[int, int]]]:
    try:
        return tabular.read_xlsx(data, max_rows=MAX_ROWS, max_unzipped_bytes=MAX_UNZIPPED_BYTES)
    except tabular.TableUnreadable as err:
        raise FileRefused([CellError(err.row, None, err.message, err.params)]) from None


def _fold(heading: str) -> str:
    return re.sub(r"[\s*:：_（）()%]+", "", heading.lstrip("\ufeff")).lower()


@dataclass
class Parsed:
    rows: list[tuple[int, dict]]          # (row number, field → value)
    errors: list[CellError]


def read_rows(kind: str, data: bytes) -> Parsed:
    """The good rows of the file and every refused cell.  ``FileRefused`` when the file itself is
    unreadable, empty, too large, or misses a required column."""
    columns = KINDS[kind]
    if not data:
        raise FileRefused([CellError(None, None, N_("The file is empty."))])
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused([CellError(None, None, N_("The file is too large: at most %(max)s MB."),
                                     {"max": MAX_FILE_BYTES // (1024 * 1024)})])
    if data.startswith(b"PK\x03\x04"):
        table, formulas = _read_xlsx(data)
    else:
        table, formulas = _read_csv(data), set()
    table = [(n, cells) for n, cells in table if any(_cell_text(c) for c in cells)]
    if not table:
        raise FileRefused([CellError(None, None, N_("The file is empty."))])
    if len(table) - 1 > MAX_ROWS:
        raise FileRefused([CellError(None, None, N_("At most %(max)s rows per file."), {"max": MAX_ROWS})])
    header_row, headers = table[0]
    index: dict[str, int] = {}
    folded = [_fold(_cell_text(h)) for h in headers]
    for col in columns:
        for i, name in enumerate(folded):
            if name in (_fold(col.heading), _fold(col.english)):
                index[col.field] = i
                break
    missing = [CellError(header_row, col.heading, N_("The column %(column)s is missing from the heading row."),
                         {"column": col.heading}) for col in columns if col.required and col.field not in index]
    if missing:
        raise FileRefused(missing)
    rows, errors = [], []
    for n, cells in table[1:]:
        values, bad = {}, []
        for col in columns:
            i = index.get(col.field)
            raw = cells[i] if i is not None and i < len(cells) else None
            text = _cell_text(raw)
            if (n, i) in formulas or text.startswith("=") or (isinstance(raw, str) and starts_with_formula(text)
                                                              and col.parse not in (_money, _rate)):
                bad.append(CellError(n, col.heading, N_("A formula is refused (it is never calculated): enter the "
                                                         "value itself.")))
                continue
            if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text):
                bad.append(CellError(n, col.heading, N_("A control character (such as a NUL byte) is refused.")))
                continue
            try:
                values[col.field] = col.parse(text)
            except _Bad as err:
                bad.append(CellError(n, col.heading, err.message, err.params))
        if not bad:
            bad = _row_rules(kind, n, values)
        if bad:
            errors += bad
        else:
            rows.append((n, values))
    return Parsed(rows, errors)


def _row_rules(kind: str, n: int, v: dict) -> list[CellError]:
    """Rules across the cells of one row."""
    cols = {c.field: c.heading for c in KINDS[kind]}
    if kind == "loan_statement":
        if v["period_end"] <= v["period_start"]:
            return [CellError(n, cols["period_end"], N_("The period end must be after its start (%(start)s)."),
                              {"start": v["period_start"].isoformat()})]
        if v["period_start"] < v["contract_date"]:
            return [CellError(n, cols["period_start"], N_("The period cannot start before the contract date (%(day)s)."),
                              {"day": v["contract_date"].isoformat()})]
        v["contract_key"] = normalise_identifier(v["contract_no"])
        v["days"] = (v["period_end"] - v["period_start"]).days
        stated = v.pop("days_stated", None)
        if stated is not None and stated != v["days"]:
            return [CellError(n, cols["days_stated"], N_("The bank states %(stated)s interest days, but the period "
                                                         "has %(days)s (end date − start date)."),
                              {"stated": stated, "days": v["days"]})]
    elif kind == "robot_invoice":
        unit = v["amount_excl_vat"] / v["quantity"]
        if unit != unit.quantize(Decimal("0.01")):
            return [CellError(n, cols["amount_excl_vat"], N_("The amount divided by the quantity must be a whole "
                                                              "number of fen (the unit price).")),]
        v["invoice_key"] = invoice_key(v["invoice_no"])
    elif kind == "blacklist":
        if v.get("listed_to") is not None and v["listed_to"] < v["listed_from"]:
            return [CellError(n, cols["listed_to"], N_("The end of the listing cannot be before its start (%(day)s)."),
                              {"day": v["listed_from"].isoformat()})]
    return []
