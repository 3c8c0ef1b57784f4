import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from voucher.exports import csv_bytes, xlsx_bytes
from voucher.workdays import CalendarUnknown, add_working_days, is_working_day, working_days_between


def test_national_day_week_is_skipped_and_adjusted_saturday_counts():
    assert not is_working_day(date(2026, 10, 1))
    assert is_working_day(date(2026, 10, 10))  # adjusted working Saturday
    # 5 working days after Monday 2026-09-28: 29 and 30 Sep, then 8, 9 and the adjusted Saturday 10 Oct
    assert add_working_days(date(2026, 9, 28), 5) == date(2026, 10, 10)
    assert working_days_between(date(2026, 9, 28), date(2026, 10, 12)) == 6


def test_unknown_year_fails_loudly(package_ends_with_2026):
    with pytest.raises(CalendarUnknown, match="no data"):
        is_working_day(date(2099, 1, 5))


def test_csv_and_xlsx_read_back_with_the_same_rows():
    headers = ["企业", "金额", "日期"]
    rows = [["温州瓯江泵阀有限公司", Decimal("150000.00"), date(2026, 3, 1)], ["B", Decimal("0.01"), None]]
    text = csv_bytes(headers, rows).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [headers, ["温州瓯江泵阀有限公司", "150000.00", "2026-03-01"], ["B", "0.01", ""]]
    wb = load_workbook(io.BytesIO(xlsx_bytes(headers, rows)))
    values = [[c.value for c in r] for r in wb.active.iter_rows()]
    assert values[0] == headers
    assert values[1][0] == "温州瓯江泵阀有限公司" and Decimal(str(values[1][1])) == Decimal("150000.00")
    assert len(values) == 3


def _walk(start: date, end: date) -> int:
    """Working days after ``start`` up to ``end``, asked of the package day by day."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += chinese_calendar.is_workday(day)
    return count



@settings(max_examples=200, deadline=None)
@given(st.dates(date(2004, 1, 1), date(2026, 12, 31)), st.integers(-40, 800))
def test_counting_by_running_totals_equals_walking_the_days(start, span):
    end = max(min(start + timedelta(days=span), date(2026, 12, 31)), date(2004, 1, 1))
    assert working_days_between(start, end) == _walk(start, end)
    assert is_working_day(end) == chinese_calendar.is_workday(end)


def test_a_count_running_into_an_unknown_year_fails_loudly_with_that_year(package_ends_with_2026):
    with pytest.raises(CalendarUnknown) as info:
        working_days_between(date(2026, 12, 20), date(2027, 1, 8))
    assert info.value.day.year == 2027
    assert working_days_between(date(2027, 1, 8), date(2026, 12, 20)) == 0  # nothing to count


def test_add_working_days_from_running_counts_equals_the_walk_day_by_day():
    """The counts-based ``add_working_days`` gives the day a walk day by day gives, for every start
    day of two years (weekends, holidays, make-up working days, year ends) and 0 to 30 days."""
    from datetime import date, timedelta

    from voucher.workdays import add_working_days, is_working_day

    def walk(start, n):
        day = start
        while n:
            day += timedelta(days=1)
            n -= is_working_day(day)
        return day

    day = date(2024, 1, 1)
    while day < date(2025, 12, 20):
        for n in (0, 1, 3, 10, 15, 30):
            assert add_working_days(day, n) == walk(day, n), (day, n)
        day += timedelta(days=1)
