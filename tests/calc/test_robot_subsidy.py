from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher.calc import CalcInputError, RobotLine, RobotParams, robot_subsidy

D = Decimal


def line(model="ER20", domestic=True, quantity=1, price="150000.00", invoice="INV-001", manufacturer="Estun"):
    return RobotLine(model, manufacturer, domestic, quantity, D(price), invoice, date(2026, 3, 1))


def test_worked_example():
    lines = [line(quantity=2, price="150000.00", invoice="A1"), line("KR10", False, 1, "400000.00", "A2", "KUKA")]
    result = robot_subsidy(lines, pilot_industry=True)
    assert [lr.rate for lr in result.lines] == [D(20), D(10)]
    assert [lr.eligible_cost for lr in result.lines] == [D("300000.00"), D("400000.00")]
    assert [lr.subsidy for lr in result.lines] == [D("60000.00"), D("40000.00")]
    assert result.total_subsidy == result.uncapped_total == D("100000.00")
    assert not result.cap_applied
    assert result.cap_remaining_before == D("2000000.00")
    assert [lr.granted for lr in result.lines] == [D("60000.00"), D("40000.00")]
    codes = [s.code for s in result.working]
    assert codes[:4] == ["robot.rate.pilot_domestic", "robot.line.subsidy", "robot.rate.base", "robot.line.subsidy"]
    assert codes[-1] == "robot.total" and "robot.cap.not_reached" in codes
    assert result.working[1].render() == "Line 1: cost = 2 × 150000.00 = 300000.00; subsidy = 300000.00 × 20% = 60000.00"


@pytest.mark.parametrize(
    ("domestic", "pilot", "rate", "subsidy", "code"),
    [
        (False, False, D(10), D("10000.00"), "robot.rate.base"),
        (False, True, D(10), D("10000.00"), "robot.rate.base"),
        (True, False, D(15), D("15000.00"), "robot.rate.domestic"),
        (True, True, D(20), D("20000.00"), "robot.rate.pilot_domestic"),
    ],
)
def test_rate_tiers(domestic, pilot, rate, subsidy, code):
    result = robot_subsidy([line(domestic=domestic, price="100000.00")], pilot_industry=pilot)
    assert result.lines[0].rate == rate
    assert result.total_subsidy == subsidy
    assert result.working[0].code == code


def test_line_subsidy_rounded_half_up_to_the_fen():
    # 3 × 33,333.35 = 100,000.05 × 15% = 15,000.0075 → 15,000.01
    result = robot_subsidy([line(quantity=3, price="33333.35")], pilot_industry=False)
    assert result.total_subsidy == D("15000.01")


def test_cap_bites_part_way_through_a_line():
    lines = [line("ER20", quantity=2, price="150000.00", invoice="A1"), line("KR10", False, 1, "400000.00", "A2")]
    result = robot_subsidy(lines, pilot_industry=True, already_granted=D("1950000"))
    assert result.cap_remaining_before == D("50000.00")
    assert result.uncapped_total == D("100000.00")
    assert result.total_subsidy == D("50000.00")
    assert result.cap_applied
    assert [(lr.granted, lr.cap_reduction) for lr in result.lines] == [
        (D("50000.00"), D("10000.00")),
        (D("0.00"), D("40000.00")),
    ]
    bite = next(s for s in result.working if s.code == "robot.cap.line")
    assert bite.render() == "The cap is reached at line 1 (ER20, invoice A1): granted 50000.00 of 60000.00 (reduced by 10000.00)"
    excluded = next(s for s in result.working if s.code == "robot.cap.line_excluded")
    assert "KR10" in excluded.render() and "A2" in excluded.render()


def test_cap_bites_in_a_later_line():
    lines = [line(invoice="A1", price="100000.00"), line(invoice="A2", price="100000.00", model="ER50")]
    result = robot_subsidy(lines, pilot_industry=False, already_granted=D("1980000.00"))
    assert [lr.granted for lr in result.lines] == [D("15000.00"), D("5000.00")]
    bite = next(s for s in result.working if s.code == "robot.cap.line")
    assert bite.values["index"] == "2" and bite.values["model"] == "ER50" and bite.values["reduction"] == "10000.00"


def test_cap_already_exhausted():
    result = robot_subsidy([line()], pilot_industry=True, already_granted=D("2500000"))
    assert result.cap_remaining_before == D("0.00")
    assert result.total_subsidy == D("0.00") and result.cap_applied


def test_custom_cap():
    result = robot_subsidy([line(price="100000")], True, params=RobotParams(enterprise_cap=D("5000")))
    assert result.total_subsidy == D("5000.00")


@pytest.mark.parametrize("second", ["INV-001", " inv-001 ", "Inv-001", "ＩＮＶ－００１", "INV\u200b-001", "INV\u2013001",
                                    "I N V-0\u00a001"])
def test_duplicate_invoice_numbers_refused(second):
    lines = [line(invoice="INV-001"), line(invoice="INV-002"), line(invoice=second)]
    with pytest.raises(CalcInputError) as exc:
        robot_subsidy(lines, pilot_industry=False)
    assert exc.value.field == "lines.2.invoice_no"
    assert "line 1" in exc.value.message and "line 3" in exc.value.message
    assert exc.value.limit == "lines.0.invoice_no"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (line(quantity=0), "lines.0.quantity"),
        (line(quantity=True), "lines.0.quantity"),
        (line(price="-1"), "lines.0.unit_price_excl_vat"),
        (line(price="0"), "lines.0.unit_price_excl_vat"),
        (line(price="1.001"), "lines.0.unit_price_excl_vat"),
        (line(invoice="  "), "lines.0.invoice_no"),
        (line(model=""), "lines.0.model"),
    ],
)
def test_invalid_line_names_field(bad, field):
    with pytest.raises(CalcInputError) as exc:
        robot_subsidy([bad], pilot_industry=False)
    assert exc.value.field == field


def test_other_invalid_inputs():
    with pytest.raises(CalcInputError) as exc:
        robot_subsidy([], pilot_industry=False)
    assert exc.value.field == "lines"
    with pytest.raises(CalcInputError) as exc:
        robot_subsidy([line()], pilot_industry=False, already_granted=D("-1"))
    assert exc.value.field == "already_granted"


robot_lines = st.lists(
    st.builds(
        lambda i, domestic, qty, price: RobotLine(f"M{i}", "Maker", domestic, qty, price, f"INV-{i}", date(2026, 1, 1)),
        st.integers(0, 10**6),
        st.booleans(),
        st.integers(1, 50),
        st.decimals(min_value=D("0.01"), max_value=D("2000000"), places=2),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda robot: robot.invoice_no,
)


@settings(max_examples=200, deadline=None)
@given(lines=robot_lines, pilot=st.booleans(), already=st.decimals(min_value=0, max_value=D("2500000"), places=2))
def test_property_total_bounded_by_rate_and_cap(lines, pilot, already):
    result = robot_subsidy(lines, pilot, already)
    cost = sum(robot.quantity * robot.unit_price_excl_vat for robot in lines)
    # Each line rounds by at most half a fen.
    assert result.total_subsidy <= cost * D("0.20") + D("0.005") * len(lines)
    assert result.total_subsidy <= result.cap_remaining_before == max(D(0), D(2000000) - already)
    assert result.total_subsidy == sum(lr.granted for lr in result.lines)
    assert all(0 <= lr.granted <= lr.subsidy for lr in result.lines)
    assert result.cap_applied is (result.uncapped_total > result.cap_remaining_before)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), lines=robot_lines, pilot=st.booleans(), already=st.decimals(min_value=0, max_value=D("2500000"), places=2))
def test_property_total_independent_of_line_order(data, lines, pilot, already):
    shuffled = data.draw(st.permutations(lines))
    a, b = robot_subsidy(lines, pilot, already), robot_subsidy(shuffled, pilot, already)
    assert (a.total_subsidy, a.uncapped_total, a.cap_applied) == (b.total_subsidy, b.uncapped_total, b.cap_applied)
