"""The recovery amount as a pure calculation: whole, pro rata with its working, the refusals; and a
property: a pro-rata amount is never more than what may be recovered, never negative."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher.calc import CalcInputError, recovery_amount

D = Decimal


def test_whole_recovers_everything():
    r = recovery_amount(D("100000.00"), "whole")
    assert r.amount == D("100000.00")
    assert [s.code for s in r.steps] == ["base", "whole"]


def test_pro_rata_by_the_remaining_days_half_up_to_the_fen():
    # 1,096 days (2025-11-20 to 2028-11-20, a leap day inside); breach on 2026-11-20: 731 remain.
    r = recovery_amount(D("100000.00"), "pro_rata", starts_on=date(2025, 11, 20), ends_on=date(2028, 11, 20),
                        breach_on=date(2026, 11, 20))
    assert (r.total_days, r.remaining_days) == (1096, 731)
    assert r.amount == D("66697.08")  # 100000 × 731 / 1096 = 66697.0802… → 66697.08
    assert r.steps[-1].render() == "100000.00 × 731 ÷ 1096 = 66697.08 (rounded half-up to the fen)"


def test_a_half_fen_rounds_up():
    r = recovery_amount(D("0.01"), "pro_rata", starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 3),
                        breach_on=date(2026, 1, 2))
    assert r.amount == D("0.01")  # 0.005 → 0.01


def test_a_breach_before_the_start_recovers_everything():
    r = recovery_amount(D("900.00"), "pro_rata", starts_on=date(2026, 1, 10), ends_on=date(2026, 1, 20),
                        breach_on=date(2026, 1, 1))
    assert r.amount == D("900.00")


@pytest.mark.parametrize("kwargs, field", [
    ({"starts_on": date(2026, 1, 1), "ends_on": date(2026, 2, 1), "breach_on": date(2026, 2, 1)}, "breach_on"),
    ({"starts_on": date(2026, 1, 1), "ends_on": None, "breach_on": date(2026, 1, 5)}, "method"),
    ({"starts_on": date(2026, 1, 1), "ends_on": date(2026, 1, 1), "breach_on": date(2025, 1, 5)}, "ends_on"),
])
def test_pro_rata_refusals_name_the_field(kwargs, field):
    with pytest.raises(CalcInputError) as err:
        recovery_amount(D("100.00"), "pro_rata", **kwargs)
    assert err.value.field == field


def test_nothing_to_recover_is_refused():
    with pytest.raises(CalcInputError) as err:
        recovery_amount(D("0.00"), "whole")
    assert err.value.field == "recoverable"


@given(fen=st.integers(min_value=1, max_value=10 ** 11), start=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
       length=st.integers(min_value=1, max_value=3000), offset=st.integers(min_value=-100, max_value=2999))
def test_pro_rata_never_exceeds_the_recoverable_amount(fen, start, length, offset):
    base = D(fen) / 100
    end = start + timedelta(days=length)
    breach = start + timedelta(days=min(offset, length - 1))
    r = recovery_amount(base, "pro_rata", starts_on=start, ends_on=end, breach_on=breach)
    assert D("0.00") <= r.amount <= base
    assert r.amount == r.amount.quantize(D("0.01"))
    assert abs(r.amount - base * r.remaining_days / r.total_days) <= D("0.005")
