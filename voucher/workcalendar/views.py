"""Pages: the working-day calendar's years, and one year's days with the officers' entry form."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from voucher.access import can
from voucher.auth.policy import current_actor, roles_required
from voucher.deadlines import local_today
from voucher.errors import DomainError, Forbidden
from voucher.list_export import local_time, requested_format, send
from voucher.ui import form_errors_from
from voucher.workcalendar import queries, services
from voucher.workcalendar.access import RULES as ACCESS
from voucher.workcalendar.forms import CalendarYearForm
from voucher.workcalendar.models import FIRST_YEAR, LAST_YEAR

bp = Blueprint("workcalendar", __name__, url_prefix="/calendar")


def _weekday(day) -> str:
    from flask_babel import format_date

    return format_date(day, "EEEE")


@bp.get("/")
@roles_required(*ACCESS["workcalendar.read"].roles)
def index():
    """Each year deadlines may touch: where its working days come from, and its figures."""
    today = local_today()
    rows = queries.overview(today)
    fmt = requested_format()
    if fmt:
        return send(fmt, "working-day-calendar",
                    [_("Year"), _("Source"), _("Working days"), _("Days off on weekdays"), _("Adjusted working days"),
                     _("State Council notice"), _("Entered")],
                    ([r.year, str(queries.SOURCES[r.source]) if r.source else _("No data"),
                      r.working_days if r.working_days is not None else "", r.days_off if r.days_off is not None else "",
                      r.worked_weekends if r.worked_weekends is not None else "",
                      r.entry.reference if r.entry else "", local_time(r.entry.entered_at) if r.entry else ""]
                     for r in rows))
    first, last = services.enterable_years(today)
    return render_template("workcalendar/index.html", rows=rows, sources=queries.SOURCES,
                           enterable=range(first, last + 1), missing=queries.missing_years(today))


@bp.route("/<int:year>", methods=["GET", "POST"])
@roles_required(*ACCESS["workcalendar.read"].roles)
def year(year: int):
    """One year's days off and worked weekends; officers enter or replace the arrangement."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    known = queries.days_of(year)
    source, entry, days = known
    fmt = requested_format()
    if fmt:
        return send(fmt, f"working-day-calendar-{year}", [_("Date"), _("Weekday"), _("Kind"), _("Holiday")],
                    ([d.day.isoformat(), _weekday(d.day), _("Working day") if d.working else _("Day off"), str(d.name)]
                     for d in days))
    first, last = services.enterable_years(local_today())
    may_enter = can(current_actor(), "workcalendar.enter") and first <= year <= last
    form = CalendarYearForm()
    status = 200
    if form.is_submitted():
        if not may_enter:
            raise Forbidden("Only programme officers enter the working-day calendar, for last year to next year.")
        if form.validate():
            try:
                services.enter_year(current_actor(), year, form.days_off.days, form.working_days.days,
                                    form.reference.data)
            except DomainError as err:
                form_errors_from(err, form)
            else:
                flash(_("The working-day arrangement of %(year)s is recorded; deadlines are counted with it from now "
                        "on.", year=year), "success")
                return redirect(url_for("workcalendar.year", year=year))
        status = 422
    elif may_enter:
        # Start from what is known: the entry, or the package's days for the year.
        form.days_off.data = CalendarYearForm.text_of([d for d in days if not d.working])
        form.working_days.data = CalendarYearForm.text_of([d for d in days if d.working])
        if entry is not None:
            form.reference.data = entry.reference
    return render_template("workcalendar/year.html", year=year, source=source, entry=entry, days=days,
                           row=queries.year_row(year, known), sources=queries.SOURCES, form=form, may_enter=may_enter,
                           weekday=_weekday), status


def _calendar_panel(actor):
    """Tell officers (who enter it) and finance (whose deadlines need it) when a year is missing."""
    missing = queries.missing_years(local_today())
    if not missing:
        return None
    year = missing[-1]
    text = _("The working-day calendar has no data for %(year)s: review and payment deadlines running into it "
             "cannot be counted, and no public notice can end in it.", year=year)
    if can(actor, "workcalendar.enter"):
        link = ("workcalendar.year", _("Enter the %(year)s arrangement", year=year), {"year": year})
    else:
        link = ("workcalendar.index", _("Open the working-day calendar"))
    return {"title": _("Working-day calendar"), "text": text, "link": link}
