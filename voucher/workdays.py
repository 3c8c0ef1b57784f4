"""Chinese working days (statutory holidays and adjusted working weekends) from the
maintained ``chinese-calendar`` package.

A year the package does not know raises :class:`CalendarUnknown` rather than silently
counting weekends only: a deadline computed on a guess would be wrong in law.
"""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


class CalendarUnknown(LookupError):
    def __init__(self, day: date) -> None:
        super().__init__(f"The working-day calendar has no data for {day.year}; update the chinesecalendar package.")
        self.day = day


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as exc:
        raise CalendarUnknown(day) from exc


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
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
