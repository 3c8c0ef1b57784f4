from decimal import Decimal

import pytest

from voucher.calc import CalcInputError, SizeThresholds, classify_enterprise

M = Decimal(1_000_000)


@pytest.mark.parametrize(
    ("employees", "revenue", "expected"),
    [
        # small / micro: 20 employees and 3M revenue
        (19, Decimal("3000000"), "micro"),
        (20, Decimal("3000000"), "small"),
        (20, Decimal("2999999.99"), "micro"),
        (299, 20 * M, "small"),
        # medium: 300 employees and 20M revenue
        (300, 20 * M, "medium"),
        (300, Decimal("19999999.99"), "small"),
        (999, 400 * M, "medium"),
        # large: 1000 employees and 400M revenue, both required
        (1000, 400 * M, "large"),
        (1000, Decimal("399999999.99"), "medium"),
        (5000, 10 * M, "small"),
        (0, Decimal(0), "micro"),
    ],
)
def test_boundaries(employees, revenue, expected):
    result = classify_enterprise(employees, revenue)
    assert result.size_class == expected
    assert result.is_sme is (expected != "large")
    assert result.working[-1].code == "size.result"


def test_working_shows_each_tier_tried_until_one_matches():
    result = classify_enterprise(1000, Decimal("399999999.99"))
    assert [s.code for s in result.working] == ["size.large", "size.medium", "size.result"]
    assert "not met" in result.working[0].render()
    assert "399999999.99" in result.working[0].render()
    assert result.working[1].render().endswith("— met")


def test_custom_thresholds():
    thresholds = SizeThresholds(small_employees=10, small_revenue=Decimal("1000000"))
    assert classify_enterprise(10, Decimal("1000000"), thresholds).size_class == "small"
    assert classify_enterprise(10, Decimal("1000000")).size_class == "micro"


@pytest.mark.parametrize(
    ("employees", "revenue", "field"),
    [(-1, Decimal(0), "employees"), (10, Decimal("-0.01"), "annual_revenue"), (10, 1.5, "annual_revenue"), (2.0, Decimal(0), "employees")],
)
def test_invalid_input_names_field(employees, revenue, field):
    with pytest.raises(CalcInputError) as exc:
        classify_enterprise(employees, revenue)
    assert exc.value.field == field
