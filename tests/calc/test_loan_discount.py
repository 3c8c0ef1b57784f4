from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voucher.calc import CalcInputError, InterestPeriod, LoanParams, loan_discount

LPR = Decimal("3.00")


def period(start=date(2026, 1, 1), end=date(2026, 4, 1), outstanding="8000000", paid="48000.00"):
    return InterestPeriod(start, end, Decimal(outstanding), Decimal(paid))


def test_worked_example():
    result = loan_discount(LPR, Decimal("2.40"), [period()])
    assert result.eligible and result.reason is None
    assert result.rate_ceiling == Decimal("2.40")
    assert result.total_discount == Decimal("40000.00")
    (p,) = result.periods
    assert p.days == 90
    assert p.eligible_principal == Decimal("8000000") and not p.principal_capped
    assert p.discount == Decimal("40000.00") and not p.capped_by_interest_paid
    assert [s.code for s in result.working] == [
        "loan.ceiling",
        "loan.eligible",
        "loan.period.days",
        "loan.period.principal",
        "loan.period.discount",
        "loan.total",
    ]
    assert result.working[0].render() == "Rate ceiling = benchmark 3.00% × (1 − 20%) = 2.40%"
    assert "8000000.00 × 2% × 90 / 360 = 40000.00" in result.working[4].render()


def test_rate_above_ceiling_is_refused_with_the_ceiling_named():
    result = loan_discount(LPR, Decimal("2.50"), [period()])
    assert not result.eligible
    assert "2.40%" in result.reason and "2.50%" in result.reason
    assert result.total_discount == Decimal("0.00")
    assert result.periods == ()
    assert result.working[-1].code == "loan.ineligible"


@pytest.mark.parametrize(("rate", "eligible"), [("2.40", True), ("2.4000", True), ("2.41", False), ("2.401", False), ("0.01", True)])
def test_ceiling_is_compared_exactly(rate, eligible):
    assert loan_discount(LPR, Decimal(rate), [period()]).eligible is eligible


def test_ceiling_at_other_benchmark():
    result = loan_discount(Decimal("3.10"), Decimal("2.48"), [period()])
    assert result.eligible and result.rate_ceiling == Decimal("2.48")
    assert not loan_discount(Decimal("3.10"), Decimal("2.49"), [period()]).eligible


def test_principal_capped_at_ten_million():
    result = loan_discount(LPR, Decimal("2.40"), [period(outstanding="12000000", paid="100000.00")])
    (p,) = result.periods
    assert p.principal_capped and p.eligible_principal == Decimal("10000000")
    # 10,000,000 × 2% × 90 / 360
    assert p.discount == Decimal("50000.00")
    step = next(s for s in result.working if s.code == "loan.period.principal_cap")
    assert step.render() == (
        "Period 1: eligible principal = min(outstanding 12000000.00, cap 10000000.00) = 10000000.00"
    )


def test_discount_capped_at_interest_paid():
    result = loan_discount(LPR, Decimal("2.40"), [period(paid="35000.50")])
    (p,) = result.periods
    assert p.rounded_discount == Decimal("40000.00")
    assert p.capped_by_interest_paid and p.discount == Decimal("35000.50")
    assert p.interest_cap_reduction == Decimal("4999.50")
    assert result.total_discount == Decimal("35000.50")
    step = next(s for s in result.working if s.code == "loan.period.interest_cap")
    assert step.values["reduction"] == "4999.50"


def test_leap_day_counts_as_an_actual_day():
    result = loan_discount(LPR, Decimal("2.40"), [period(date(2028, 2, 1), date(2028, 3, 1), "3600000", "99999")])
    (p,) = result.periods
    assert p.days == 29
    # 3,600,000 × 2% × 29 / 360 = 5,800.00
    assert p.discount == Decimal("5800.00")


def test_each_period_rounded_half_up_then_summed():
    # 1,000,000.00 × 2% × 1/360 = 55.5555… → 55.56 per period; two such periods total 111.12, not round(111.111…)
    periods = [
        period(date(2026, 1, 1), date(2026, 1, 2), "1000000.00", "1000"),
        period(date(2026, 1, 2), date(2026, 1, 3), "1000000.00", "1000"),
    ]
    result = loan_discount(LPR, Decimal("2.40"), periods)
    assert [p.discount for p in result.periods] == [Decimal("55.56"), Decimal("55.56")]
    assert result.total_discount == Decimal("111.12")
    # 90.00 × 2% × 1/360 = 0.005, exactly half a fen → rounds up to 0.01
    half = loan_discount(LPR, Decimal("2.40"), [period(date(2026, 1, 1), date(2026, 1, 2), "90.00", "1")])
    assert half.periods[0].raw_discount == Decimal("0.005")
    assert half.total_discount == Decimal("0.01")


def test_custom_params():
    params = LoanParams(rate_margin_pct=Decimal("10"), subsidy_points=Decimal("1"), principal_cap=Decimal("5000000"), day_basis=365)
    result = loan_discount(LPR, Decimal("2.70"), [period(date(2026, 1, 1), date(2027, 1, 1), "8000000", "999999")], params)
    assert result.rate_ceiling == Decimal("2.70")
    assert result.total_discount == Decimal("50000.00")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"periods": [period(end=date(2026, 1, 1))]}, "periods.0.end"),
        ({"periods": [period(), period(end=date(2025, 12, 31))]}, "periods.1.end"),
        ({"periods": [period(outstanding="-1")]}, "periods.0.outstanding_principal"),
        ({"periods": [period(paid="-0.01")]}, "periods.0.interest_paid"),
        ({"periods": [period(paid="10.001")]}, "periods.0.interest_paid"),
        ({"periods": []}, "periods"),
        ({"loan_rate": Decimal("0")}, "loan_rate"),
        ({"loan_rate": Decimal("100.01")}, "loan_rate"),
        ({"loan_rate": 2.4}, "loan_rate"),
        ({"benchmark_rate": Decimal("-3")}, "benchmark_rate"),
    ],
)
def test_invalid_input_names_field(kwargs, field):
    args = {"benchmark_rate": LPR, "loan_rate": Decimal("2.40"), "periods": [period()]} | kwargs
    with pytest.raises(CalcInputError) as exc:
        loan_discount(**args)
    assert exc.value.field == field
    assert field in str(exc.value)


def test_end_before_start_error_carries_the_start_as_limit():
    with pytest.raises(CalcInputError) as exc:
        loan_discount(LPR, Decimal("2.40"), [period(end=date(2025, 6, 1))])
    assert exc.value.limit == date(2026, 1, 1)


amounts = st.decimals(min_value=0, max_value=20_000_000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def periods_strategy(draw):
    result = []
    for _ in range(draw(st.integers(1, 6))):
        start = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
        days = draw(st.integers(1, 400))
        result.append(InterestPeriod(start, start + timedelta(days=days), draw(amounts), draw(amounts)))
    return result


@settings(max_examples=200, deadline=None)
@given(periods=periods_strategy())
def test_property_period_discount_bounds(periods):
    result = loan_discount(LPR, Decimal("2.40"), periods)
    for p, source in zip(result.periods, periods):
        assert p.discount <= source.interest_paid
        assert p.eligible_principal <= Decimal("10000000")
        assert p.discount <= p.eligible_principal * 2 / 100 * p.days / 360 + Decimal("0.005")
        assert p.discount >= 0 and p.discount == p.discount.quantize(Decimal("0.01"))
    assert result.total_discount == sum(p.discount for p in result.periods)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), periods=periods_strategy())
def test_property_total_independent_of_period_order(data, periods):
    shuffled = data.draw(st.permutations(periods))
    assert loan_discount(LPR, Decimal("2.40"), shuffled).total_discount == loan_discount(LPR, Decimal("2.40"), periods).total_discount


def test_step_render_translates_the_template_before_filling_values():
    step = loan_discount(LPR, Decimal("2.40"), [period()]).working[0]
    assert step.values == {"benchmark": "3.00", "margin": "20", "ceiling": "2.40"}
    french = {step.text: "Plafond = {benchmark} % × (1 − {margin} %) = {ceiling} %"}
    assert step.render(french.get) == "Plafond = 3.00 % × (1 − 20 %) = 2.40 %"
    assert hash(step) == hash(loan_discount(LPR, Decimal("2.40"), [period()]).working[0])


# --- principal cap per enterprise and day (domain rules, section 10) ------------------------------------

from voucher.calc import PrincipalUse  # noqa: E402


def test_second_loan_over_the_same_days_is_discounted_only_on_what_remains_of_the_cap():
    first = loan_discount(Decimal("3.00"), Decimal("2.40"), [period()])
    assert first.total_discount == Decimal("40000.00")  # 8,000,000 × 2% × 90 / 360
    second = loan_discount(Decimal("3.00"), Decimal("2.40"), [period()],
                           already_subsidised=[PrincipalUse(date(2026, 1, 1), date(2026, 4, 1), Decimal("8000000.00"))])
    assert second.total_discount == Decimal("10000.00")  # 2,000,000 × 2% × 90 / 360
    p = second.periods[0]
    assert p.eligible_principal == Decimal("2000000.00") and len(p.segments) == 1
    texts = [s.render() for s in second.working]
    assert ("Period 1, 2026-01-01 to 2026-04-01 (90 days): the enterprise already receives the discount on "
            "8000000.00 of principal on these days under earlier approved claims; of the per-enterprise cap "
            "10000000.00 2000000.00 remains, so the eligible principal is 2000000.00") in texts
    assert "Period 1: discount = 2000000.00 × 2% × 90 / 360 = 10000.00, rounded to the fen = 10000.00" in texts


def test_partly_overlapping_claims_split_the_period_by_day():
    # Earlier claim: 8,000,000 from 2026-02-01 to 2026-03-01 (28 days) inside this 90-day period.
    result = loan_discount(Decimal("3.00"), Decimal("2.40"), [period()],
                           already_subsidised=[PrincipalUse(date(2026, 2, 1), date(2026, 3, 1), Decimal("8000000.00"))])
    p = result.periods[0]
    assert [(s.start, s.end, s.days, s.principal) for s in p.segments] == [
        (date(2026, 1, 1), date(2026, 2, 1), 31, Decimal("8000000.00")),
        (date(2026, 2, 1), date(2026, 3, 1), 28, Decimal("2000000.00")),
        (date(2026, 3, 1), date(2026, 4, 1), 31, Decimal("8000000.00")),
    ]
    # (8,000,000 × 31 + 2,000,000 × 28 + 8,000,000 × 31) × 2% / 360 = 30,666.666… → 30,666.67
    assert p.discount == Decimal("30666.67") == result.total_discount
    assert ("Period 1: discount = (8000000.00 × 31 + 2000000.00 × 28 + 8000000.00 × 31) × 2% / 360 = "
            "30666.666667, rounded to the fen = 30666.67") in [s.render() for s in result.working]


def test_the_cap_fully_used_leaves_nothing_and_uses_outside_the_period_change_nothing():
    full = loan_discount(Decimal("3.00"), Decimal("2.40"), [period()],
                         already_subsidised=[PrincipalUse(date(2025, 12, 1), date(2026, 5, 1), Decimal("6000000")),
                                             PrincipalUse(date(2026, 1, 1), date(2026, 4, 1), Decimal("4000000"))])
    assert full.total_discount == Decimal("0.00")
    outside = loan_discount(Decimal("3.00"), Decimal("2.40"), [period()],
                            already_subsidised=[PrincipalUse(date(2026, 4, 1), date(2026, 6, 1), Decimal("9000000"))])
    assert outside.total_discount == Decimal("40000.00") and outside.periods[0].segments == ()


@given(st.lists(st.tuples(st.integers(0, 120), st.integers(1, 120), st.integers(0, 12_000_000)), max_size=4))
def test_property_no_day_exceeds_the_cap(uses):
    start = date(2026, 1, 1)
    already = [PrincipalUse(start + timedelta(days=a), start + timedelta(days=a + n), Decimal(v)) for a, n, v in uses]
    result = loan_discount(Decimal("3.00"), Decimal("2.40"), [period(outstanding="9000000")], already_subsidised=already)
    p = result.periods[0]
    for seg in p.segments or ():
        assert seg.principal + min(seg.already_subsidised, Decimal(10_000_000)) <= Decimal(10_000_000) \
            or seg.principal == 0
    assert p.discount <= Decimal("45000.00")
