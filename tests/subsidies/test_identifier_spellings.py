"""Issue 14, "money rules bypassed by spelling": one invoice or one loan contract written
differently (full-width digits, zero-width or no-break space, inner spaces, en-dash, case) is the
same identifier, through the web form and through the API."""
from __future__ import annotations

import base64
import secrets

import pytest

from tests.api.conftest import Api, assert_error, token_for
from tests.subsidies.conftest import EN, PDF, count, loan_form, robot_form, robot_line
from voucher.subsidies.models import LoanApplication, RobotLineItem

INVOICE = "3300261109-00000001"
INVOICE_SPELLINGS = ["３３００２６１１０９－０００００００１",   # full-width digits and dash
                     "3300261109\u200b00000001",               # zero-width space
                     "3300261109\u00a000000001",               # no-break space
                     "3300 2611 09 0000 0001",                 # inner spaces
                     "3300261109\u201300000001"]               # en-dash
CONTRACT = "WZ-2025-0001"
CONTRACT_SPELLINGS = ["ＷＺ－２０２５－０００１", "WZ-2025\u200b-0001", "WZ\u20132025\u20130001", "wz-2025-0001"]


def post(client, url, data):
    return client.post(url, data=data, headers=EN, content_type="multipart/form-data")


@pytest.mark.parametrize("spelled", INVOICE_SPELLINGS)
def test_an_invoice_spelled_differently_is_already_claimed_in_the_form(client, sme, other_sme, programme, login, spelled):
    login(other_sme)
    assert post(client, "/subsidies/robots/new", robot_form(programme, robot_line(0, invoice=INVOICE))).status_code == 302
    login(sme)
    before = count(RobotLineItem)
    response = post(client, "/subsidies/robots/new", robot_form(programme, robot_line(0, invoice=spelled)))
    assert response.status_code == 422
    assert "is already claimed in another application" in response.get_data(as_text=True)
    assert count(RobotLineItem) == before


@pytest.mark.parametrize("spelled", CONTRACT_SPELLINGS)
def test_a_contract_spelled_differently_is_already_claimed_in_the_form(client, sme, programme, login, spelled):
    login(sme)
    assert post(client, "/subsidies/loans/new", loan_form(programme, contract_no=CONTRACT)).status_code == 302
    response = post(client, "/subsidies/loans/new", loan_form(programme, contract_no=spelled))
    assert response.status_code == 422
    assert "already claimed for this loan contract" in response.get_data(as_text=True)
    assert count(LoanApplication) == 1


def b64file(name):
    return {"filename": name, "content_base64": base64.b64encode(PDF).decode()}


def robot_body(programme, number):
    return {"programme_id": programme.id, "lines": [
        {"model": "ER20-1100", "manufacturer": "Estun", "domestic": True, "quantity": 1,
         "unit_price_excl_vat": "100000.00", "invoice_no": number, "invoice_date": "2026-03-01",
         "invoice_file": b64file("a.pdf")}]}


def loan_body(programme, contract):
    return {"idempotency_key": secrets.token_urlsafe(16), "programme_id": programme.id,
            "bank_name": "Bank of Wenzhou", "contract_no": contract, "contract_date": "2025-12-15",
            "principal": "8000000.00", "loan_rate": "2.40", "term_start": "2025-12-20", "term_end": "2027-12-19",
            "periods": [{"start": "2026-01-01", "end": "2026-04-01", "outstanding_principal": "8000000.00",
                         "interest_paid": "48000.00"}],
            "plan_file": b64file("plan.pdf"), "statement_file": b64file("statement.pdf")}


def test_the_issues_spellings_are_refused_through_the_api(client, sme, other_sme, programme):
    first, second = Api(client, token_for(other_sme)), Api(client, token_for(sme))
    assert first.post("/robot-applications", robot_body(programme, INVOICE)).status_code == 201
    for spelled in INVOICE_SPELLINGS + ["330026110900000001"]:
        error = assert_error(second.post("/robot-applications", robot_body(programme, spelled)), 422,
                             "lines.0.invoice_no")
        assert "already claimed" in error["fields"]["lines.0.invoice_no"]
    assert second.post("/loan-applications", loan_body(programme, CONTRACT)).status_code == 201
    for spelled in CONTRACT_SPELLINGS:
        error = assert_error(second.post("/loan-applications", loan_body(programme, spelled)), 422, "periods.0.start")
        assert "already claimed for this loan contract" in error["fields"]["periods.0.start"]


@pytest.mark.parametrize("number", ["33002611090001", "INV-A-001", "3300261109000000012"])
def test_an_invoice_of_another_shape_is_refused_with_the_expected_shape(client, sme, programme, number):
    api = Api(client, token_for(sme))
    error = assert_error(api.post("/robot-applications", robot_body(programme, number)), 422, "lines.0.invoice_no")
    message = error["fields"]["lines.0.invoice_no"]
    assert "is not a VAT invoice number" in message and "(10 or 12 digits)" in message and "20-digit" in message


def test_the_shape_message_is_translated(client, sme, programme):
    api = Api(client, token_for(sme), lang="zh")
    error = assert_error(api.post("/robot-applications", robot_body(programme, "33002611090001")), 422,
                         "lines.0.invoice_no")
    assert "不是增值税发票号码" in error["fields"]["lines.0.invoice_no"]


def test_dates_before_2000_are_refused(client, sme, programme):
    api = Api(client, token_for(sme))
    body = robot_body(programme, INVOICE)
    body["lines"][0]["invoice_date"] = "1900-01-01"
    error = assert_error(api.post("/robot-applications", body), 422, "lines.0.invoice_date")
    assert "cannot be before 2000-01-01" in error["fields"]["lines.0.invoice_date"]
    error = assert_error(api.post("/loan-applications", {**loan_body(programme, CONTRACT), "contract_date": "1900-01-01"}),
                         422, "contract_date")
    assert "cannot be before 2000-01-01" in error["fields"]["contract_date"]
