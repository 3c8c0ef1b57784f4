"""API schemas of the working-day calendar (``/api/v1/calendar/{year}``)."""
from __future__ import annotations

import marshmallow as ma

from voucher.schema_fields import Length
from voucher.workcalendar.services import NAME_MAX, REFERENCE_MAX

MAX_DAYS = 200


class CalendarDaySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    date = ma.fields.Date(required=True)
    name = ma.fields.String(load_default="", validate=Length(0, NAME_MAX),
                            metadata={"description": "The holiday's name, e.g. 春节"})


class CalendarDayOutSchema(CalendarDaySchema):
    working = ma.fields.Boolean(required=True, metadata={"description": "true: an adjusted working Saturday or "
                                                                       "Sunday; false: a day off"})


class CalendarYearSchema(ma.Schema):
    """One year's working-day arrangement and where it comes from."""

    year = ma.fields.Integer(required=True)
    source = ma.fields.String(required=True, allow_none=True,
                              metadata={"description": "bureau (entered from the State Council's notice), package "
                                                       "(the chinese-calendar package) or null (no data: deadlines "
                                                       "running into the year cannot be counted)"})
    working_days = ma.fields.Integer(required=True, allow_none=True,
                                     metadata={"description": "The year's number of working days"})
    reference = ma.fields.String(required=True, allow_none=True,
                                 metadata={"description": "The notice an entered year was taken from"})
    revision = ma.fields.Integer(required=True, allow_none=True,
                                 metadata={"description": "The entry's version (1 for the first)"})
    days = ma.fields.List(ma.fields.Nested(CalendarDayOutSchema), required=True,
                          metadata={"description": "The days that differ from the plain week, in date order"})


class CalendarYearInputSchema(ma.Schema):
    """The arrangement as the State Council's notice gives it: every other weekday is a working day
    and every other Saturday and Sunday a day off."""

    class Meta:
        unknown = ma.RAISE

    reference = ma.fields.String(required=True, validate=Length(1, REFERENCE_MAX))
    days_off = ma.fields.List(ma.fields.Nested(CalendarDaySchema), required=True,
                              validate=ma.validate.Length(min=1, max=MAX_DAYS),
                              metadata={"description": "Every day off, weekends inside a holiday period included"})
    working_days = ma.fields.List(ma.fields.Nested(CalendarDaySchema), load_default=list,
                                  validate=ma.validate.Length(max=MAX_DAYS),
                                  metadata={"description": "The Saturdays and Sundays that are worked"})
