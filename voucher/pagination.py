"""One page of results for what ``db.paginate`` cannot page (a UNION, rows of several columns, a
list built in Python): the attributes the ``pager`` macro and the API's page shape read."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

# The highest page a list offers (100,000 pages of at most 100 rows: an OFFSET of at most ten
# million, far from what PostgreSQL's bigint or SQLite's INTEGER overflow on).
MAX_PAGE = 100_000
# The largest id the database stores (PostgreSQL ``integer``).
ID_MAX = 2**31 - 1

_ASCII_INT = re.compile(r"[0-9]{1,19}")


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def page_of(items: list, page: int, per_page: int) -> Page:
    """Page ``page`` (from 1; lower counts as 1) of an in-memory list."""
    page = max(page or 1, 1)
    start = (page - 1) * per_page
    return Page(items[start:start + per_page], page, per_page, len(items))


def query_int(name: str, default: int | None = None, *, minimum: int = 1, maximum: int = ID_MAX,
              source=None) -> int | None:
    """The whole number ``?name=`` of the current request, or ``default`` when absent or empty.

    The one rule for integers in a query string (pages, ids in filters, years): ASCII digits only
    (no sign, no ``²`` or full-width digits, which ``str.isdigit``/``int()`` would treat
    inconsistently) within ``[minimum, maximum]``.  Anything else is ignored like any unknown
    filter value (the lists' rule): ``default`` is used — never a database overflow or a 500.  ``source``: another multidict to read (``request.form``, ``request.values``).
    """
    from flask import request

    text = (request.args if source is None else source).get(name, "")
    if text == "":
        return default
    if not _ASCII_INT.fullmatch(text):
        return default
    value = int(text)
    return value if minimum <= value <= maximum else default


def bounded_int(value, *, minimum: int = 1, maximum: int = ID_MAX) -> int | None:
    """``value`` (a form's choice, text or int) as a whole number within ``[minimum, maximum]``, else
    None: ASCII digits only, so a huge or odd value never reaches the database (an overflow 500)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if minimum <= value <= maximum else None
    text = str(value if value is not None else "").strip()
    if not _ASCII_INT.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def page_arg(name: str = "page") -> int:
    """``?page=`` from 1 to :data:`MAX_PAGE`; absent, malformed (``²``, ``-1``) or out of range
    (20 digits) is page 1 (see :func:`query_int`).  A page past the last one is simply empty."""
    return query_int(name, 1, minimum=1, maximum=MAX_PAGE)
