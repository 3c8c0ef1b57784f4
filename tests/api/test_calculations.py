"""The JSON calculators: the domain's worked examples exactly, one error shape naming each bad
field, the programme's parameters, and the API's place in the app (OpenAPI, CSRF, HTML pages)."""
from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from tests.factories import set_rule_parameters
from voucher.extensions import db
from voucher.programmes.models import Programme

EN = {"Accept-Language": "en"}

LOAN = {"benchmark_rate": "3.00", "loan_rate": "2.40",
        "periods": [{"start": "2026-01-01", "end": "2026-04-01", "outstanding_principal": "8000000.00",
                     "interest_paid": "48000.00"}]}
ROBOT = {"pilot_industry": True, "already_granted": "0.00", "lines": [
    {"model": "ER20-1100", "manufacturer": "Estun", "domestic": True, "quantity": 2, "unit_price_excl_vat": "150000.00",
     "invoice_no": "A-001", "invoice_date": "2026-03-01"},
    {"model": "KR10", "domestic": False, "quantity": 1, "unit_price_excl_vat": "400000.00", "invoice_no": "A-002",
     "invoice_date": "2026-03-02"}]}


def post(client, path, body):
    return client.post(f"/api/v1/calculations/{path}", json=body, headers=EN)


def assert_error_shape(response, status, *fields):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    for field in fields:
        assert field in body["error"]["fields"], body
        assert body["error"]["fields"][field]
    return body["error"]


def test_sme_class_worked_example(client):
    response = post(client, "sme-class", {"employees": 120, "annual_revenue": "15000000.00"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["size_class"] == "small" and body["is_sme"] is True
    assert [s["code"] for s in body["working"]] == ["size.large", "size.medium", "size.small", "size.result"]


def test_loan_discount_worked_example_exactly(client):
    body = post(client, "loan-discount", LOAN).get_json()
    assert body["eligible"] is True
    assert body["rate_ceiling"] == "2.40"
    assert body["total_discount"] == "40000.00"
    assert body["periods"] == [{"start": "2026-01-01", "end": "2026-04-01", "days": 90,
                                "outstanding_principal": "8000000.00", "eligible_principal": "8000000.00",
                                "principal_capped": False, "interest_paid": "48000.00", "discount": "40000.00",
                                "capped_by_interest_paid": False}]
    assert "reason" not in body
    assert body["working"][-1] == {"code": "loan.total", "text": "Total discount = sum of the rounded period discounts "
                                   "= 40000.00", "values": {"total": "40000.00"}}
    assert body["parameters"] == {"rate_margin_pct": "20", "subsidy_points": "2", "principal_cap": "10000000",
                                  "day_basis": 360}


def test_ineligible_loan_gives_eligible_false_a_reason_and_zero(client):
    body = post(client, "loan-discount", {**LOAN, "loan_rate": "2.50"}).get_json()
    assert body["eligible"] is False
    assert body["total_discount"] == "0.00"
    assert body["periods"] == []
    assert "2.50% is above the rate ceiling 2.40%" in body["reason"]


def test_robot_subsidy_worked_example_exactly(client):
    body = post(client, "robot-subsidy", ROBOT).get_json()
    assert body["total_subsidy"] == "100000.00"
    assert body["cap_applied"] is False
    assert [{k: x[k] for k in ("rate", "eligible_cost", "subsidy")} for x in body["lines"]] == [
        {"rate": "20.00", "eligible_cost": "300000.00", "subsidy": "60000.00"},
        {"rate": "10.00", "eligible_cost": "400000.00", "subsidy": "40000.00"}]
    assert body["working"][-1]["code"] == "robot.total"


def test_robot_subsidy_cap_applied(client):
    body = post(client, "robot-subsidy", {**ROBOT, "already_granted": "1950000.00"}).get_json()
    assert body["total_subsidy"] == "50000.00" and body["cap_applied"] is True
    assert [x["granted"] for x in body["lines"]] == ["50000.00", "0.00"]
    assert "robot.cap.line" in [s["code"] for s in body["working"]]


def _with(base, path, value):
    body = copy.deepcopy(base)
    target = body
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return body


@pytest.mark.parametrize(("path", "value", "field"), [
    ("loan_rate", KeyError, "loan_rate"),                                     # missing field
    ("periods.0.outstanding_principal", "-1.00", "periods.0.outstanding_principal"),   # negative amount
    ("periods.0.end", "2025-12-01", "periods.0.end"),                          # end before start
    ("periods.0.interest_paid", "abc", "periods.0.interest_paid"),            # not a number
    ("benchmark_rate", "101", "benchmark_rate"),                              # rate over 100
    ("periods.0.outstanding_principal", "8000000.001", "periods.0.outstanding_principal"),  # 3 decimals
    ("periods.0.interest_paid", "NaN", "periods.0.interest_paid"),
    ("loan_rate", "Infinity", "loan_rate"),
    ("loan_rate", "0", "loan_rate"),
    ("loan_rate", 2.4, "loan_rate"),                                           # a float, not a decimal string
    ("periods.0.interest_paid", "1e5", "periods.0.interest_paid"),
    ("periods.0.interest_paid", "４８０００.００１", "periods.0.interest_paid"),  # full-width, three decimals
    ("periods.0.interest_paid", "4万万", "periods.0.interest_paid"),           # two multipliers
    ("loan_rate", "2.4万", "loan_rate"),                                      # a multiplier on a rate
    ("periods.0.start", "2026-02-30", "periods.0.start"),
    ("periods", [], "periods"),
    ("periods.0.surprise", "x", "periods.0.surprise"),
    ("programme_id", "1", "programme_id"),
])
def test_malformed_loan_input_is_a_4xx_naming_the_field(client, path, value, field):
    error = assert_error_shape(post(client, "loan-discount", _with(LOAN, path, value)), 422, field)
    assert error["code"] == "validation_failed"


@pytest.mark.parametrize(("path", "value", "field"), [
    ("lines.0.quantity", 0, "lines.0.quantity"),
    ("lines.0.quantity", "2", "lines.0.quantity"),
    ("lines.1.unit_price_excl_vat", "0.00", "lines.1.unit_price_excl_vat"),
    ("lines.1.unit_price_excl_vat", "-5", "lines.1.unit_price_excl_vat"),
    ("lines.0.model", "  ", "lines.0.model"),
    ("lines.0.invoice_date", "yesterday", "lines.0.invoice_date"),
    ("already_granted", "abc", "already_granted"),
    ("already_granted", None, "already_granted"),
    ("lines.1.invoice_no", KeyError, "lines.1.invoice_no"),
    ("lines.1.invoice_no", " a-001 ", "lines.1.invoice_no"),                  # the same invoice twice (from calc)
])
def test_malformed_robot_input_is_a_4xx_naming_the_field(client, path, value, field):
    assert_error_shape(post(client, "robot-subsidy", _with(ROBOT, path, value)), 422, field)


def test_several_bad_fields_are_each_named(client):
    body = {"benchmark_rate": "abc", "periods": [{"start": "2026-01-01", "end": "2025-01-01",
                                                  "outstanding_principal": "-1", "interest_paid": "1.001"}]}
    error = assert_error_shape(post(client, "loan-discount", body), 422, "benchmark_rate", "loan_rate",
                               "periods.0.outstanding_principal", "periods.0.interest_paid")
    assert len(error["fields"]) >= 4


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", "null"])
def test_a_body_that_is_not_a_json_object_is_refused_in_the_shape(client, raw):
    response = client.post("/api/v1/calculations/loan-discount", data=raw, content_type="application/json", headers=EN)
    assert response.status_code in (400, 422)
    assert_error_shape(response, response.status_code)


def test_sme_class_bad_input(client):
    error = assert_error_shape(post(client, "sme-class", {"employees": -1, "annual_revenue": "1.234"}), 422,
                               "employees", "annual_revenue")
    assert error["code"] == "validation_failed"


def test_programme_id_takes_that_programmes_parameters(client, db_conn):
    from tests.subsidies.conftest import build_programme

    programme = build_programme()
    base = post(client, "loan-discount", {**LOAN, "programme_id": programme.id}).get_json()
    assert base["total_discount"] == "40000.00"
    set_rule_parameters(programme, loan_subsidy_points=Decimal("1.50"), robot_pilot_domestic_rate=Decimal("18.00"))
    db.session.flush()
    changed = post(client, "loan-discount", {**LOAN, "programme_id": programme.id}).get_json()
    assert changed["total_discount"] == "30000.00"  # 8,000,000 × 1.5% × 90/360
    assert changed["parameters"]["subsidy_points"] == "1.50"
    robot = post(client, "robot-subsidy", {**ROBOT, "programme_id": programme.id}).get_json()
    assert robot["lines"][0]["rate"] == "18.00" and robot["total_subsidy"] == "94000.00"
    # Without programme_id: the defaults.
    assert post(client, "loan-discount", LOAN).get_json()["total_discount"] == "40000.00"


def test_unknown_programme_is_named(client, db_conn):
    missing = (db.session.query(db.func.max(Programme.id)).scalar() or 0) + 1000
    assert_error_shape(post(client, "loan-discount", {**LOAN, "programme_id": missing}), 422, "programme_id")


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.0.3"
    assert (spec["info"]["title"], spec["info"]["version"]) == ("voucher API", "v1")
    for path in ("sme-class", "loan-discount", "robot-subsidy"):
        assert f"/api/v1/calculations/{path}" in spec["paths"]
    assert "error" in spec["components"]["schemas"]["ErrorResponse"]["properties"]
    props = spec["components"]["schemas"]["PeriodRequest"]["properties"]
    assert props["outstanding_principal"]["type"] == "string"


def test_api_posts_need_no_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert post(client, "loan-discount", LOAN).status_code == 200
        # The HTML forms stay protected.
        assert client.post("/lang", data={"lang": "en"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_http_errors_under_the_api_use_the_shape_and_pages_stay_html(client):
    error = assert_error_shape(client.get("/api/v1/calculations/nothing-here", headers=EN), 404)
    assert error["code"] == "not_found"
    assert_error_shape(client.get("/api/v1/calculations/loan-discount", headers=EN), 405)
    page = client.get("/no-such-page", headers=EN)
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_messages_follow_the_request_language(client):
    body = {**LOAN, "loan_rate": "abc"}
    english = client.post("/api/v1/calculations/loan-discount", json=body, headers=EN).get_json()
    chinese = client.post("/api/v1/calculations/loan-discount", json=body,
                          headers={"Accept-Language": "zh-CN"}).get_json()
    assert english["error"]["fields"]["loan_rate"] != chinese["error"]["fields"]["loan_rate"]
    reason = client.post("/api/v1/calculations/loan-discount", json={**LOAN, "loan_rate": "2.50"},
                         headers={"Accept-Language": "zh-CN"}).get_json()["reason"]
    assert "2.50" in reason and "2.40" in reason and "above" not in reason
