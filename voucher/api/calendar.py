"""``/api/v1/calendar/{year}``: the working-day calendar for other systems (the finance system
counts the same payment deadlines): read by the bureau's roles, entered by programme officers
through the same service as the web page."""
from __future__ import annotations

from flask import abort
from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import auth, errors
from voucher.workcalendar import queries, services
from voucher.workcalendar.access import RULES as ACCESS
from voucher.workcalendar.models import FIRST_YEAR, LAST_YEAR
from voucher.workcalendar.schemas import CalendarYearInputSchema, CalendarYearSchema

READERS = ACCESS["workcalendar.read"].roles

blp = api_blueprint("api-calendar", __name__, description="The working-day calendar: each year's days off and "
                    "adjusted working days, from the chinese-calendar package or as the bureau entered them from "
                    "the State Council's notice (which takes precedence).")


def year_json(year: int) -> dict:
    known = queries.days_of(year)
    source, entry, days = known
    row = queries.year_row(year, known)
    return {"year": year, "source": source, "working_days": row.working_days,
            "reference": entry.reference if entry else None, "revision": entry.revision if entry else None,
            "days": [{"date": d.day, "working": d.working, "name": str(d.name)} for d in days]}


def _known_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    return year


@blp.route("/calendar/<int:year>")
class CalendarYearResource(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.response(200, CalendarYearSchema)
    def get(self, year: int):
        """One year's working-day arrangement and its source.

        `source` is null when neither the package nor the bureau knows the year: deadlines running into
        it are not computed and no public notice can end in it."""
        return year_json(_known_year(year))

    @auth(blp, *ACCESS["workcalendar.enter"].roles)
    @errors(blp, 400, 404, 409, 422)
    @blp.arguments(CalendarYearInputSchema)
    @blp.response(200, CalendarYearSchema)
    def put(self, body, year: int):
        """Enter (or replace) a year's arrangement from the State Council's notice.

        Last year to next year; an adjusted working day is a Saturday or Sunday; every day in that year and
        listed once. Deadlines are counted with it at once; audited with the version before."""
        _known_year(year)
        services.enter_year(api_actor(), year, [(d["date"], d["name"]) for d in body["days_off"]],
                            [(d["date"], d["name"]) for d in body["working_days"]], body["reference"])
        return year_json(year)
