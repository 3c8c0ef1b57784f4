"""Chart specifications for the dashboards: Apache ECharts options built here from the figures
(labels translated on the server), drawn in the browser by ``static/js/charts.js``.

The page never runs inline script (the CSP allows only ``script-src 'self'``): each chart is a
``<div data-chart="…json…">`` with its option, plus the same figures as a table for screen readers
and for reading the numbers.  Amounts are shown in ten-thousands of yuan (万元), the unit the
bureau's reports use; the tables show exact amounts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from voucher import reference
from voucher.chart_colours import NEUTRAL, colour
from voucher.dashboard import figures
from voucher.figures_cache import cached_figure
from voucher.money import format_money

# Series with a meaning carry their colour (voucher.chart_colours: green = paid or passed, red = not
# passed); the palette, for categories without one, has neither green nor red.
PALETTE = NEUTRAL


def wan(amount: Decimal) -> float:
    """Yuan → 万元 with two decimals, for drawing only (the tables show the exact amounts)."""
    return float((amount / 10000).quantize(Decimal("0.01")))


@dataclass
class Chart:
    key: str
    title: str
    option: dict
    headers: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    empty: str | None = None  # shown instead of the chart when there is nothing to draw
    note: str | None = None

    @property
    def has_data(self) -> bool:
        return bool(self.rows) and self.empty is None


def _base(kind_axis: bool = True) -> dict:
    option = {"animation": False, "color": PALETTE, "tooltip": {"trigger": "axis" if kind_axis else "item"},
              "legend": {"top": 0}, "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True}}
    return option


def fund_over_time(programme_id: int | None) -> Chart:
    months = cached_figure("fund_by_month", (programme_id,), lambda: figures.fund_by_month(programme_id))
    title = _("Fund use by month (¥10,000)")
    reserved, paid, released = _("Reserved"), _("Paid"), _("Released")
    option = _base()
    option.update({
        "xAxis": {"type": "category", "data": [m.month for m in months]},
        "yAxis": {"type": "value"},
        "series": [{"name": reserved, "type": "bar", "itemStyle": {"color": colour("reserved")},
                    "data": [wan(m.reserved) for m in months]},
                   {"name": paid, "type": "bar", "itemStyle": {"color": colour("paid")},
                    "data": [wan(m.paid) for m in months]},
                   {"name": released, "type": "bar", "itemStyle": {"color": colour("released")},
                    "data": [wan(m.released) for m in months]}],
    })
    rows = [[m.month, format_money(m.reserved), format_money(m.paid), format_money(m.released)] for m in months]
    return Chart("fund-month", title, option, [_("Month"), reserved, paid, released], rows,
                 empty=None if months else _("No ledger entries yet: nothing has been reserved or paid."),
                 note=_("New reservations, payments and releases recorded in the fund ledger each month."))


def _grouped(key: str, title: str, rows_in, labels: dict, group_header: str) -> Chart:
    rows_in = list(rows_in)
    names = [reference.label(labels, r.code) for r in rows_in]
    paid, reserved = _("Paid"), _("Reserved, not yet paid")
    option = _base()
    option["tooltip"]["axisPointer"] = {"type": "shadow"}
    option.update({
        "yAxis": {"type": "category", "data": list(reversed(names))},
        "xAxis": {"type": "value"},
        "series": [{"name": paid, "type": "bar", "stack": "total", "itemStyle": {"color": colour("paid")},
                    "data": [wan(r.paid) for r in reversed(rows_in)]},
                   {"name": reserved, "type": "bar", "stack": "total", "itemStyle": {"color": colour("reserved")},
                    "data": [wan(r.reserved) for r in reversed(rows_in)]}],
    })
    rows = [[n, format_money(r.committed), format_money(r.paid), format_money(r.reserved)] for n, r in zip(names, rows_in)]
    return Chart(key, title, option, [group_header, _("Committed (reserved + paid)"), paid, reserved], rows,
                 empty=None if rows_in else _("No ledger entries yet: nothing has been reserved or paid."))


def fund_by_district(programme_id: int | None) -> Chart:
    return _grouped("fund-district", _("Fund use by district (¥10,000)"), figures.fund_by_district(programme_id),
                    reference.DISTRICTS, _("District"))


def fund_by_industry(programme_id: int | None) -> Chart:
    return _grouped("fund-industry", _("Fund use by industry (¥10,000)"), figures.fund_by_industry(programme_id),
                    reference.INDUSTRIES, _("Industry"))


def _pie(key: str, title: str, parts: list[tuple[str, float, str]], headers: list[str], empty: str,
         note: str | None = None, meanings: list[str] | None = None) -> Chart:
    """A pie; ``meanings`` (one per part, keys of voucher.chart_colours.COLOURS) colour the slices by
    what they mean, else each slice takes the neutral palette by its position among all parts."""
    option = _base(kind_axis=False)
    option.pop("grid")
    option["legend"] = {"bottom": 0}
    colours = [colour(m) for m in meanings] if meanings else [NEUTRAL[i % len(NEUTRAL)] for i in range(len(parts))]
    option["series"] = [{"name": title, "type": "pie", "radius": ["38%", "68%"], "center": ["50%", "45%"],
                         "label": {"formatter": "{c}"},
                         "data": [{"name": name, "value": value, "itemStyle": {"color": c}}
                                  for (name, value, _shown), c in zip(parts, colours) if value]}]
    rows = [[name, shown] for name, value, shown in parts]
    has = any(value for _name, value, _shown in parts)
    return Chart(key, title, option, headers, rows, empty=None if has else empty, note=note)


def fund_by_kind(programme_id: int | None) -> Chart:
    rows = cached_figure("fund_by_kind", (programme_id,), lambda: figures.fund_by_kind(programme_id))
    parts = [(reference.label(reference.FUNDING_KINDS, r.code), wan(r.committed), format_money(r.committed))
             for r in rows]
    return _pie("fund-kind", _("Committed by kind of support"), parts,
                [_("Kind of support"), _("Committed (reserved + paid)")],
                _("No ledger entries yet: nothing has been reserved or paid."), note=_("Amounts in ¥10,000 on the chart."))


def trial_outcomes(programme_id: int | None = None, provider_id: int | None = None) -> Chart:
    c = figures.trial_outcomes(programme_id, provider_id)
    parts = [(_("Passed"), c["passed"], c["passed"]), (_("Not passed"), c["failed"], c["failed"]),
             (_("Running or waiting for evaluation"), c["pending"], c["pending"]),
             (_("Waiting for the kick-off"), c["waiting"], c["waiting"])]
    return _pie("trial-outcomes", _("Trial outcomes"), parts, [_("Outcome"), _("Trials")], _("No trials yet."),
                meanings=["passed", "failed", "pending", "waiting"])


def adoption(programme_id: int | None = None, provider_id: int | None = None) -> Chart:
    a = figures.adoption(programme_id, provider_id)
    parts = [(_("Kept using the solution"), a["adopted"], a["adopted"]),
             (_("Did not keep it"), a["declined"], a["declined"]),
             (_("Decision not yet recorded"), a["waiting"], a["waiting"])]
    note = (_("Adoption rate: %(rate)s%% of %(n)s decisions.", rate=a["rate"], n=a["adopted"] + a["declined"])
            if a["rate"] is not None else _("No adoption decision recorded yet."))
    chart = _pie("adoption", _("Adoption after the trial"), parts, [_("Decision"), _("Trials")],
                 _("No evaluated trials yet."), note=note, meanings=["adopted", "declined", "waiting"])
    chart.option["title"] = {"text": f"{a['rate']}%" if a["rate"] is not None else "—", "left": "center",
                             "top": "38%", "textStyle": {"fontSize": 18}}
    return chart


def application_statuses(programme_id: int | None, labels: dict) -> Chart:
    counts = cached_figure("application_status_counts", (programme_id,),
                           lambda: figures.application_status_counts(programme_id))
    order = [s for s in labels if s in counts]
    names = [str(labels[s]) for s in order]
    option = _base()
    option.update({"xAxis": {"type": "value", "minInterval": 1},
                   "yAxis": {"type": "category", "data": list(reversed(names))},
                   "series": [{"name": _("Applications"), "type": "bar", "barMaxWidth": 28,
                               "itemStyle": {"color": NEUTRAL[0]},
                               "data": [counts[s] for s in reversed(order)]}]})
    option["legend"] = {"show": False}
    rows = [[n, counts[s]] for n, s in zip(names, order)]
    return Chart("application-statuses", _("Trial-voucher applications by status"), option,
                 [_("Status"), _("Applications")], rows, empty=None if rows else _("No application has reached the bureau yet."))


def queue_age(counts: list[int], total: int) -> Chart:
    """How long the applications in the review queue have waited, in working days: ``counts``
    per bucket (0–2, 3–5, 6–10, more than 10), counted in the database; ``total`` in the queue."""
    buckets = [(_("0–2 working days"), 0, 2), (_("3–5 working days"), 3, 5), (_("6–10 working days"), 6, 10),
               (_("More than 10 working days"), 11, 10**6)]
    option = _base()
    option["legend"] = {"show": False}
    option.update({"xAxis": {"type": "category", "data": [b[0] for b in buckets],
                             "axisLabel": {"interval": 0, "overflow": "break", "width": 90}},
                   "yAxis": {"type": "value", "minInterval": 1},
                   "series": [{"name": _("Applications"), "type": "bar", "data": counts, "barMaxWidth": 48,
                               "itemStyle": {"color": colour("queue")}}]})
    rows = [[b[0], n] for b, n in zip(buckets, counts)]
    return Chart("queue-age", _("Waiting for review, in working days"), option, [_("Waited"), _("Applications")],
                 rows, empty=None if total else _("Nothing is waiting for review."))


def provider_trials(provider_id: int, labels: dict) -> Chart:
    counts = figures.trial_status_counts(provider_id=provider_id)
    parts = [(str(labels[s]), counts.get(s, 0), counts.get(s, 0)) for s in labels]
    return _pie("provider-trials", _("My trials by status"), parts, [_("Status"), _("Trials")],
                _("No trials of your solutions yet."))
