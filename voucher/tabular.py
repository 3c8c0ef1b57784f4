"""Reading an uploaded table (CSV text or an Excel .xlsx file) into numbered rows, safely.

Shared by the imports that take a file from a user (the bank statement of a payment batch, the bureau's
data sources for benefits without applying): the row numbers are the file's (header = 1); an Excel
file is checked for its unpacked size before openpyxl opens it, read without evaluating anything, and
a formula cell (or a value that is not plain data) is returned as a position for the caller to refuse,
never calculated.  A problem raises :class:`TableUnreadable`, which each import turns into its own
refusal (its message is a msgid, translated where it is shown)."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

from voucher.errors import N_

Table = list[tuple[int, list]]


class TableUnreadable(Exception):
    """The file cannot be read as a table: ``message`` (a msgid with ``params``), ``row`` if one row is at fault."""

    def __init__(self, message: str, params: dict | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.message, self.params, self.row = message, params or {}, row


def read_csv_text(text: str) -> Table:
    """Decoded CSV text → [(row number, cells)]."""
    try:
        return list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))
    except csv.Error:
        raise TableUnreadable(N_("The CSV file cannot be read.")) from None


def read_xlsx(data: bytes, *, max_rows: int, max_unzipped_bytes: int, spare_rows: int = 1) -> tuple[Table, set]:
    """The first sheet → ([(row number, cells)], {(row, column index) of formula cells}); more than
    ``max_rows + spare_rows`` rows is refused while reading (a header and some trailing rows are spare)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > max_unzipped_bytes:
                raise TableUnreadable(N_("The file is too large once unpacked."))
    except zipfile.BadZipFile:
        raise TableUnreadable(N_("This is not an Excel .xlsx file.")) from None
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise TableUnreadable(N_("This is not an Excel .xlsx file.")) from None
    table, formulas = [], set()
    try:
        if not book.worksheets:
            raise TableUnreadable(N_("The file is empty."))
        for n, row in enumerate(book.worksheets[0].iter_rows(), start=1):
            cells = []
            for i, cell in enumerate(row):
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" or not isinstance(
                        value, (str, int, float, Decimal, date, datetime, type(None))):
                    formulas.add((n, i))
                    value = "=" + str(value).lstrip("=")
                cells.append(value)
            table.append((n, cells))
            if n > max_rows + spare_rows:
                raise TableUnreadable(N_("At most %(max)s rows per file."), {"max": max_rows})
    except TableUnreadable:
        raise
    except Exception:  # a damaged cell (a number such as "NaN" or "4E4x") fails only while the rows are read
        raise TableUnreadable(N_("This row of the Excel file cannot be read."), row=len(table) + 1) from None
    finally:
        book.close()
    return table, formulas
