"""One page of results for what ``db.paginate`` cannot page (a UNION, rows of several columns, a
list built in Python): the attributes the ``pager`` macro and the API's page shape read."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from voucher.errors import N_, DomainError

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


# --- keyset ("seek") pagination ----------------------------------------------------------------
# A deep OFFSET page makes the database read and drop every row before it, and COUNT(*) reads them
# all; a cursor carries the sort key of the last (or first) row shown, so a page is an index seek
# however deep it is, and rows inserted meanwhile neither repeat nor skip a row.

# Counting stops here: above it a list says "more than N" (an exact count of 100,000 rows on every
# page view is what made the deep pages slow).
COUNT_CAP = 10_000
_CURSOR_SALT = "keyset-cursor"


class CursorError(DomainError):
    """A ``cursor`` that this server did not issue for this list (edited, truncated, foreign): 400."""

    status = 400
    code = "bad_cursor"


BAD_CURSOR = N_("The page link (cursor) is not valid for this list: it was altered or belongs to another "
                "list. Start again from the first page.")


def _signer():
    from flask import current_app
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_CURSOR_SALT)


def _dump(value):
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, bool) or value is None:
        raise TypeError(f"keyset value {value!r} cannot be a cursor")
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    return ["s", str(value)]


def _load(pair):
    from datetime import date, datetime
    from decimal import Decimal, InvalidOperation

    tag, text = pair
    if tag == "i" and isinstance(text, int) and not isinstance(text, bool):
        return text
    if tag == "n" and isinstance(text, str):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(text) from None
        if not number.is_finite():
            raise ValueError(text)
        return number
    if tag == "t" and isinstance(text, str):
        return datetime.fromisoformat(text)
    if tag == "d" and isinstance(text, str):
        return date.fromisoformat(text)
    if tag == "s" and isinstance(text, str):
        return text
    raise ValueError(tag)


def encode_cursor(list_name: str, direction: str, values) -> str:
    """A signed, URL-safe cursor: the list it belongs to, ``next``/``prev`` and the row's sort key."""
    return _signer().dumps([list_name, direction, [_dump(v) for v in values]])


def decode_cursor(list_name: str, text: str, n_keys: int) -> tuple[str, list]:
    """``(direction, key values)`` of a cursor issued by :func:`encode_cursor` for ``list_name``.

    Raises :class:`CursorError` for anything else (a bad signature, another list's cursor, a wrong
    number or type of keys), which the views turn into a 400 — never a 500."""
    from itsdangerous import BadData

    try:
        name, direction, raw = _signer().loads(text)
        if name != list_name or direction not in ("next", "prev") or len(raw) != n_keys:
            raise ValueError("shape")
        return direction, [_load(pair) for pair in raw]
    except (BadData, ValueError, TypeError, KeyError):
        raise CursorError(BAD_CURSOR, field="cursor") from None


@dataclass
class KeysetPage:
    """One page found by seeking.  ``total`` is exact up to :data:`COUNT_CAP`, else ``total_capped``."""

    items: list
    per_page: int
    total: int
    total_capped: bool
    next_cursor: str | None
    prev_cursor: str | None
    page: int = 0  # 1 on the first page (no cursor), else 0: a seek has no page number

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


def capped_count(stmt, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """``(rows, capped)``: counts at most ``cap + 1`` rows of ``stmt`` (its ORDER BY dropped)."""
    from sqlalchemy import func, select

    from voucher.extensions import db

    inner = stmt.order_by(None).limit(cap + 1).subquery()
    n = db.session.execute(select(func.count()).select_from(inner)).scalar_one()
    return (cap, True) if n > cap else (n, False)


def keyset_paginate(stmt, keys, *, list_name: str, cursor: str | None, per_page: int,
                    descending: bool = True, scalars: bool = True, count_cap: int = COUNT_CAP,
                    count_stmt=None, values_of=None) -> KeysetPage:
    """Page of ``stmt`` (a SELECT with its filters, without ORDER BY) sorted by ``keys`` — columns
    whose tuple is unique (end with the primary key), all descending or all ascending — after the
    row named by ``cursor`` (or the first page when None).  An index on ``keys`` (filters first)
    serves it at any depth.  ``scalars``: items are entities (else Row objects with the keys as
    attributes of the same name).  ``count_stmt``: what the total counts (default ``stmt``; a
    SELECT without the joins that only load related rows is cheaper).  Raises :class:`CursorError`
    for a cursor not issued here."""
    from sqlalchemy import bindparam, tuple_

    from voucher.extensions import db

    keys = list(keys)
    direction, values = ("next", None)
    if cursor:
        direction, values = decode_cursor(list_name, cursor, len(keys))
    backwards = direction == "prev"
    # Reading backwards flips the order; the page is reversed again below.
    desc = descending != backwards
    page_stmt = stmt
    if values is not None:
        # Each bound value typed as its column (a Decimal or a datetime bound as the column stores it).
        row = tuple_(*keys)
        bound = tuple_(*[bindparam(None, v, type_=k.type) for k, v in zip(keys, values, strict=True)])
        page_stmt = page_stmt.where(row < bound if desc else row > bound)
    page_stmt = page_stmt.order_by(*[k.desc() if desc else k.asc() for k in keys]).limit(per_page + 1)
    result = db.session.execute(page_stmt)
    rows = list(result.scalars() if scalars else result)
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()

    def key_of(item):
        return list(values_of(item)) if values_of else [getattr(item, k.key) for k in keys]

    has_after = more if not backwards else True
    has_before = (values is not None) if not backwards else more
    next_cursor = encode_cursor(list_name, "next", key_of(rows[-1])) if rows and has_after else None
    prev_cursor = encode_cursor(list_name, "prev", key_of(rows[0])) if rows and has_before else None
    total, capped = capped_count(stmt if count_stmt is None else count_stmt, count_cap)
    return KeysetPage(rows, per_page, total, capped, next_cursor, prev_cursor, 0 if cursor else 1)


def seek_or_offset(stmt, keys, *, list_name: str, cursor: str | None, page: int, per_page: int,
                   descending: bool = True, count_stmt=None, seek: bool = True, values_of=None):
    """A list that pages by cursor and still answers the API's ``?page=``: with a ``cursor`` (or on
    page 1) a :class:`KeysetPage`; a later ``page`` by OFFSET in the same order (a Flask-SQLAlchemy
    pagination, exact total) that also carries ``next_cursor``/``prev_cursor``, so a client can
    switch to the cursor.  The web pages pass ``page=1``: they only seek.  ``seek=False``: always by
    OFFSET with an exact total (the CSV/XLSX exports, which read one large first page).  ``stmt``
    selects entities."""
    from sqlalchemy import func, select

    from voucher.extensions import db

    keys = list(keys)
    if seek and (cursor or (page or 1) <= 1):
        return keyset_paginate(stmt, keys, list_name=list_name, cursor=cursor, per_page=per_page,
                               descending=descending, count_stmt=count_stmt, values_of=values_of)
    order = [k.desc() if descending else k.asc() for k in keys]
    result = db.paginate(stmt.order_by(*order), page=page, per_page=per_page, error_out=False, count=False)
    counted = stmt if count_stmt is None else count_stmt
    result.total = db.session.scalar(select(func.count()).select_from(counted.order_by(None).subquery())) or 0

    def key_of(item):
        return list(values_of(item)) if values_of else [getattr(item, k.key) for k in keys]

    result.next_cursor = (encode_cursor(list_name, "next", key_of(result.items[-1]))
                          if result.items and result.has_next else None)
    result.prev_cursor = (encode_cursor(list_name, "prev", key_of(result.items[0]))
                          if result.items and result.page > 1 else None)
    result.total_capped = False
    return result


def cursor_arg() -> str | None:
    """``?cursor=`` of the current request (a web list's keyset page), or None on the first page."""
    from flask import request

    return request.args.get("cursor") or None
