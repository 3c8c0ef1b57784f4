"""`/api/v1/statistics`: the programme statistics of the web page ``/statistics`` for other systems —
fund use by month, district, industry and kind, trial outcomes, the adoption rate and the trial-voucher
applications by status.  Read-only; every figure comes from :mod:`voucher.dashboard.figures` (summed
from the fund ledger and the records, never from stored totals), so the API and the page agree."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.common import auth, errors
from voucher.applications.models import APPLICATION_STATES
from voucher.dashboard import figures
from voucher.programmes import services
from voucher.schema_fields import ID_MAX, DecimalString, WholeRange

# The roles of the web page /statistics (voucher.dashboard.views.statistics).
STATISTICS_ROLES = ("officer", "finance", "auditor")
OUTCOMES = ("passed", "failed", "pending", "waiting")

blp = api_blueprint("api-statistics", __name__, description="Programme statistics (the figures of the web page "
                    "/statistics): fund use by month, district, industry and kind of support, trial outcomes, "
                    "adoption and the trial-voucher applications by status, for one programme or all.")


# --- schemas -----------------------------------------------------------------------------------

class StatisticsArgs(ma.Schema):
    programme_id = ma.fields.Integer(validate=WholeRange(1, ID_MAX),
                                     metadata={"description": "Only this programme's figures (default: every "
                                                              "programme); an id that does not exist answers 404"})


class StatisticsProgrammeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)


class MonthFiguresSchema(ma.Schema):
    """Fund use in one local (Asia/Shanghai) calendar month."""

    month = ma.fields.String(required=True, metadata={"description": "YYYY-MM, local time", "example": "2026-03"})
    reserved = DecimalString(required=True, metadata={"description": "New reservations (yuan)"})
    released = DecimalString(required=True, metadata={"description": "Reservations given back to the fund (yuan)"})
    paid = DecimalString(required=True, metadata={"description": "Payments (yuan)"})


def group_schema(name: str, key: str, what: str, code: str) -> type[ma.Schema]:
    """A group's committed (reserved now + paid), reserved and paid, keyed by ``key``."""
    return type(name, (ma.Schema,), {
        "__doc__": f"Fund use of one {what}: committed = reserved + paid.",
        key: ma.fields.String(required=True, metadata={"description": code}),
        "committed": DecimalString(required=True, metadata={"description": "Reserved now + paid (yuan)"}),
        "reserved": DecimalString(required=True, metadata={"description": "Reserved, not yet paid (yuan)"}),
        "paid": DecimalString(required=True, metadata={"description": "Paid out (yuan)"}),
    })


DistrictFiguresSchema = group_schema("DistrictFiguresSchema", "district", "district",
                                     "The enterprises' district code, e.g. lucheng")
IndustryFiguresSchema = group_schema("IndustryFiguresSchema", "industry", "industry",
                                     "The enterprises' industry code, e.g. pumps_valves")
KindFiguresSchema = group_schema("KindFiguresSchema", "kind", "kind of support",
                                 "trial_voucher, loan_discount or robot_subsidy")

TrialOutcomeCountsSchema = type("TrialOutcomeCountsSchema", (ma.Schema,), {
    "__doc__": "Trials by outcome: passed / failed (evaluated), pending (started, not yet evaluated), waiting "
               "(opened, kick-off not confirmed).",
    **{name: ma.fields.Integer(required=True) for name in OUTCOMES},
})


class AdoptionFiguresSchema(ma.Schema):
    """The enterprises' adoption decisions after an evaluated trial."""

    adopted = ma.fields.Integer(required=True)
    declined = ma.fields.Integer(required=True)
    waiting = ma.fields.Integer(required=True, metadata={"description": "Evaluated trials without a decision"})
    rate = DecimalString(places=1, required=True, allow_none=True,
                         metadata={"description": "adopted / (adopted + declined), percent to 0.1; null before "
                                                  "the first decision"})


ApplicationStatusCountsSchema = type("ApplicationStatusCountsSchema", (ma.Schema,), {
    "__doc__": "Trial-voucher applications that reached the bureau (drafts never submitted are not counted), "
               "by status; every status is present (0 when none).",
    **{status: ma.fields.Integer(required=True) for status in APPLICATION_STATES},
})


class StatisticsSchema(ma.Schema):
    """The programme statistics (one programme, or every programme when ``programme`` is null)."""

    programme = ma.fields.Nested(StatisticsProgrammeSchema, required=True, allow_none=True,
                                 metadata={"description": "The programme filtered on; null: every programme"})
    fund_by_month = ma.fields.List(ma.fields.Nested(MonthFiguresSchema), required=True,
                                   metadata={"description": "Oldest first, every month from the first ledger "
                                                            "entry to the last (months without entries: zeros)"})
    fund_by_district = ma.fields.List(ma.fields.Nested(DistrictFiguresSchema), required=True,
                                      metadata={"description": "The largest committed first"})
    fund_by_industry = ma.fields.List(ma.fields.Nested(IndustryFiguresSchema), required=True,
                                      metadata={"description": "The largest committed first"})
    fund_by_kind = ma.fields.List(ma.fields.Nested(KindFiguresSchema), required=True,
                                  metadata={"description": "The largest committed first"})
    trial_outcomes = ma.fields.Nested(TrialOutcomeCountsSchema, required=True)
    adoption = ma.fields.Nested(AdoptionFiguresSchema, required=True)
    application_status_counts = ma.fields.Nested(ApplicationStatusCountsSchema, required=True)


# --- the resource ------------------------------------------------------------------------------

def _groups(rows, key: str) -> list[dict]:
    return [{key: g.code, "committed": g.committed, "reserved": g.reserved, "paid": g.paid} for g in rows]


def statistics_json(programme_id: int | None) -> dict:
    counts = figures.application_status_counts(programme_id)
    return {
        "fund_by_month": [{"month": m.month, "reserved": m.reserved, "released": m.released, "paid": m.paid}
                          for m in figures.fund_by_month(programme_id)],
        "fund_by_district": _groups(figures.fund_by_district(programme_id), "district"),
        "fund_by_industry": _groups(figures.fund_by_industry(programme_id), "industry"),
        "fund_by_kind": _groups(figures.fund_by_kind(programme_id), "kind"),
        "trial_outcomes": figures.trial_outcomes(programme_id),
        "adoption": figures.adoption(programme_id),
        "application_status_counts": {status: counts.get(status, 0) for status in APPLICATION_STATES},
    }


@blp.route("/statistics")
class Statistics(MethodView):
    @auth(blp, *STATISTICS_ROLES)
    @errors(blp, 404)
    @blp.arguments(StatisticsArgs, location="query")
    @blp.response(200, StatisticsSchema)
    def get(self, args):
        """Programme statistics: fund use, trial outcomes, adoption, applications by status.

        The figures of the web page /statistics, summed from the fund ledger and the records. Money in yuan as
        decimal strings with two decimals; without `programme_id`, every programme together."""
        programme = None
        if args.get("programme_id") is not None:
            found = services.get_programme(args["programme_id"])  # NotFound → 404
            programme = {"id": found.id, "name": found.name, "year": found.year}
        return {"programme": programme, **statistics_json(programme["id"] if programme else None)}
