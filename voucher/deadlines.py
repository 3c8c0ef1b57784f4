"""Review and payment deadlines in Chinese working days, for the queues and dashboards.

A deadline runs from a local date (the submission date, the day a payment became due) for a
number of working days (``REVIEW_DEADLINE_WORKING_DAYS``, ``PAYMENT_DEADLINE_WORKING_DAYS``).
When the working-day calendar does not know a year (:class:`voucher.workdays.CalendarUnknown`),
the deadline is *unknown*: pages show the start date and say so, never guess and never fail.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from voucher.workdays import CalendarUnknown, add_working_days, working_days_between

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_date(value: date | datetime | None) -> date | None:
    """The local (Asia/Shanghai) calendar date of a UTC timestamp; a date is returned as is.

    The one way to date an event on a page or in a document: ``value.date()`` of a UTC timestamp
    is the day before for everything after 16:00 UTC (00:00 in Beijing).  A naive datetime is
    taken as UTC (as the database and ``voucher.db.utcnow`` keep times)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(LOCAL_TZ).date()
    return value


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


@dataclass(frozen=True)
class Deadline:
    """``start`` + ``days`` working days = ``due``; ``remaining`` working days until it (0: due
    today), or ``overdue`` working days past it.  ``unknown_year`` is set when the calendar does
    not cover the dates (then ``due`` and the counts are None)."""

    start: date
    days: int
    due: date | None
    remaining: int | None = None
    overdue: int | None = None
    unknown_year: int | None = None

    @property
    def unknown(self) -> bool:
        return self.unknown_year is not None

    @property
    def is_overdue(self) -> bool:
        return bool(self.overdue)

    @property
    def sort_key(self) -> int:
        """Most urgent first: overdue (largest first), then fewest days remaining; unknown last."""
        if self.unknown:
            return 10**6
        return -self.overdue if self.overdue else self.remaining or 0


def deadline(start: date | datetime, days: int, today: date | None = None) -> Deadline:
    """The deadline ``days`` working days after ``start`` and where ``today`` stands against it."""
    start_day = local_date(start)
    today = today or local_today()
    try:
        due = add_working_days(start_day, days)
        if today <= due:
            return Deadline(start_day, days, due, remaining=working_days_between(today, due), overdue=0)
        # Past the due date: overdue by at least one day even across a weekend.
        return Deadline(start_day, days, due, remaining=0, overdue=max(working_days_between(due, today), 1))
    except CalendarUnknown as exc:
        return Deadline(start_day, days, None, unknown_year=exc.day.year)


def waited(start: date | datetime, today: date | None = None) -> int | None:
    """Working days elapsed since ``start`` (None when the calendar does not know the years)."""
    try:
        return working_days_between(local_date(start), today or local_today())
    except CalendarUnknown:
        return None


def latest_overdue_start(today: date, days: int) -> date | None:
    """The latest start day whose deadline of ``days`` working days is past on ``today``.

    A deadline never moves earlier for a later start, so a list's overdue rows are those started
    on or before this day: one comparison in SQL instead of a deadline per row.  Walks back from
    today (a few weeks at most).  None when no recent day has a known, passed deadline (a year the
    calendar does not know: :func:`deadline` calls those unknown, never overdue)."""
    day = today
    for _ in range(3 * days + 60):
        day = date.fromordinal(day.toordinal() - 1)
        try:
            due = add_working_days(day, days)
            if due < today:
                working_days_between(due, today)  # unknown, as deadline() finds, if today's year is
                return day
        except CalendarUnknown:
            continue
    return None


def review_working_days() -> int:
    """Working days the bureau has to review an application from its submission (the promise the
    programme guide states, and the deadline the queues count)."""
    from flask import current_app

    return int(current_app.config["REVIEW_DEADLINE_WORKING_DAYS"])


def payment_working_days() -> int:
    """Working days the bureau has to pay from the day a payment is payable (the public notice
    over and the item due): the guide's promise and the payment queue's deadline."""
    from flask import current_app

    return int(current_app.config["PAYMENT_DEADLINE_WORKING_DAYS"])


def review_deadline(submitted_at: date | datetime, today: date | None = None) -> Deadline:
    return deadline(submitted_at, review_working_days(), today)


def payment_deadline(due_since: date | datetime, today: date | None = None) -> Deadline:
    return deadline(due_since, payment_working_days(), today)


def deadline_text(d: Deadline | None) -> str:
    """A deadline in words, as a queue's export gives it (the page shows the badge)."""
    from flask_babel import gettext as _

    if d is None:
        return ""
    if d.unknown:
        return _("since %(date)s; deadline not computed (no working-day calendar for %(year)s)",
                 date=d.start.isoformat(), year=d.unknown_year)
    if d.overdue:
        return _("overdue by %(n)s working days (due %(date)s)", n=d.overdue, date=d.due.isoformat())
    return _("due in %(n)s working days (%(date)s)", n=d.remaining, date=d.due.isoformat())
