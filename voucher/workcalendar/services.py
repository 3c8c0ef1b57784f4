"""Entering a year's working-day arrangement, and handing the entered years to
:mod:`voucher.workdays`.

Deadlines computed from the calendar on every page (review and payment deadlines) follow an
entry at once; dates already fixed from it (the end of a published notice) are kept.
"""
from __future__ import annotations

from datetime import date
from typing import Mapping, Sequence

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.db import utcnow
from voucher.deadlines import local_today
from voucher.errors import Conflict, ValidationFailed
from voucher.extensions import db
from voucher.workcalendar.models import FIRST_YEAR, LAST_YEAR, CalendarDay, CalendarYear
from voucher.workdays import YearRule

NAME_MAX = 60
REFERENCE_MAX = 200
_CACHE = "_voucher_published_years"

# A dated line of the arrangement: the day and the holiday's name ("" when none was given).
DayEntry = tuple[date, str]


def enterable_years(today: date | None = None) -> tuple[int, int]:
    """The years an officer may enter: last year to next year (the State Council publishes the
    coming year's arrangement towards the end of the current one)."""
    year = (today or local_today()).year
    return max(year - 1, FIRST_YEAR), min(year + 1, LAST_YEAR)


def _check_days(field: str, entries: Sequence[DayEntry], year: int, *, weekend_only: bool) -> None:
    seen: set[date] = set()
    for day, name in entries:
        if day.year != year:
            raise ValidationFailed("%(day)s is not in %(year)s: every day of this arrangement must be in %(year)s.",
                                   field=field, day=day.isoformat(), year=year)
        if day in seen:
            raise ValidationFailed("%(day)s is listed twice.", field=field, day=day.isoformat())
        seen.add(day)
        if weekend_only and day.weekday() < 5:
            raise ValidationFailed("%(day)s is a weekday: an adjusted working day is a Saturday or Sunday that is "
                                   "worked.", field=field, day=day.isoformat())
        if len(name) > NAME_MAX:
            raise ValidationFailed("The name given for %(day)s is longer than %(max)s characters.",
                                   field=field, day=day.isoformat(), max=NAME_MAX)


def _snapshot(entry: CalendarYear | None) -> dict | None:
    if entry is None:
        return None
    return {"reference": entry.reference, "revision": entry.revision,
            "days_off": [[d.day.isoformat(), d.name] for d in entry.days if not d.working],
            "working_days": [[d.day.isoformat(), d.name] for d in entry.days if d.working]}


def enter_year(actor: Actor, year: int, days_off: Sequence[DayEntry], working_days: Sequence[DayEntry],
               reference: str, today: date | None = None) -> CalendarYear:
    """Record a year's arrangement (days off and adjusted working weekends) from the State
    Council's notice.

    Rule: programme officers only; last year to next year; the notice's reference is required
    (at most 200 characters); at least one day off; every day in that year and listed once; an
    adjusted working day is a Saturday or Sunday and not also a day off; names at most 60
    characters.  An entry replaces the year's earlier one (revision + 1) and, for counting, the
    package's data for that year; the audit event holds the version before and after.
    """
    require(actor, "workcalendar.enter")
    first, last = enterable_years(today)
    if not isinstance(year, int) or not first <= year <= last:
        raise ValidationFailed("Enter a year from %(first)s to %(last)s.", field="year", first=first, last=last)
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed("Enter the reference of the State Council's notice the arrangement is taken from.",
                               field="reference")
    if len(reference) > REFERENCE_MAX:
        raise ValidationFailed("The reference is longer than %(max)s characters.", field="reference",
                               max=REFERENCE_MAX)
    days_off = [(d, (n or "").strip()) for d, n in days_off]
    working_days = [(d, (n or "").strip()) for d, n in working_days]
    if not days_off:
        raise ValidationFailed("List the days off of %(year)s: at least New Year's Day.", field="days_off",
                               year=year)
    _check_days("days_off", days_off, year, weekend_only=False)
    _check_days("working_days", working_days, year, weekend_only=True)
    both = sorted({d for d, _n in days_off} & {d for d, _n in working_days})
    if both:
        raise ValidationFailed("%(day)s is listed both as a day off and as a working day.", field="working_days",
                               day=both[0].isoformat())

    entry = db.session.execute(select(CalendarYear).where(CalendarYear.year == year)
                               .with_for_update()).scalar_one_or_none()
    before = _snapshot(entry)
    if entry is None:
        entry = CalendarYear(year=year, revision=1, reference=reference, entered_by=actor.user_id)
        try:
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
        except IntegrityError:
            raise Conflict("Another officer entered %(year)s at the same moment; reload the page to see it.",
                           year=year) from None
    else:
        entry.revision += 1
        entry.days.clear()
        db.session.flush()  # the old days go before the new ones (same primary keys)
    entry.reference = reference
    entry.entered_by = actor.user_id
    entry.entered_at = utcnow()
    entry.days.extend([CalendarDay(day=d, working=False, name=n) for d, n in sorted(days_off)] +
                      [CalendarDay(day=d, working=True, name=n) for d, n in sorted(working_days)])
    db.session.flush()
    forget_published_years()
    record_event(actor, "calendar_year.entered", "calendar_year", year, before=before, after=_snapshot(entry))
    return entry


# --- the years voucher.workdays counts with ---------------------------------------------------

def published_years() -> Mapping[int, YearRule]:
    """Every entered year as ``voucher.workdays`` wants it, read once per request or job (so every
    web and worker process counts with the latest entry)."""
    if not has_app_context():
        return {}
    cached = g.get(_CACHE)
    if cached is None:
        off: dict[int, set[date]] = {}
        worked: dict[int, set[date]] = {}
        for year, day, working in db.session.execute(select(CalendarDay.year, CalendarDay.day, CalendarDay.working)):
            (worked if working else off).setdefault(year, set()).add(day)
        cached = {y: (frozenset(off.get(y, ())), frozenset(worked.get(y, ()))) for y in set(off) | set(worked)}
        setattr(g, _CACHE, cached)
    return cached


def forget_published_years() -> None:
    if has_app_context():
        g.pop(_CACHE, None)
