"""``GET /api/v1/statistics``: the figures of the web page /statistics (voucher.dashboard.figures) for other
systems — the same numbers, money as exact two-decimal strings, narrowed by ``programme_id``, for the roles of
the page only (officer, finance, auditor)."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from tests.api.conftest import Api, assert_error, token_for
from tests.factories import ledger_history
from voucher.applications.models import APPLICATION_STATES
from voucher.dashboard import figures
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import Programme

MONEY = re.compile(r"^-?[0-9]+\.[0-9]{2}$")


def yuan(value: Decimal) -> str:
    return f"{value:.2f}"


def expected(programme_id: int | None) -> dict:
    """The response's figures built straight from voucher.dashboard.figures (what the web page draws)."""
    counts = figures.application_status_counts(programme_id)
    adoption = figures.adoption(programme_id)

    def groups(rows, key):
        return [{key: g.code, "committed": yuan(g.committed), "reserved": yuan(g.reserved), "paid": yuan(g.paid)}
                for g in rows]

    return {
        "fund_by_month": [{"month": m.month, "reserved": yuan(m.reserved), "released": yuan(m.released),
                           "paid": yuan(m.paid)} for m in figures.fund_by_month(programme_id)],
        "fund_by_district": groups(figures.fund_by_district(programme_id), "district"),
        "fund_by_industry": groups(figures.fund_by_industry(programme_id), "industry"),
        "fund_by_kind": groups(figures.fund_by_kind(programme_id), "kind"),
        "trial_outcomes": figures.trial_outcomes(programme_id),
        "adoption": {**adoption, "rate": None if adoption["rate"] is None else f"{adoption['rate']:.1f}"},
        "application_status_counts": {s: counts.get(s, 0) for s in APPLICATION_STATES},
    }


def money_strings(body: dict) -> list[str]:
    out = []
    for key in ("fund_by_month", "fund_by_district", "fund_by_industry", "fund_by_kind"):
        for row in body[key]:
            out += [row[f] for f in ("reserved", "released", "paid", "committed") if f in row]
    return out


@pytest.fixture()
def demo(ctx):
    from voucher.demo import seed

    seed()
    db.session.commit()
    from voucher.demo_activity import demo_programme

    return demo_programme()


def demo_api(client, role: str) -> Api:
    """A token of the demo user of ``role``, got as any client gets one (POST /auth/token)."""
    response = client.post("/api/v1/auth/token", json={"email": f"{role}@demo.test", "password": f"demo-{role}-pass"},
                           headers={"Accept-Language": "en"})
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]
    return Api(client, response.get_json()["token"])


@pytest.fixture()
def second(ctx, make_org):
    """A second programme whose ledger has odd amounts in March, May and June 2026 for two enterprises of
    districts and industries the demo data does not use for these amounts."""
    programme = Programme(name="统计接口测试项目", year=2026, budget=Decimal("50000000.00"), opens_on=date(2026, 1, 1),
                          closes_on=date(2026, 12, 31))
    db.session.add(programme)
    db.session.flush()
    from voucher.programmes.rule_versions import ensure_first_version
    ensure_first_version(programme)  # version 1, as create_programme makes it
    db.session.flush()
    ouhai = make_org("enterprise", district="ouhai", industry="clothing")
    ruian = make_org("enterprise", district="ruian", industry="auto_parts")
    steps = [("2026-03-10 10:00", "reserve", ouhai, "trial_voucher", "100000.01", 901),
             ("2026-03-31 23:30", "reserve", ruian, "robot_subsidy", "1234567.91", 902),  # local March
             ("2026-05-05 10:00", "pay", ouhai, "trial_voucher", "30000.10", 901),
             ("2026-06-30 17:00", "release", ouhai, "trial_voucher", "0.07", 901)]
    ledger_history(programme.id, steps)
    db.session.commit()
    return programme


# --- the figures --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["officer", "finance", "auditor"])
def test_the_figures_are_the_dashboards_figures_for_the_demo_data(demo, client, role):
    api = demo_api(client, role)
    for query, programme_id in (("", None), (f"?programme_id={demo.id}", demo.id)):
        response = api.get(f"/statistics{query}")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        body = response.get_json()
        want = expected(programme_id)
        assert {k: v for k, v in body.items() if k != "programme"} == want
        assert body["programme"] == (None if programme_id is None else
                                     {"id": demo.id, "name": demo.name, "year": demo.year})
    # The demo data really has figures in every part (so the comparison above compares something).
    assert body["fund_by_month"] and body["fund_by_district"] and body["fund_by_industry"] and body["fund_by_kind"]
    assert body["trial_outcomes"] == {"passed": 2, "failed": 1, "pending": 3, "waiting": 1}
    assert body["adoption"] == {"adopted": 1, "declined": 1, "waiting": 1, "rate": "50.0"}
    assert sum(body["application_status_counts"].values()) > 0
    # Money is never a number: every amount a decimal string with exactly two decimals.
    assert all(isinstance(v, str) and MONEY.match(v) for v in money_strings(body))
    # committed = reserved + paid, and the kinds add up to the ledger's own totals.
    for row in body["fund_by_kind"]:
        assert Decimal(row["committed"]) == Decimal(row["reserved"]) + Decimal(row["paid"])
    totals = ledger.balances(demo)
    assert sum(Decimal(r["reserved"]) for r in body["fund_by_kind"]) == totals.reserved
    assert sum(Decimal(r["paid"]) for r in body["fund_by_kind"]) == totals.paid


def test_amounts_are_exact_two_decimal_strings(second, api_as):
    body = api_as("finance").get(f"/statistics?programme_id={second.id}").get_json()
    assert body["programme"] == {"id": second.id, "name": "统计接口测试项目", "year": 2026}
    assert body["fund_by_month"] == [
        {"month": "2026-03", "reserved": "1334567.92", "released": "0.00", "paid": "0.00"},
        {"month": "2026-04", "reserved": "0.00", "released": "0.00", "paid": "0.00"},
        {"month": "2026-05", "reserved": "0.00", "released": "0.00", "paid": "30000.10"},
        {"month": "2026-06", "reserved": "0.00", "released": "0.07", "paid": "0.00"}]
    assert body["fund_by_district"] == [
        {"district": "ruian", "committed": "1234567.91", "reserved": "1234567.91", "paid": "0.00"},
        {"district": "ouhai", "committed": "99999.94", "reserved": "69999.84", "paid": "30000.10"}]
    assert body["fund_by_industry"] == [
        {"industry": "auto_parts", "committed": "1234567.91", "reserved": "1234567.91", "paid": "0.00"},
        {"industry": "clothing", "committed": "99999.94", "reserved": "69999.84", "paid": "30000.10"}]
    assert body["fund_by_kind"] == [
        {"kind": "robot_subsidy", "committed": "1234567.91", "reserved": "1234567.91", "paid": "0.00"},
        {"kind": "trial_voucher", "committed": "99999.94", "reserved": "69999.84", "paid": "30000.10"}]
    # No trial or application in this programme: zeros, and no adoption rate yet.
    assert body["trial_outcomes"] == {"passed": 0, "failed": 0, "pending": 0, "waiting": 0}
    assert body["adoption"] == {"adopted": 0, "declined": 0, "waiting": 0, "rate": None}
    assert body["application_status_counts"] == {s: 0 for s in APPLICATION_STATES}
    assert {k: v for k, v in body.items() if k != "programme"} == expected(second.id)


def test_the_programme_filter_narrows_the_figures(demo, second, api_as):
    api = api_as("officer")
    everything = api.get("/statistics").get_json()
    only_demo = api.get(f"/statistics?programme_id={demo.id}").get_json()
    only_second = api.get(f"/statistics?programme_id={second.id}").get_json()
    assert only_second != only_demo
    for body, programme_id in ((everything, None), (only_demo, demo.id), (only_second, second.id)):
        assert {k: v for k, v in body.items() if k != "programme"} == expected(programme_id)

    def by(body, part, key):
        return {row[key]: Decimal(row["committed"]) for row in body[part]}

    # Every programme together = the sum of the two; each filter sees only its own programme's entries.
    for part, key in (("fund_by_kind", "kind"), ("fund_by_district", "district"), ("fund_by_industry", "industry")):
        both, a, b = by(everything, part, key), by(only_demo, part, key), by(only_second, part, key)
        assert both == {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}, part
    assert by(only_second, "fund_by_kind", "kind") == {"robot_subsidy": Decimal("1234567.91"),
                                                       "trial_voucher": Decimal("99999.94")}
    assert Decimal("1234567.91") not in by(only_demo, "fund_by_kind", "kind").values()
    # The trials and applications are the demo programme's only.
    assert everything["trial_outcomes"] == only_demo["trial_outcomes"] != only_second["trial_outcomes"]
    assert everything["application_status_counts"] == only_demo["application_status_counts"]
    assert only_second["application_status_counts"] == {s: 0 for s in APPLICATION_STATES}


# --- access and refusals --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "admin"])
def test_other_roles_are_refused_with_403(demo, client, role):
    api = demo_api(client, role)
    for path in ("/statistics", f"/statistics?programme_id={demo.id}"):
        error = assert_error(api.get(path), 403, code="forbidden")
        assert "committed" not in error["message"]


def test_without_a_valid_token_it_is_401(client, make_user, login):
    for api in (Api(client), Api(client, "vch_not-a-real-token")):
        response = api.get("/statistics")
        assert_error(response, 401, code="unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # A browser session is not a credential for the API.
    login(make_user("officer"))
    assert_error(client.get("/api/v1/statistics", headers={"Accept-Language": "en"}), 401)


def test_an_unknown_programme_is_404_and_a_malformed_one_422(api_as):
    api = api_as("auditor")
    assert_error(api.get("/statistics?programme_id=99999999"), 404, code="not_found")
    for bad in ("abc", "0", "-1", "1.5", "", "99999999999", "%00"):
        assert_error(api.get(f"/statistics?programme_id={bad}"), 422, "programme_id", code="validation_failed")


def test_the_openapi_document_declares_the_operation(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/statistics"]["get"]
    assert op["x-roles"] == ["officer", "finance", "auditor"]
    assert op["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "403", "404", "422"} <= set(op["responses"])
    assert [p["name"] for p in op["parameters"]] == ["programme_id"]
    month = spec["components"]["schemas"]["MonthFigures"]["properties"]
    assert month["paid"] == {"type": "string", "format": "decimal", "description": "Payments (yuan)"}


@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "officer", "finance", "auditor", "admin"])
def test_the_api_answers_the_roles_of_the_web_page(client, make_user, login, role):
    """Each role gets from the API what it gets from the web page /statistics: 200 or 403."""
    user = make_user(role)
    page = login(user).get("/statistics").status_code
    api = Api(client, token_for(user)).get("/statistics")
    assert page in (200, 403) and api.status_code == page, (role, page, api.status_code)
    assert (page == 200) == (role in ("officer", "finance", "auditor"))
    if page == 403:
        assert_error(api, 403, code="forbidden")
