"""The working-day calendar an officer enters from the State Council's notice: counted with in
preference to the chinese-calendar package (which knows no year after 2026), refused clearly
when wrong, audited, and shown and exported per year."""
from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from tests.dashboard.conftest import read_csv, read_xlsx, table_rows
from voucher.audit.models import AuditEvent
from voucher.deadlines import deadline
from voucher.errors import Forbidden, ValidationFailed
from voucher.extensions import db
from voucher.workcalendar import services
from voucher.workcalendar.forms import parse_day_lines
from voucher.workcalendar.models import CalendarDay, CalendarYear
from voucher.workdays import CalendarUnknown, add_working_days, is_working_day, working_days_between, working_days_in

EN = {"Accept-Language": "en"}
TODAY = date(2026, 11, 22)
# An arrangement for 2027 as a notice would give it (the test's own, not the official one).
DAYS_OFF_2027 = [(date(2027, 1, 1), "元旦")] + [(date(2027, 2, d), "春节") for d in range(6, 15)] + \
    [(date(2027, 10, d), "国庆节") for d in range(1, 8)]
WORKED_2027 = [(date(2027, 2, 20), "春节"), (date(2027, 10, 9), "国庆节")]
FORM_2027 = {"reference": "国办发明电〔2026〕7号",
             "days_off": "2027-01-01 元旦\n2027-02-06/2027-02-14 春节\n\n2027-10-01/2027-10-07 国庆节",
             "working_days": "2027-02-20 春节\n2027-10-09 国庆节"}


def _enter_2027(officer):
    return services.enter_year(officer.actor(), 2027, DAYS_OFF_2027, WORKED_2027, "国办发明电〔2026〕7号", today=TODAY)


def test_a_year_no_source_knows_is_refused_until_the_bureau_enters_it(ctx, make_user):
    with pytest.raises(CalendarUnknown):
        add_working_days(date(2026, 12, 28), 5)
    _enter_2027(make_user("officer"))
    # Mon 28 Dec 2026 + 5: 29, 30, 31 Dec, then Fri 1 Jan 2027 is a day off: 4 and 5 Jan.
    assert add_working_days(date(2026, 12, 28), 5) == date(2027, 1, 5)
    assert not is_working_day(date(2027, 2, 8)) and is_working_day(date(2027, 2, 20))
    assert is_working_day(date(2027, 3, 1)) and not is_working_day(date(2027, 3, 6))
    # 2027 has 261 weekdays; 15 of the 17 days off are weekdays; 2 weekends are worked.
    weekdays = sum(1 for n in range(365) if date.fromordinal(date(2027, 1, 1).toordinal() + n).weekday() < 5)
    off_on_weekdays = sum(1 for d, _n in DAYS_OFF_2027 if d.weekday() < 5)
    assert working_days_in(2027) == weekdays - off_on_weekdays + 2
    assert working_days_between(date(2026, 12, 31), date(2027, 1, 4)) == 1


def test_an_entry_takes_precedence_over_the_package_for_its_year(ctx, make_user):
    assert not is_working_day(date(2026, 10, 5))  # the package: National Day holiday (a Monday)
    services.enter_year(make_user("officer").actor(), 2026, [(date(2026, 1, 1), "元旦")], [], "test", today=TODAY)
    assert is_working_day(date(2026, 10, 5))


def test_the_queues_deadlines_follow_the_entry(ctx, make_user):
    before = deadline(date(2026, 12, 24), 10, today=date(2026, 12, 28))
    assert before.unknown and before.unknown_year == 2027
    _enter_2027(make_user("officer"))
    after = deadline(date(2026, 12, 24), 10, today=date(2026, 12, 28))
    # 25, 28, 29, 30, 31 Dec; 4, 5, 6, 7, 8 Jan (1 Jan a day off).
    assert after.due == date(2027, 1, 8) and after.remaining == 8


def test_an_entry_is_audited_and_a_replacement_keeps_the_version_before(ctx, make_user):
    officer = make_user("officer")
    _enter_2027(officer)
    entry = services.enter_year(officer.actor(), 2027, DAYS_OFF_2027[:1], [], "更正通知", today=TODAY)
    assert entry.revision == 2
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)) == 1
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "calendar_year")
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["calendar_year.entered"] * 2
    assert events[0].before is None and events[0].after["working_days"] == [["2027-02-20", "春节"], ["2027-10-09", "国庆节"]]
    assert events[1].before["reference"] == "国办发明电〔2026〕7号" and len(events[1].before["days_off"]) == 17
    assert events[1].after == {"reference": "更正通知", "revision": 2, "days_off": [["2027-01-01", "元旦"]],
                               "working_days": []}
    assert working_days_in(2027) > 250  # counted with the replacement at once


@pytest.mark.parametrize(("year", "off", "worked", "reference", "field", "message"), [
    (2029, [(date(2029, 1, 1), "")], [], "x", "year", "Enter a year from 2025 to 2027."),
    (2027, [(date(2027, 1, 1), "")], [], " ", "reference", "Enter the reference of the State Council's notice"),
    (2027, [(date(2027, 1, 1), "")], [], "x" * 201, "reference", "longer than 200 characters"),
    (2027, [], [], "x", "days_off", "List the days off of 2027: at least New Year's Day."),
    (2027, [(date(2028, 1, 1), "")], [], "x", "days_off", "2028-01-01 is not in 2027"),
    (2027, [(date(2027, 1, 1), ""), (date(2027, 1, 1), "")], [], "x", "days_off", "2027-01-01 is listed twice."),
    (2027, [(date(2027, 1, 1), "元" * 61)], [], "x", "days_off", "longer than 60 characters"),
    (2027, [(date(2027, 1, 1), "")], [(date(2027, 2, 22), "")], "x", "working_days",
     "2027-02-22 is a weekday: an adjusted working day is a Saturday or Sunday"),
    (2027, [(date(2027, 2, 20), "")], [(date(2027, 2, 20), "")], "x", "working_days",
     "2027-02-20 is listed both as a day off and as a working day."),
])
def test_a_wrong_entry_is_refused_naming_the_field_and_saves_nothing(ctx, make_user, year, off, worked, reference,
                                                                    field, message):
    with pytest.raises(ValidationFailed) as err:
        services.enter_year(make_user("officer").actor(), year, off, worked, reference, today=TODAY)
    assert err.value.field == field and message in err.value.render()
    assert db.session.scalar(select(func.count()).select_from(CalendarYear)) == 0


def test_only_officers_enter_the_calendar(ctx, make_user):
    for role in ("finance", "auditor", "admin", "sme"):
        with pytest.raises(Forbidden):
            services.enter_year(make_user(role).actor(), 2027, DAYS_OFF_2027, [], "x", today=TODAY)


def test_form_lines_are_days_and_periods_and_a_bad_line_is_named():
    assert parse_day_lines("2027-10-01/2027-10-03 国庆节\n\n2027-01-01") == [
        (date(2027, 10, 1), "国庆节"), (date(2027, 10, 2), "国庆节"), (date(2027, 10, 3), "国庆节"), (date(2027, 1, 1), "")]
    with pytest.raises(ValueError, match="Line 2: write a date as YYYY-MM-DD"):
        parse_day_lines("2027-01-01 元旦\n2027/02/06 春节")
    with pytest.raises(ValueError, match="Line 1: a period runs forward"):
        parse_day_lines("2027-02-14/2027-02-06 春节")
    with pytest.raises(ValueError, match="at most 31 days"):
        parse_day_lines("2027-01-01/2027-03-01 x")


@time_machine.travel("2026-11-22 10:00 +0800", tick=True)
def test_an_officer_enters_next_year_on_the_page_and_the_dashboard_stops_asking(client, make_user, login):
    login(make_user("officer"))
    home = client.get("/", headers=EN).get_data(as_text=True)
    assert "The working-day calendar has no data for 2027" in home and 'href="/calendar/2027"' in home
    page = client.get("/calendar/2027", headers=EN).get_data(as_text=True)
    assert "No data for 2027 yet" in page and "Enter the arrangement" in page
    response = client.post("/calendar/2027", data=FORM_2027, headers=EN)
    assert response.status_code == 302 and response.headers["Location"].endswith("/calendar/2027")
    page = client.get("/calendar/2027", headers=EN).get_data(as_text=True)
    rows = table_rows(page)
    assert len(rows) == 19 and rows[0] == ["2027-01-01", "Friday", "Day off", "元旦"]
    assert ["2027-02-20", "Saturday", "Working day", "春节"] in rows
    assert "Replace the arrangement" in page and "(version 1)" in page
    assert "The working-day calendar has no data for 2027" not in client.get("/", headers=EN).get_data(as_text=True)
    overview = table_rows(client.get("/calendar/", headers=EN).get_data(as_text=True))
    assert [r[:2] for r in overview] == [["2027", "Entered by the bureau"], ["2026", "chinese-calendar package"],
                                         ["2025", "chinese-calendar package"]]


@time_machine.travel("2026-11-22 10:00 +0800", tick=True)
@pytest.mark.parametrize(("change", "status", "message"), [
    ({"days_off": "2027-01-01 元旦\n2027-13-01 x"}, 422, "Line 2: write a date as YYYY-MM-DD"),
    ({"working_days": "2027-02-22 春节"}, 422, "2027-02-22 is a weekday"),
    ({"reference": ""}, 422, "Enter the reference of the State Council"),
    ({"days_off": ""}, 422, "List the days off: at least New Year"),
])
def test_bad_form_input_is_refused_on_its_field(client, make_user, login, change, status, message):
    login(make_user("officer"))
    response = client.post("/calendar/2027", data={**FORM_2027, **change}, headers=EN)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CalendarYear)) == 0


@time_machine.travel("2026-11-22 10:00 +0800", tick=True)
def test_who_may_read_and_who_may_enter(client, make_user, login):
    for role in ("finance", "auditor", "admin"):
        login(make_user(role))
        assert client.get("/calendar/").status_code == 200
        page = client.get("/calendar/2027", headers=EN)
        assert page.status_code == 200 and "Record the arrangement" not in page.get_data(as_text=True)
        assert client.post("/calendar/2027", data=FORM_2027).status_code == 403
    for role in ("sme", "provider", "evaluator"):
        login(make_user(role))
        assert client.get("/calendar/").status_code == 403
        assert client.post("/calendar/2027", data=FORM_2027).status_code == 403
    login(make_user("officer"))
    assert client.post("/calendar/2030", data=FORM_2027).status_code == 403  # outside last year to next year
    assert client.get("/calendar/1999").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CalendarYear)) == 0


@time_machine.travel("2026-11-22 10:00 +0800", tick=True)
def test_a_years_days_export_with_the_rows_of_the_page(client, make_user, login):
    login(make_user("finance"))
    page_rows = table_rows(client.get("/calendar/2026", headers=EN).get_data(as_text=True))
    assert len(page_rows) > 20 and ["2026-10-01", "Thursday", "Day off", "National Day"] in page_rows
    csv_rows = read_csv(client.get("/calendar/2026?format=csv", headers=EN))
    assert csv_rows[0] == ["Date", "Weekday", "Kind", "Holiday"] and csv_rows[1:] == page_rows
    xlsx_rows = read_xlsx(client.get("/calendar/2026?format=xlsx", headers=EN))
    assert [[str(c) for c in r] for r in xlsx_rows[1:]] == page_rows
    overview = read_csv(client.get("/calendar/?format=csv", headers=EN))
    assert [r[:2] for r in overview[1:]] == [["2027", "No data"], ["2026", "chinese-calendar package"],
                                             ["2025", "chinese-calendar package"]]
