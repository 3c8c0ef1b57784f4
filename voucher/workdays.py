"""Chinese working days (statutory holidays and adjusted working weekends) from the
maintained ``chinese-calendar`` package.

A year the package does not know raises :class:`CalendarUnknown` rather than silently
counting weekends only: a deadline computed on a guess would be wrong in law.

The package answers one day at a time and slowly (about 50 µs a day), and a queue computes a
deadline per row; so each year is read once into a table of running counts, and a count of
working days between two dates is a subtraction, not a walk through the days.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


class CalendarUnknown(LookupError):
    def __init__(self, day: date) -> None:
        super().__init__(f"The working-day calendar has no data for {day.year}; update the chinesecalendar package.")
        self.day = day


@lru_cache(maxsize=None)
def _year(year: int) -> tuple[int, ...]:
    """Running counts for ``year``: element ``i`` = working days among the year's first ``i`` days
    (element 0 is 0; the last element is the year's total)."""
    counts = [0]
    day = date(year, 1, 1)
    while day.year == year:
        try:
            working = chinese_calendar.is_workday(day)
        except NotImplementedError as exc:
            raise CalendarUnknown(day) from exc
        counts.append(counts[-1] + (1 if working else 0))
        day += timedelta(days=1)
    return tuple(counts)


def _through(day: date) -> int:
    """Working days of ``day``'s year up to and including ``day``."""
    return _year(day.year)[day.timetuple().tm_yday]


def is_working_day(day: date) -> bool:
    counts = _year(day.year)
    n = day.timetuple().tm_yday
    return counts[n] > counts[n - 1]


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    if end <= start:
        return 0
    if start.year == end.year:
        return _through(end) - _through(start)
    count = _year(start.year)[-1] - _through(start)
    for year in range(start.year + 1, end.year):
        count += _year(year)[-1]
    return count + _through(end)
