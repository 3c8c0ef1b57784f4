"""Chinese working days (statutory holidays and adjusted working weekends) from the
maintained ``chinese-calendar`` package, or, for a year the bureau entered from the State
Council's notice (:mod:`voucher.workcalendar`), from that entry: the package is released some weeks
after each notice, and a deadline running into the new year must not wait for it.

A year the package does not know raises :class:`CalendarUnknown` rather than silently
counting weekends only: a deadline computed on a guess would be wrong in law.

The package answers one day at a time and slowly (about 50 µs a day), and a queue computes a
deadline per row; so each year is read once into a table of running counts, and a count of
working days between two dates is a subtraction, not a walk through the days.
"""
from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta
from functools import lru_cache
from typing import Callable, Mapping

import chinese_calendar

# A year as the bureau entered it from the State Council's notice: (days off, adjusted working
# days).  Any other weekday is a working day, any other Saturday or Sunday is not.
YearRule = tuple[frozenset[date], frozenset[date]]


class CalendarUnknown(LookupError):
    def __init__(self, day: date) -> None:
        super().__init__(f"The working-day calendar has no data for {day.year}: enter the State Council's "
                         "arrangement on the working-day calendar page, or update the chinesecalendar package.")
        self.day = day


def _no_published_years() -> Mapping[int, YearRule]:
    return {}


_published_years: Callable[[], Mapping[int, YearRule]] = _no_published_years


def use_published_years(provider: Callable[[], Mapping[int, YearRule]]) -> None:
    """Where the years the bureau entered come from (the application reads them from its
    database); such a year takes precedence over the package's data for it."""
    global _published_years
    _published_years = provider


def package_knows(year: int) -> bool:
    try:
        _package_year(year)
    except CalendarUnknown:
        return False
    return True


def _running(year: int, working: Callable[[date], bool]) -> tuple[int, ...]:
    counts = [0]
    day = date(year, 1, 1)
    while day.year == year:
        counts.append(counts[-1] + (1 if working(day) else 0))
        day += timedelta(days=1)
    return tuple(counts)


@lru_cache(maxsize=None)
def _package_year(year: int) -> tuple[int, ...]:
    def working(day: date) -> bool:
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError as exc:
            raise CalendarUnknown(day) from exc

    return _running(year, working)


@lru_cache(maxsize=64)
def _published_year(year: int, rule: YearRule) -> tuple[int, ...]:
    days_off, working_days = rule
    return _running(year, lambda day: day in working_days or (day.weekday() < 5 and day not in days_off))


def _year(year: int) -> tuple[int, ...]:
    """Running counts for ``year``: element ``i`` = working days among the year's first ``i`` days
    (element 0 is 0; the last element is the year's total)."""
    rule = _published_years().get(year)
    return _package_year(year) if rule is None else _published_year(year, rule)


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
    if not days:
        return start
    # From the running counts: the first day whose count reaches start's count + days (a queue
    # gives every shown row a deadline; no walk day by day).
    year = start.year
    counts = _year(year)
    target = counts[start.timetuple().tm_yday] + days
    while target > counts[-1]:
        target -= counts[-1]
        year += 1
        counts = _year(year)
    return date(year, 1, 1) + timedelta(days=bisect_left(counts, target) - 1)


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


def working_days_in(year: int) -> int:
    """The year's number of working days (CalendarUnknown when no source knows the year)."""
    return _year(year)[-1]


def package_days(year: int) -> list[tuple[date, bool, str]]:
    """The package's days for ``year`` that differ from the plain week, as (day, working, English
    holiday name): days off (weekends inside a holiday period included) and worked weekends."""
    off = [(d, False, name) for d, name in chinese_calendar.holidays.items() if d.year == year]
    worked = [(d, True, name) for d, name in chinese_calendar.workdays.items() if d.year == year and d.weekday() >= 5]
    return sorted(off + worked)
