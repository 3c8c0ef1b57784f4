"""Chart colours mean the same thing in every chart (voucher/chart_colours.py): green is paid,
passed or kept, and a series or slice named for a failure ("Not passed", "Did not keep it") or for
money not yet paid never gets it, whatever its position; the PDF charts use the same map."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from voucher.chart_colours import COLOURS, GREEN, NEUTRAL, RED
from voucher.dashboard import charts, figures

GREEN_MEANS = ("Paid", "Passed", "Kept using the solution")
NEVER_GREEN = ("Not passed", "Did not keep it", "Reserved", "Reserved, not yet paid", "Released",
               "Running or waiting for evaluation", "Waiting for the kick-off", "Decision not yet recorded")


@pytest.fixture()
def fake_figures(monkeypatch):
    monkeypatch.setattr(figures, "trial_outcomes", lambda *a, **k: {"passed": 3, "failed": 2, "pending": 1, "waiting": 1})
    monkeypatch.setattr(figures, "adoption", lambda *a, **k: {"adopted": 2, "declined": 1, "waiting": 1,
                                                              "rate": Decimal("66.7")})
    monkeypatch.setattr(figures, "fund_by_month", lambda *a, **k: [
        figures.MonthFigures("2026-10", Decimal("100.00"), Decimal("10.00"), Decimal("50.00"))])
    group = [figures.GroupFigures("lucheng", Decimal("300.00"), Decimal("100.00")),
             figures.GroupFigures("ouhai", Decimal("200.00"), Decimal("50.00"))]
    monkeypatch.setattr(figures, "fund_by_district", lambda *a, **k: group)
    monkeypatch.setattr(figures, "fund_by_industry", lambda *a, **k: group)
    monkeypatch.setattr(figures, "fund_by_kind", lambda *a, **k: [
        figures.GroupFigures(k, Decimal("100.00"), Decimal("0.00")) for k in ("trial_voucher", "loan_discount",
                                                                           "robot_subsidy")])


def coloured_items(chart):
    """(name, colour) of every series and pie slice: each must carry its own colour."""
    for series in chart.option["series"]:
        if series["type"] == "pie":
            for item in series["data"]:
                yield item["name"], item["itemStyle"]["color"]
        else:
            yield series["name"], series["itemStyle"]["color"]


def all_charts():
    return [charts.fund_over_time(None), charts.fund_by_district(None), charts.fund_by_industry(None),
            charts.fund_by_kind(None), charts.trial_outcomes(None), charts.adoption(None)]


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_green_is_only_paid_passed_or_kept_and_never_a_failure(ctx, fake_figures, locale):
    with force_locale(locale):
        green_names = {_(n) for n in GREEN_MEANS}
        never = {_(n) for n in NEVER_GREEN}
        seen = {}
        for chart in all_charts():
            for name, colour in coloured_items(chart):
                seen[name] = colour
                if colour == GREEN:
                    assert name in green_names, (chart.key, name)
                if name in never:
                    assert colour != GREEN, (chart.key, name)
        assert seen[_("Not passed")] == RED and seen[_("Passed")] == GREEN and seen[_("Paid")] == GREEN
        assert seen[_("Did not keep it")] != GREEN


def test_the_same_meaning_has_the_same_colour_in_every_chart(ctx, fake_figures):
    by_name: dict[str, set] = {}
    with force_locale("en"):
        for chart in all_charts():
            for name, colour in coloured_items(chart):
                by_name.setdefault(name, set()).add(colour)
    assert by_name["Paid"] == {COLOURS["paid"]}  # the monthly bars and the district/industry stacks
    assert by_name["Passed"] == {COLOURS["passed"]} and by_name["Not passed"] == {COLOURS["failed"]}


def test_the_palette_for_categories_has_neither_green_nor_red():
    assert GREEN not in NEUTRAL and RED not in NEUTRAL and charts.PALETTE == NEUTRAL


def test_the_pdf_charts_use_the_same_colours():
    from reportlab.lib import colors

    from voucher.documents import pdf

    assert all(c != colors.HexColor(GREEN) and c != colors.HexColor(RED) for c in pdf._PALETTE)
    drawing = pdf._bar_chart([pdf.FundUseRow("A", Decimal("1.00"), Decimal("2.00"))], pdf.labels_for("en"), 400, False)
    bars = [el for el in drawing.contents if hasattr(el, "bars")][0].bars
    assert bars[1].fillColor == colors.HexColor(COLOURS["paid"])
    assert bars[0].fillColor == colors.HexColor(COLOURS["reserved"])
