"""Whatever arrives, the calculators answer 200 or a 4xx in the API's error shape — never a 500."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

decimal_text = st.one_of(st.decimals(min_value=-1000, max_value=10**13, allow_nan=False, places=3).map(str),
                         st.decimals(min_value=0, max_value=10**9, places=2).map(str),
                         st.sampled_from(["NaN", "-Infinity", "sNaN", "1e5", "1_000", " 2.40 ", "+1"]))
junk = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=True),
                 st.text(max_size=12), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                          st.integers(), max_size=2))
money = st.one_of(decimal_text, st.sampled_from(["0.00", "48000.00", "8000000.00", "12000000.00"]), junk)
rate = st.one_of(st.sampled_from(["3.00", "2.40", "2.41", "100", "0.01"]), decimal_text, junk)
day = st.one_of(st.dates().map(lambda d: d.isoformat()), st.sampled_from(["2026-02-30", "2028-02-29", ""]), junk)


def maybe(strategies: dict):
    """A dict with each key present or not, plus now and then an unknown key."""
    return st.fixed_dictionaries({}, optional={**strategies, "extra": junk})


period = maybe({"start": day, "end": day, "outstanding_principal": money, "interest_paid": money})
loan = maybe({"benchmark_rate": rate, "loan_rate": rate, "programme_id": junk,
              "periods": st.one_of(st.lists(period, max_size=3), junk)})
line = maybe({"model": st.one_of(st.text(max_size=5), junk), "manufacturer": st.one_of(st.text(max_size=5), junk),
              "domestic": st.one_of(st.booleans(), junk), "quantity": st.one_of(st.integers(-2, 20000), junk),
              "unit_price_excl_vat": money, "invoice_no": st.one_of(st.sampled_from(["A", "a ", "B"]), junk),
              "invoice_date": day})
robot = maybe({"pilot_industry": st.one_of(st.booleans(), junk), "already_granted": money,
               "lines": st.one_of(st.lists(line, max_size=3), junk), "programme_id": junk})
sme = maybe({"employees": st.one_of(st.integers(-5, 10**8), junk), "annual_revenue": money})

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check(response):
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)[:500]
    body = response.get_json()
    if response.status_code != 200:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
        assert body["error"]["fields"], body


@FUZZ
@given(body=loan)
def test_loan_discount_never_fails_with_a_server_error(client, body):
    check(client.post("/api/v1/calculations/loan-discount", json=body))


@FUZZ
@given(body=robot)
def test_robot_subsidy_never_fails_with_a_server_error(client, body):
    check(client.post("/api/v1/calculations/robot-subsidy", json=body))


@FUZZ
@given(body=st.one_of(sme, junk))
def test_sme_class_never_fails_with_a_server_error(client, body):
    check(client.post("/api/v1/calculations/sme-class", json=body))
