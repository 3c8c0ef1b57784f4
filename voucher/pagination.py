"""One page of results for what ``db.paginate`` cannot page (a UNION, rows of several columns, a
list built in Python): the attributes the ``pager`` macro and the API's page shape read."""
from __future__ import annotations

import math
from dataclasses import dataclass


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
