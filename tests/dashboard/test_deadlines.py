"""Review and payment deadlines in Chinese working days, shown on the queues; an unknown calendar
year shows the start date and a note, never a server error."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import time_machine

from voucher.deadlines import deadline, local_date, review_deadline, waited
from voucher.workdays import CalendarUnknown

NOV_20 = datetime.fromisoformat("2026-11-20 10:00+08:00")


def test_a_deadline_skips_the_national_day_holiday_and_counts_the_adjusted_saturday():
    # Submitted Mon 28 Sep 2026: 5 working days are 29, 30 Sep, 8, 9 Oct and Saturday 10 Oct (adjusted).
    d = deadline(date(2026, 9, 28), 5, today=date(2026, 9, 30))
    assert d.due == date(2026, 10, 10)
    assert (d.remaining, d.overdue) == (3, 0)  # 8, 9 and 10 Oct still to come
    on_due = deadline(date(2026, 9, 28), 5, today=date(2026, 10, 10))
    assert (on_due.remaining, on_due.overdue) == (0, 0)
    late = deadline(date(2026, 9, 28), 5, today=date(2026, 10, 14))
    assert (late.remaining, late.overdue) == (0, 3)  # Mon 12, Tue 13 and Wed 14 Oct
    assert late.is_overdue


def test_past_the_due_day_over_a_weekend_is_still_overdue():
    d = deadline(date(2026, 11, 13), 5, today=date(2026, 11, 21))  # due Fri 20 Nov, today Saturday
    assert d.due == date(2026, 11, 20) and d.overdue == 1


def test_the_review_deadline_uses_the_configured_working_days_from_the_local_submission_date(app):
    # 16:30 UTC on 15 Nov is 00:30 on 16 Nov in Wenzhou: the deadline runs from the local date.
    submitted = datetime.fromisoformat("2026-11-15 16:30+00:00")
    assert local_date(submitted) == date(2026, 11, 16)
    with app.app_context():
        assert app.config["REVIEW_DEADLINE_WORKING_DAYS"] == 10
        d = review_deadline(submitted, today=date(2026, 11, 20))
    assert d.due == date(2026, 11, 30) and d.remaining == 6


def test_an_unknown_calendar_year_gives_an_unknown_deadline_not_an_error(package_ends_with_2026):
    d = deadline(date(2099, 3, 2), 5, today=date(2099, 3, 3))
    assert d.unknown and d.unknown_year == 2099 and d.due is None and d.start == date(2099, 3, 2)
    assert waited(date(2099, 3, 2), date(2099, 3, 3)) is None


@pytest.mark.demo_day("2026-11-20")
def test_the_review_queue_shows_due_and_overdue_in_working_days(as_demo):
    with time_machine.travel(NOV_20, tick=True):
        html = as_demo("officer").get("/applications/review?status=submitted").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td><a href=\"/applications/(\d+)\"[^>]*>.*?</tr>", html, re.S)
    assert len(rows) == 2
    assert "Overdue by 13 working days" in html  # submitted 20 Oct, due 3 Nov
    assert "Due in 6 working days" in html  # submitted 16 Nov, due 30 Nov


@pytest.mark.demo_day("2026-11-20")
def test_the_subsidy_queue_shows_the_review_deadline(as_demo):
    with time_machine.travel(NOV_20, tick=True):
        html = as_demo("officer").get("/subsidies/review?status=submitted").get_data(as_text=True)
    assert "Due in 1 working day" in html  # the robot subsidy submitted Mon 9 Nov is due Mon 23 Nov


@pytest.fixture()
def calendar_unknown(monkeypatch):
    """The working-day calendar does not know the year (as on 1 January before the package update)."""
    def unknown(start, days):
        raise CalendarUnknown(date(2027, 1, 4))

    monkeypatch.setattr("voucher.deadlines.add_working_days", unknown)
    monkeypatch.setattr("voucher.deadlines.working_days_between", unknown)


@pytest.mark.demo_day("2026-11-20")
@pytest.mark.parametrize("role,path", [("officer", "/applications/review?status=submitted"),
                                       ("officer", "/subsidies/review?status=submitted"),
                                       ("officer", "/"), ("finance", "/"),
                                       ("officer", "/applications/review?status=submitted&format=csv")])
def test_pages_show_the_date_and_a_note_when_the_calendar_year_is_unknown(as_demo, calendar_unknown, role, path):
    response = as_demo(role).get(path)
    assert response.status_code == 200
    body = response.get_data().decode("utf-8-sig")
    if "format=csv" in path:
        assert "deadline not computed (no working-day calendar for 2027)" in body
    elif path != "/" or role == "officer":
        assert "Deadline not computed: the working-day calendar has no data for 2027." in body
        assert re.search(r"Since 2026-\d\d-\d\d", body)
