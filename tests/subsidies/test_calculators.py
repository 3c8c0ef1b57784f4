"""The public calculator pages, and that they give the same figures as the JSON API."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.factories import set_rule_parameters
from voucher.extensions import db

EN = {"Accept-Language": "en"}


def figures(page: str) -> dict:
    """The machine-readable figures of a result panel."""
    out = {name: value for name, value in re.findall(r'data-figure="(\w+)" data-value="([^"]*)"', page)}
    out["periods"] = [dict(zip(("days", "eligible_principal", "discount", "capped"), m)) for m in re.findall(
        r'data-period="\d+" data-days="(\d+)" data-eligible-principal="([^"]+)" data-discount="([^"]+)" '
        r'data-capped="(\w+)"', page)]
    out["lines"] = [dict(zip(("rate", "eligible_cost", "subsidy", "granted"), m)) for m in re.findall(
        r'data-line="\d+" data-rate="([^"]+)" data-eligible-cost="([^"]+)" data-subsidy="([^"]+)" '
        r'data-granted="([^"]+)"', page)]
    return out


def loan_query(body: dict) -> dict:
    query = {"action": "calculate", "benchmark_rate": body["benchmark_rate"], "loan_rate": body["loan_rate"]}
    for i, p in enumerate(body["periods"]):
        query.update({f"periods-{i}-{k}": v for k, v in p.items()})
    return query


def robot_query(body: dict) -> dict:
    query = {"action": "calculate", "already_granted": body["already_granted"]}
    if body["pilot_industry"]:
        query["pilot_industry"] = "y"
    for i, x in enumerate(body["lines"]):
        query.update({f"lines-{i}-model": x["model"], f"lines-{i}-quantity": str(x["quantity"]),
                      f"lines-{i}-unit_price_excl_vat": x["unit_price_excl_vat"], f"lines-{i}-invoice_no": x["invoice_no"],
                      f"lines-{i}-invoice_date": x["invoice_date"]})
        if x["domestic"]:
            query[f"lines-{i}-domestic"] = "y"
    return query


def period(start, end, principal, paid):
    return {"start": start, "end": end, "outstanding_principal": principal, "interest_paid": paid}


def line(model, domestic, quantity, price, invoice):
    return {"model": model, "domestic": domestic, "quantity": quantity, "unit_price_excl_vat": price,
            "invoice_no": invoice, "invoice_date": "2026-03-01"}


LOAN_CASES = {
    "worked example": {"benchmark_rate": "3.00", "loan_rate": "2.40",
                       "periods": [period("2026-01-01", "2026-04-01", "8000000.00", "48000.00")]},
    "principal and interest caps": {"benchmark_rate": "3.10", "loan_rate": "2.48", "periods": [
        period("2028-01-01", "2028-04-01", "12000000.00", "100000.00"),
        period("2028-04-01", "2028-07-01", "9000000.00", "30000.00")]},
    "ineligible": {"benchmark_rate": "3.00", "loan_rate": "2.41",
                   "periods": [period("2026-01-01", "2026-04-01", "8000000.00", "48000.00")]},
}
ROBOT_CASES = {
    "worked example": {"pilot_industry": True, "already_granted": "0.00", "lines": [
        line("ER20", True, 2, "150000.00", "A-1"), line("KR10", False, 1, "400000.00", "A-2")]},
    "enterprise cap": {"pilot_industry": True, "already_granted": "1950000.00", "lines": [
        line("ER20", True, 2, "150000.00", "A-1"), line("KR10", False, 1, "400000.00", "A-2")]},
    "no pilot industry, rounding": {"pilot_industry": False, "already_granted": "0.00", "lines": [
        line("SR6", True, 3, "33333.35", "B-1")]},
}


@pytest.mark.parametrize("case", list(LOAN_CASES))
def test_loan_calculator_page_and_api_give_identical_figures(client, case):
    body = LOAN_CASES[case]
    api = client.post("/api/v1/calculations/loan-discount", json=body).get_json()
    response = client.get("/subsidies/calculator/loan", query_string=loan_query(body), headers=EN)
    assert response.status_code == 200
    page = figures(response.get_data(as_text=True))
    assert page["eligible"] == ("true" if api["eligible"] else "false")
    assert page["rate_ceiling"] == api["rate_ceiling"]
    assert page["total_discount"] == api["total_discount"]
    assert page["periods"] == [{"days": str(p["days"]), "eligible_principal": p["eligible_principal"],
                                "discount": p["discount"], "capped": "true" if p["capped_by_interest_paid"] else "false"}
                               for p in api["periods"]]
    if case == "worked example":
        assert page["total_discount"] == "40000.00"
    if case == "principal and interest caps":
        # 10,000,000 × 2% × 91/360 = 50,555.56; 9,000,000 × 2% × 91/360 = 45,500.00 → capped at 30,000.00
        assert api["total_discount"] == "80555.56"


@pytest.mark.parametrize("case", list(ROBOT_CASES))
def test_robot_calculator_page_and_api_give_identical_figures(client, case):
    body = ROBOT_CASES[case]
    api = client.post("/api/v1/calculations/robot-subsidy", json=body).get_json()
    response = client.get("/subsidies/calculator/robot", query_string=robot_query(body), headers=EN)
    assert response.status_code == 200
    page = figures(response.get_data(as_text=True))
    assert page["total_subsidy"] == api["total_subsidy"]
    assert page["cap_applied"] == ("true" if api["cap_applied"] else "false")
    assert page["lines"] == [{k: x[k] for k in ("rate", "eligible_cost", "subsidy", "granted")} for x in api["lines"]]
    expected = {"worked example": "100000.00", "enterprise cap": "50000.00", "no pilot industry, rounding": "15000.01"}
    assert api["total_subsidy"] == expected[case]


def test_calculators_are_public_and_linked_from_the_welcome_page(client):
    for path in ("/subsidies/calculator/loan", "/subsidies/calculator/robot"):
        assert client.get(path).status_code == 200
    welcome = client.get("/").get_data(as_text=True)
    assert "/subsidies/calculator/loan" in welcome and "/subsidies/calculator/robot" in welcome


def test_loan_calculator_prefills_the_lpr_for_the_contract_date(client, lpr):
    page = client.get("/subsidies/calculator/loan", headers=EN).get_data(as_text=True)
    assert 'name="benchmark_rate" required type="text" value="3.00"' in page or 'value="3.00"' in page
    page = client.get("/subsidies/calculator/loan", query_string={"action": "lookup", "contract_date": "2025-01-10"},
                      headers=EN).get_data(as_text=True)
    assert 'data-figure="lpr" data-value="3.10"' in page
    assert re.search(r'id="benchmark_rate"[^>]*value="3.10"', page)
    # Benchmark left blank: the contract date's LPR is used.
    query = {**loan_query(LOAN_CASES["worked example"]), "benchmark_rate": "", "contract_date": "2025-06-01"}
    page = client.get("/subsidies/calculator/loan", query_string=query, headers=EN).get_data(as_text=True)
    assert figures(page)["total_discount"] == "40000.00"


def test_lookup_before_the_first_rate_says_so(client, lpr):
    response = client.get("/subsidies/calculator/loan", query_string={"action": "lookup", "contract_date": "2020-01-01"},
                          headers=EN)
    assert response.status_code == 422
    assert "the bureau&#39;s table starts on 2024-10-21" in response.get_data(as_text=True) or \
        "the bureau's table starts on 2024-10-21" in response.get_data(as_text=True)


def test_calculator_takes_a_programmes_parameters(client, db_conn):
    from tests.subsidies.conftest import build_programme

    programme = build_programme()
    set_rule_parameters(programme, loan_principal_cap=Decimal("5000000.00"))
    db.session.flush()
    query = {**loan_query(LOAN_CASES["worked example"]), "programme_id": str(programme.id)}
    page = client.get("/subsidies/calculator/loan", query_string=query, headers=EN).get_data(as_text=True)
    assert figures(page)["total_discount"] == "25000.00"  # 5,000,000 × 2% × 90/360


def test_bad_calculator_input_gets_a_message_per_field(client):
    query = loan_query(LOAN_CASES["worked example"])
    query.update({"loan_rate": "abc", "periods-0-end": "2025-12-01", "periods-0-interest_paid": "1.234"})
    response = client.get("/subsidies/calculator/loan", query_string=query, headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a number such as 2.40 (at most two decimals)." in page
    assert "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)." in page
    assert 'id="result"' not in page
    # Only the date is wrong: the calculation names the period's end.
    query = loan_query(LOAN_CASES["worked example"])
    query["periods-0-end"] = "2025-12-01"
    page = client.get("/subsidies/calculator/loan", query_string=query, headers=EN).get_data(as_text=True)
    assert "The end date must be after the start date (2026-01-01)." in page


def test_no_rows_filled_is_one_clear_message(client):
    response = client.get("/subsidies/calculator/robot", query_string={"action": "calculate"}, headers=EN)
    assert response.status_code == 422
    assert "Enter at least one robot line." in response.get_data(as_text=True)


def test_duplicate_invoice_in_the_calculator_names_the_line(client):
    body = {"pilot_industry": False, "already_granted": "0.00",
            "lines": [line("A", True, 1, "100.00", "Z-9"), line("B", True, 1, "100.00", "z-9")]}
    response = client.get("/subsidies/calculator/robot", query_string=robot_query(body), headers=EN)
    assert response.status_code == 422
    assert "Line 2 repeats the invoice number of line 1" in response.get_data(as_text=True)


def test_add_row_adds_a_blank_row(client):
    page = client.get("/subsidies/calculator/robot", query_string={"action": "add_row", "lines-0-model": "ER20"},
                      headers=EN).get_data(as_text=True)
    assert 'value="ER20"' in page
    default = client.get("/subsidies/calculator/robot", headers=EN).get_data(as_text=True)
    assert len(re.findall(r'name="lines-\d+-model"', page)) == len(re.findall(r'name="lines-\d+-model"', default)) + 1


def test_apply_with_these_figures_carries_the_calculator_inputs_into_the_application_form(client, programme, sme,
                                                                                          login):
    """The SME's "apply with these figures" opens the application form filled with what it calculated."""
    from html import unescape

    login(sme)
    query = {**loan_query(LOAN_CASES["worked example"]), "programme_id": str(programme.id)}
    page = client.get("/subsidies/calculator/loan", query_string=query).get_data(as_text=True)
    [href] = re.findall(r'href="([^"]+)" data-carries="calculator"', page)
    href = unescape(href)
    assert href.startswith("/subsidies/loans/new?") and "action=" not in href
    form = client.get(href, headers=EN)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'value="2.40"' in html or 'value="2.4"' in html  # the loan rate
    assert 'value="8000000.00"' in html and 'value="48000.00"' in html and 'value="2026-01-01"' in html
    assert "Filled in from the calculator" in html
    # Nothing was saved: the form still has to be completed and saved by the enterprise.
    from tests.subsidies.conftest import count
    from voucher.subsidies.models import LoanApplication

    assert count(LoanApplication) == 0


def test_the_robot_calculator_names_the_pilot_industries_and_carries_its_lines(client, programme, sme, login):
    from html import unescape

    from voucher.reference import INDUSTRIES

    login(sme)
    body = {"already_granted": "0", "pilot_industry": True,
            "lines": [line("ER20-1100", True, 2, "150000.00", "044001900111-12345678")]}
    page = client.get("/subsidies/calculator/robot", query_string={**robot_query(body), "programme_id": str(programme.id)},
                      headers=EN).get_data(as_text=True)
    assert "Pilot industries of the programme" in page
    assert programme.pilot_industries
    with client.application.test_request_context(headers=EN):
        from flask_babel import force_locale

        with force_locale("en"):
            names = [str(INDUSTRIES[c]) for c in programme.pilot_industries]
    assert all(name in page for name in names), names
    [href] = re.findall(r'href="([^"]+)" data-carries="calculator"', page)
    html = client.get(unescape(href), headers=EN).get_data(as_text=True)
    assert 'value="ER20-1100"' in html and 'value="150000.00"' in html and 'value="044001900111-12345678"' in html


@pytest.mark.parametrize("headers,words", [
    ({"Accept-Language": "en"}, ["10% for robots of other brands", "15% for domestic brands",
                                 "20% for domestic brands bought by an enterprise in a pilot industry"]),
    ({"Accept-Language": "zh-CN"}, ["非国产品牌机器人 10%", "国产品牌 15%", "试点行业企业购买的国产品牌 20%"]),
])
def test_the_robot_calculator_explains_the_tiers_in_words(client, db_conn, headers, words):
    page = client.get("/subsidies/calculator/robot", headers=headers).get_data(as_text=True)
    assert all(w in page for w in words), words


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31"])
def test_the_calculators_take_the_dates_the_application_forms_take(client, day):
    """A typo such as 0001-01-01 gave a period of 739,705 days: 422 naming the date, on the API and the page."""
    loan = dict(LOAN_CASES["worked example"], periods=[period(day, "2026-04-01", "8000000.00", "48000.00")])
    if day > "2026":
        loan["periods"] = [period("2026-01-01", day, "8000000.00", "48000.00")]
    response = client.post("/api/v1/calculations/loan-discount", json=loan, headers=EN)
    assert response.status_code == 422, response.get_json()
    [field] = response.get_json()["error"]["fields"]
    assert field in ("periods.0.start", "periods.0.end")
    assert "2000-01-01" in response.get_json()["error"]["fields"][field]
    robot = dict(ROBOT_CASES["worked example"])
    robot["lines"] = [dict(robot["lines"][0], invoice_date=day)]
    response = client.post("/api/v1/calculations/robot-subsidy", json=robot, headers=EN)
    assert response.status_code == 422
    assert "lines.0.invoice_date" in response.get_json()["error"]["fields"]
    page = client.get("/subsidies/calculator/loan", query_string=loan_query(loan), headers=EN)
    assert page.status_code == 422 and 'id="result"' not in page.get_data(as_text=True)
