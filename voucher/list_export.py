"""Exports of list pages: ``?format=csv`` or ``?format=xlsx`` on the list's own endpoint gives
the rows the page shows — the same query with the same filters — from every page, up to
``EXPORT_LIMIT`` rows (the file then says it was cut).

A view calls :func:`requested_format` first; when it answers a format the view reads its query
with ``page=1, per_page=EXPORT_LIMIT`` and returns :func:`send` with the headers (translated) and
the rows (plain values: text, Decimal amounts, dates).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from flask import abort, request
from flask_babel import gettext as _

from voucher.exports import export_response

EXPORT_LIMIT = 50_000
FORMATS = ("csv", "xlsx")


def requested_format() -> str | None:
    """``csv`` / ``xlsx`` when the request asks for an export, None for the page; 400 for another."""
    fmt = request.args.get("format")
    if fmt is None or fmt == "":
        return None
    if fmt not in FORMATS:
        abort(400)
    return fmt


def send(fmt: str, name: str, headers: Sequence[str], rows: Iterable[Sequence], total: int | None = None):
    """The file, named ``<name>-<local date and time>.<ext>``; a last row says when rows were cut."""
    from voucher.deadlines import LOCAL_TZ

    rows = list(rows)
    if total is not None and total > len(rows):
        rows.append([_("Only the first %(shown)s of %(total)s rows are exported; narrow the filters.",
                       shown=len(rows), total=total)] + [""] * (len(headers) - 1))
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return export_response(fmt, f"{name}-{stamp}", [str(h) for h in headers], rows)


def local_time(value) -> str:
    """A UTC timestamp as local ``YYYY-MM-DD HH:MM`` (what the pages show)."""
    from voucher.ui import dt

    return dt(value) if value is not None else ""
