"""What the calendar pages read: each year's source and figures, a year's days, the years missing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voucher.extensions import db
from voucher.workcalendar.models import CalendarYear
from voucher.workdays import CalendarUnknown, package_days, package_knows, working_days_in

# The package names its holidays in English; the pages show them in the reader's language.
PACKAGE_HOLIDAY_NAMES = {
    "New Year's Day": _l("New Year's Day"),
    "Spring Festival": _l("Spring Festival"),
    "Tomb-sweeping Day": _l("Tomb-sweeping Day"),
    "Labour Day": _l("Labour Day"),
    "Dragon Boat Festival": _l("Dragon Boat Festival"),
    "Mid-autumn Festival": _l("Mid-autumn Festival"),
    "National Day": _l("National Day"),
    "Anti-Fascist 70th Day": _l("Victory Day (70th anniversary)"),
}
SOURCES = {"bureau": _l("Entered by the bureau"), "package": _l("chinese-calendar package")}


@dataclass(frozen=True)
class YearRow:
    year: int
    source: str | None  # "bureau", "package" or None (unknown)
    entry: CalendarYear | None
    working_days: int | None
    days_off: int | None  # days off on weekdays (what the arrangement takes from the plain week)
    worked_weekends: int | None


@dataclass(frozen=True)
class DayRow:
    day: date
    working: bool
    name: object


def entry_for(year: int) -> CalendarYear | None:
    return db.session.get(CalendarYear, year)


def source_of(year: int, entry: CalendarYear | None = None) -> str | None:
    if entry is not None or entry_for(year) is not None:
        return "bureau"
    return "package" if package_knows(year) else None


def days_of(year: int) -> tuple[str | None, CalendarYear | None, list[DayRow]]:
    """The year's source, its entry (when entered) and the days that differ from the plain week."""
    entry = entry_for(year)
    if entry is not None:
        return "bureau", entry, [DayRow(d.day, d.working, d.name) for d in entry.days]
    if package_knows(year):
        return "package", None, [DayRow(d, w, PACKAGE_HOLIDAY_NAMES.get(n, n)) for d, w, n in package_days(year)]
    return None, None, []


def year_row(year: int, known: tuple | None = None) -> YearRow:
    """The year's figures; ``known`` is :func:`days_of`'s answer when the caller already has it."""
    source, entry, days = known or days_of(year)
    try:
        working = working_days_in(year)
    except CalendarUnknown:
        working = None
    if source is None:
        return YearRow(year, None, None, None, None, None)
    return YearRow(year, source, entry, working, sum(1 for d in days if not d.working and d.day.weekday() < 5),
                   sum(1 for d in days if d.working))


def overview(today: date) -> list[YearRow]:
    """Last year, this year, next year and every entered year, the latest first."""
    years = {today.year - 1, today.year, today.year + 1}
    years |= set(db.session.scalars(select(CalendarYear.year)))
    return [year_row(y) for y in sorted(years, reverse=True)]


def missing_years(today: date) -> list[int]:
    """Years deadlines will soon need but no source knows: this year, and from November next year."""
    wanted = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return [y for y in wanted if source_of(y) is None]
