"""The form an officer copies a year's arrangement into: one line per day or period."""
from __future__ import annotations

import re
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from voucher.forms import VoucherForm

MAX_PERIOD_DAYS = 31
MAX_LINES = 120
# "2027-10-01 National Day" or a period "2027-10-01/2027-10-07 National Day" (ISO 8601 interval).
_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s*/\s*(\d{4}-\d{2}-\d{2}))?(?:\s+(.*))?$")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_day_lines(text: str) -> list[tuple[date, str]]:
    """Lines of ``YYYY-MM-DD[/YYYY-MM-DD] [name]`` → (day, name) for every day; ValueError names
    the first bad line."""
    out: list[tuple[date, str]] = []
    lines = [line.strip() for line in (text or "").splitlines()]
    if len([line for line in lines if line]) > MAX_LINES:
        raise ValueError(str(_l("At most %(max)s lines.", max=MAX_LINES)))
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        match = _LINE.match(line.replace("\u3000", " "))
        first = _day(match.group(1)) if match else None
        last = _day(match.group(2)) if match and match.group(2) else first
        if first is None or last is None:
            raise ValueError(str(_l("Line %(n)s: write a date as YYYY-MM-DD or a period as YYYY-MM-DD/YYYY-MM-DD, "
                                    "then the name.", n=number)))
        if last < first or (last - first).days >= MAX_PERIOD_DAYS:
            raise ValueError(str(_l("Line %(n)s: a period runs forward and lasts at most %(max)s days.", n=number,
                                    max=MAX_PERIOD_DAYS)))
        name = (match.group(3) or "").strip()
        day = first
        while day <= last:
            out.append((day, name))
            day += timedelta(days=1)
    return out


class DayLinesField(TextAreaField):
    """A textarea of dated lines; ``data`` is the text, ``days`` the parsed (day, name) list."""

    days: list[tuple[date, str]]

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.days = []
        self.days = parse_day_lines(self.data or "")


class CalendarYearForm(VoucherForm):
    reference = StringField(_l("State Council notice"), validators=[
        InputRequired(message=_l("Enter the reference of the State Council's notice the arrangement is taken from.")),
        Length(max=200, message=_l("At most %(max)d characters."))],
        description=_l("The notice the arrangement is copied from, e.g. %(example)s.", example="国办发明电〔2026〕7号"))
    days_off = DayLinesField(_l("Days off"), render_kw={"rows": 10},
                             validators=[InputRequired(message=_l("List the days off: at least New Year's Day."))],
                             description=_l("One line per day or period, weekends inside a holiday period included: "
                                            "2027-01-01 New Year's Day, or 2027-02-06/2027-02-14 Spring Festival."))
    working_days = DayLinesField(_l("Adjusted working days"), render_kw={"rows": 5},
                                 description=_l("The Saturdays and Sundays that are worked, one per line: "
                                                "2027-02-20 Spring Festival."))

    @staticmethod
    def text_of(days) -> str:
        """Days as the form's lines (one per day), to start an entry from what is known."""
        return "\n".join(f"{d.day.isoformat()} {d.name}".rstrip() for d in days)
