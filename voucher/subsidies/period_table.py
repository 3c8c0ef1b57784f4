"""Interest periods taken as a table: text pasted from Excel/WPS, or an uploaded .xlsx file.

Rules:

* columns by their heading (Chinese or English, e.g. ``计息期开始日`` / ``起息日`` / ``Period start``,
  ``贷款余额`` / ``本金`` / ``Outstanding principal``); without a heading row, four columns in the
  order start, end, outstanding principal, interest paid;
* pasted text is split on tabs when it has any (Excel, WPS), otherwise on commas (CSV quoting
  respected, so ``"1,200,000.00"`` is one cell);
* dates as ``2026-01-01``, ``2026/1/1``, ``2026.1.1``, ``2026年1月1日``, ``20260101`` or an Excel date
  cell; amounts as :mod:`voucher.numbers` reads them (``3500万``, ``1,200,000.00``, full-width digits);
* a formula (an Excel formula cell, or text starting with ``=``) is refused and never evaluated:
  the file is read without calculating anything and only the formula text is seen;
* at most :data:`MAX_ROWS` rows, :data:`MAX_TEXT` characters of text, :data:`MAX_FILE_BYTES` bytes
  of file (and :data:`MAX_UNZIPPED_BYTES` once unpacked);
* every bad cell is reported, named by its row (the sheet's or the text's line number) and its
  column, all at once; a table with any bad cell yields no rows.

Nothing is saved here: the rows go into the form, the person checks them, then saves.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from voucher.errors import N_
from voucher.numbers import NumberError, parse_number

MAX_ROWS = 60  # the application's limit of interest periods
MAX_TEXT = 20_000
MAX_FILE_BYTES = 1024 * 1024
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
MAX_AMOUNT = Decimal("999999999999.99")

COLUMNS = ("start", "end", "outstanding_principal", "interest_paid")
# Headings people write, folded (lower case, no spaces, no unit in brackets, no "*").
HEADINGS = {
    "start": {"计息期开始日", "开始日期", "开始日", "起始日期", "起始日", "起息日", "起息日期", "计息开始日", "计息开始日期",
              "计息起始日", "计息起始日期", "开始", "起始", "periodstart", "start", "startdate", "from"},
    "end": {"计息期结束日", "结束日期", "结束日", "截止日期", "截止日", "止息日", "止息日期", "计息结束日", "计息结束日期",
            "计息截止日", "计息截止日期", "结束", "截止", "periodend", "end", "enddate", "to"},
    "outstanding_principal": {"贷款余额", "本金余额", "未还本金", "剩余本金", "计息本金", "本金", "贷款本金", "outstandingprincipal",
                              "principal", "principaloutstanding", "balance", "outstanding"},
    "interest_paid": {"已付利息", "实付利息", "支付利息", "已支付利息", "实际支付利息", "利息", "interestpaid", "interest",
                      "paidinterest"},
}
_FOLD_DIGITS = {ord("０") + i: ord("0") + i for i in range(10)}
_UNIT = re.compile(r"[（(][^）)]*[）)]")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass(frozen=True)
class CellError:
    """One refused cell: ``row`` as the person sees it (sheet row or text line), ``column`` a key of
    :data:`COLUMNS` (or None for the whole row / table), ``message`` a msgid with ``params``."""

    row: int | None
    column: str | None
    message: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PeriodRowValues:
    line: int
    start: date
    end: date
    outstanding_principal: Decimal
    interest_paid: Decimal


@dataclass
class ParsedTable:
    rows: list[PeriodRowValues] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _fold_heading(value) -> str:
    text = str(value or "").translate(_FOLD_DIGITS)
    text = _UNIT.sub("", text)
    return re.sub(r"[\s*:：_\-]+", "", text).lower()


def _heading_map(cells: list) -> dict[str, int] | None:
    """Column key → index when ``cells`` is a heading row (any cell is a known heading), else None."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        folded = _fold_heading(cell)
        for key, names in HEADINGS.items():
            if folded in names and key not in found:
                found[key] = i
                break
    return found or None


def _is_formula(value) -> bool:
    return isinstance(value, str) and value.lstrip().startswith("=")


def _date(value, line: int, column: str, errors: list[CellError]) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip().translate(_FOLD_DIGITS).replace("．", ".").replace("／", "/").replace("－", "-")
        match = _DATE.match(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
        except ValueError:
            day = None
        if day is None:
            errors.append(CellError(line, column, N_("Enter a date as YYYY-MM-DD (2026-03-31, 2026/3/31 or "
                                                     "2026年3月31日 are read too).")))
            return None
    if not date(1990, 1, 1) <= day <= date(2100, 12, 31):
        errors.append(CellError(line, column, N_("Enter a date between 1990 and 2100.")))
        return None
    return day


def _amount(value, line: int, column: str, errors: list[CellError]) -> Decimal | None:
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        value = format(Decimal(repr(value)), "f")
    elif isinstance(value, Decimal):
        value = format(value, "f")
    try:
        parsed = parse_number(str(value), places=2, kind="money")
    except NumberError as err:
        if err.code == "decimals":
            errors.append(CellError(line, column, N_("Enter the amount in yuan with at most two decimals.")))
        else:
            errors.append(CellError(line, column, N_("Enter an amount in yuan, such as 1,200,000.00 or 3500万.")))
        return None
    if parsed is None:  # pragma: no cover - blank cells are caught before
        return None
    if parsed.value < 0:
        errors.append(CellError(line, column, N_("The amount cannot be negative.")))
        return None
    if parsed.value > MAX_AMOUNT:
        errors.append(CellError(line, column, N_("The amount can be at most %(max)s."), {"max": "999,999,999,999.99"}))
        return None
    return parsed.value


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_rows(table: list[tuple[int, list]]) -> ParsedTable:
    """Rows of cells (with the line number the person sees) → checked interest periods."""
    out = ParsedTable()
    table = [(line, cells) for line, cells in table if not all(_blank(c) for c in cells)]
    if not table:
        out.errors.append(CellError(None, None, N_("The table is empty: paste or upload at least one interest period.")))
        return out
    mapping = _heading_map(table[0][1])
    headed = mapping is not None
    if headed:
        heading_line = table[0][0]
        missing = [key for key in COLUMNS if key not in mapping]
        for key in missing:
            out.errors.append(CellError(heading_line, key, N_("This column is missing from the headings.")))
        if missing:
            return out
        table = table[1:]
    else:
        mapping = {key: i for i, key in enumerate(COLUMNS)}
    if not table:
        out.errors.append(CellError(None, None, N_("The table has headings but no rows.")))
        return out
    if len(table) > MAX_ROWS:
        out.errors.append(CellError(None, None, N_("At most %(max)s interest periods per table; this one has %(n)s."),
                                    {"max": MAX_ROWS, "n": len(table)}))
        return out
    positional = set(mapping.values())
    for line, cells in table:
        if not headed and any(
                not _blank(c) for i, c in enumerate(cells) if i not in positional):
            out.errors.append(CellError(line, None, N_("More than four cells: without headings the columns are "
                                                       "period start, period end, outstanding principal, interest paid.")))
            continue
        values = {}
        for key in COLUMNS:
            i = mapping[key]
            value = cells[i] if i < len(cells) else None
            if _blank(value):
                out.errors.append(CellError(line, key, N_("This cell is empty.")))
                continue
            if _is_formula(value):
                out.errors.append(CellError(line, key, N_("A formula is not accepted: enter the value itself.")))
                continue
            values[key] = (_date if key in ("start", "end") else _amount)(value, line, key, out.errors)
        if all(values.get(k) is not None for k in COLUMNS):
            if values["end"] <= values["start"]:
                out.errors.append(CellError(line, "end", N_("The period must end after it starts.")))
                continue
            out.rows.append(PeriodRowValues(line, values["start"], values["end"], values["outstanding_principal"],
                                            values["interest_paid"]))
    if out.errors:
        out.rows = []
    return out


def parse_text(text: str | None) -> ParsedTable:
    """Text pasted from a spreadsheet (tab-separated) or a CSV file's text (comma-separated)."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if len(text) > MAX_TEXT:
        return ParsedTable(errors=[CellError(None, None, N_("The pasted text is too long: at most %(max)s characters."),
                                             {"max": f"{MAX_TEXT:,}"})])
    if "\x00" in text:  # PostgreSQL text cannot hold one; named like the other tables' imports
        return _refused(N_("A control character (such as a NUL byte) is refused."))
    delimiter = "\t" if "\t" in text else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        table = [(n, [c.strip() for c in cells]) for n, cells in enumerate(reader, start=1)]
    except csv.Error:
        return ParsedTable(errors=[CellError(None, None, N_("The pasted text could not be read as a table."))])
    return parse_rows(table)


def _refused(message: str, **params) -> ParsedTable:
    return ParsedTable(errors=[CellError(None, None, message, params)])


def parse_xlsx(stream, max_bytes: int = MAX_FILE_BYTES) -> ParsedTable:
    """The first sheet of an .xlsx file; formulas are read as their text and refused, never calculated."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        return _refused(N_("The file is too large: at most %(max)s KB."), max=max_bytes // 1024)
    if not data:
        return _refused(N_("The file is empty."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNZIPPED_BYTES:
                return _refused(N_("The file is too large once unpacked."))
    except zipfile.BadZipFile:
        return _refused(N_("This is not an Excel .xlsx file (an old .xls file: save it as .xlsx first)."))
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula cell holds its formula text; nothing is ever evaluated.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        return _refused(N_("This is not an Excel .xlsx file (an old .xls file: save it as .xlsx first)."))
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return _refused(N_("The file has no sheet."))
        table = []
        errors = []
        for n, row in enumerate(sheet.iter_rows(), start=1):
            cells = []
            for cell in row:
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or not isinstance(
                        value, (str, int, float, Decimal, date, datetime, type(None))):
                    value = "=" + str(value).lstrip("=")  # a formula (or array formula): refused as such
                cells.append(value)
            table.append((n, cells))
            if sum(1 for _n, c in table if not all(_blank(x) for x in c)) > MAX_ROWS + 1:
                errors.append(CellError(None, None, N_("At most %(max)s interest periods per table; this one has "
                                                       "more."), {"max": MAX_ROWS}))
                return ParsedTable(errors=errors)
    finally:
        book.close()
    return parse_rows(table)


def template_xlsx(headings: dict[str, str], notes: list[str]) -> bytes:
    """The downloadable template: one heading row (in the reader's language), formatted columns, notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "periods"
    sheet.append([headings[key] for key in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width, fmt in (("A", 18, "yyyy-mm-dd"), ("B", 18, "yyyy-mm-dd"), ("C", 22, "#,##0.00"),
                               ("D", 20, "#,##0.00")):
        sheet.column_dimensions[letter].width = width
        for row in range(2, MAX_ROWS + 2):
            sheet[f"{letter}{row}"].number_format = fmt
    sheet.freeze_panes = "A2"
    about = book.create_sheet("notes")
    for line in notes:
        about.append([line])
    about.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
