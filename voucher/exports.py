"""Exports of list pages: the same rows the page shows (with its filters), as CSV or Excel."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Sequence

from flask import Response
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from voucher.formulas import neutralise_text

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as a number; CSV via str() keeps two places
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None:
        return ""
    return str(value) if not isinstance(value, (int, float)) else value


def _csv_cell(value):
    """Numbers (a negative amount included) stay numbers; text is neutralised (``voucher.formulas``)."""
    value = _cell(value)
    return neutralise_text(value) if isinstance(value, str) else value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a byte-order mark so Excel on Windows opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _append_text_safe(ws, values: Sequence) -> None:
    """One row; every text cell typed as a string, so ``=...`` is shown, never evaluated
    (``ws.append`` would store it as a formula).  Numbers stay numbers."""
    ws.append([None if isinstance(v, str) else v for v in values])
    row = ws.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            cell = ws.cell(row=row, column=column)
            cell.value = value
            cell.data_type = "s"


append_text_safe = _append_text_safe  # for workbooks of several sheets built elsewhere (voucher/parks/workbook.py)


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence], sheet_title: str = "export") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title[:31]
    _append_text_safe(ws, [str(h) for h in headers])
    widths = [len(str(h)) for h in headers]
    for row in rows:
        values = [_cell(v) for v in row]
        _append_text_safe(ws, values)
        widths = [max(w, len(str(v))) for w, v in zip(widths, values)]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 8), 60)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_response(fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """``fmt`` is "csv" or "xlsx"; anything else is the caller's 400."""
    if fmt == "xlsx":
        body, mimetype, ext = xlsx_bytes(headers, rows), XLSX_TYPE, "xlsx"
    else:
        body, mimetype, ext = csv_bytes(headers, rows), "text/csv; charset=utf-8", "csv"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{ext}"'
    return response
