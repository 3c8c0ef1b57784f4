"""The benefits API (免申即享): the enterprise's own candidates with amount, working and evidence, its
decline and its confirm (the application created by the same services as the page, the materials still
missing listed, then attached and submitted through the subsidies API); the bureau's list with filters,
the imports with their SHA-256 and the figures by district and industry; 403 for every other role and
for another enterprise's candidate, 404 for unknown ids, refused fields named in the API's error shape.

On the benefits tests' seeded sources (tests/benefits/conftest.py: a clock frozen on 2026-06-15, five
enterprises, the three kinds of source imported by an officer)."""
from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.api.conftest import PDF, Api, assert_error, token_for
from tests.benefits.conftest import INVOICE_HEAD, TODAY, frozen, seeded  # noqa: F401 (fixtures)
from tests.factories import fresh_user
from voucher.benefits.matching import match_candidates
from voucher.benefits.models import BenefitCandidate, BenefitSource
from voucher.extensions import db

FILE = {"filename": "invoice.pdf", "content_base64": base64.b64encode(PDF).decode()}


@pytest.fixture()
def matched(seeded, client):  # noqa: F811
    match_candidates(seeded.officer, TODAY)
    seeded.api = lambda user: Api(client, token_for(user))
    return seeded


def _candidate(org, kind) -> BenefitCandidate:
    return db.session.scalars(select(BenefitCandidate).where(BenefitCandidate.enterprise_id == org.id,
                                                             BenefitCandidate.kind == kind)).one()


def test_the_enterprise_lists_and_reads_only_its_own_candidates(matched):
    api = matched.api(fresh_user("sme", matched.a))
    listed = api.get("/benefit-candidates")
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert {(i["kind"], i["amount"]) for i in items} == {("robot", "124691.36"), ("loan", "50000.00")}
    assert {i["enterprise"]["id"] for i in items} == {matched.a.id}
    assert listed.get_json()["pagination"]["total"] == 2
    for item in items:  # the list carries each candidate's working and evidence too
        assert item["working"] and {"registered", "sme", "programme_open"} <= {e["condition"] for e in item["evidence"]}
        assert item["exclusion"] is None
    assert [i["kind"] for i in api.get("/benefit-candidates?kind=loan").get_json()["items"]] == ["loan"]

    robot = _candidate(matched.a, "robot")
    detail = api.get(f"/benefit-candidates/{robot.id}").get_json()
    assert detail["amount"] == "124691.36" and detail["status"] == "open"
    assert detail["allowed_actions"] == ["confirm", "decline"]
    assert len(detail["working"]) >= 2 and all(step["text"] for step in detail["working"])
    invoices = [e for e in detail["evidence"] if e["condition"] == "invoice"]
    assert [e["values"]["invoice_no"] for e in invoices] == ["3300261130-00010001", "3300261130-00010002",
                                                             "3300261130-00010003"]
    assert all(e["source_id"] and e["row_number"] for e in invoices)
    assert detail["exclusion"] is None and detail["application"] is None

    # Another enterprise's candidate: 403; an unknown id: 404; its own excluded candidate is never shown.
    other = _candidate(matched.b, "robot")
    assert_error(api.get(f"/benefit-candidates/{other.id}"), 403, code="forbidden")
    assert_error(api.post(f"/benefit-candidates/{other.id}/decline", json={"reason": "x"}), 403)
    assert_error(api.post(f"/benefit-candidates/{other.id}/confirm", json={"declaration": True}), 403)
    assert_error(api.get("/benefit-candidates/99999999"), 404, code="not_found")
    listed_c = matched.api(fresh_user("sme", matched.c))
    excluded = _candidate(matched.c, "robot")
    assert listed_c.get("/benefit-candidates").get_json()["items"] == []
    assert_error(listed_c.get(f"/benefit-candidates/{excluded.id}"), 404)


def test_every_endpoint_refuses_the_roles_it_is_not_for(matched):
    robot = _candidate(matched.a, "robot")
    source_id = db.session.scalar(select(BenefitSource.id))
    calls = [("get", "/benefit-candidates", None), ("get", f"/benefit-candidates/{robot.id}", None),
             ("post", f"/benefit-candidates/{robot.id}/decline", {"reason": "x"}),
             ("post", f"/benefit-candidates/{robot.id}/confirm", {"declaration": True, "account_confirmed": True}),
             ("get", "/benefit-sources", None), ("get", f"/benefit-sources/{source_id}", None),
             ("get", "/benefit-figures", None)]
    readers = {"/benefit-candidates": {"officer", "auditor"}, f"/benefit-candidates/{robot.id}":
               {"officer", "auditor", "finance"}}
    for role in ("provider", "evaluator", "finance", "officer", "auditor", "admin", "park_operator", "other_sme"):
        user = fresh_user("sme", matched.b) if role == "other_sme" else fresh_user(role)
        api = matched.api(user)
        for method, path, body in calls:
            response = api.get(path) if method == "get" else api.post(path, json=body)
            allowed = readers.get(path, {"officer", "auditor"} if "/benefit-s" in path or "figures" in path else set())
            if role in allowed or (role == "other_sme" and path == "/benefit-candidates"):
                assert response.status_code == 200, (role, path, response.get_json())
            else:
                assert_error(response, 403)
    assert_error(Api(matched.api(fresh_user("officer")).client).get("/benefit-candidates"), 401)
    db.session.refresh(robot)
    assert robot.status == "open"  # nobody but its enterprise answered it


def test_decline_needs_a_reason_and_is_answered_once(matched):
    api = matched.api(fresh_user("sme", matched.b))
    robot = _candidate(matched.b, "robot")
    assert_error(api.post(f"/benefit-candidates/{robot.id}/decline", json={}), 422, "reason")
    assert_error(api.post(f"/benefit-candidates/{robot.id}/decline", json={"reason": "x" * 2001}), 422, "reason")
    assert_error(api.post(f"/benefit-candidates/{robot.id}/decline", json={"reason": 5}), 422, "reason")
    assert_error(api.post(f"/benefit-candidates/{robot.id}/decline", json={"reason": "r", "extra": 1}), 422, "extra")
    done = api.post(f"/benefit-candidates/{robot.id}/decline", json={"reason": "已通过其他渠道申报"})
    assert done.status_code == 200
    assert done.get_json()["status"] == "declined" and done.get_json()["decline_reason"] == "已通过其他渠道申报"
    assert done.get_json()["allowed_actions"] == []
    assert_error(api.post(f"/benefit-candidates/{robot.id}/decline", json={"reason": "again"}), 409)
    assert_error(api.post(f"/benefit-candidates/{robot.id}/confirm",
                          json={"declaration": True, "account_confirmed": True}), 409)


def test_confirm_creates_the_application_and_lists_what_is_missing(matched):
    user = fresh_user("sme", matched.a)
    api = matched.api(user)
    robot = _candidate(matched.a, "robot")
    path = f"/benefit-candidates/{robot.id}/confirm"
    error = assert_error(api.post(path, json={"account_confirmed": True, "invoice_files": [FILE] * 3}), 422,
                         "declaration")
    assert "account_confirmed" not in error["fields"]
    assert_error(api.post(path, json={"declaration": True, "invoice_files": [FILE] * 3}), 422, "account_confirmed")
    # The robot form's own required upload: each invoice's file (named by the API's field).
    assert_error(api.post(path, json={"declaration": True, "account_confirmed": True, "invoice_files": [FILE]}),
                 422, "invoice_files.1")
    assert_error(api.post(path, json={"declaration": "yes please"}), 422, "declaration")
    assert_error(api.post(path, json={"declaration": True, "invoice_files": [{"filename": "a.pdf"}]}), 422,
                 "invoice_files.0.content_base64")
    db.session.refresh(robot)
    assert robot.status == "open" and robot.application_id is None  # nothing saved while refused

    done = api.post(path, json={"declaration": True, "account_confirmed": True, "invoice_files": [FILE] * 3})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "confirmed" and body["payee_account"] == matched.a.bank_account
    application = body["application"]
    assert application["kind"] == "robot" and application["url"] == f"/api/v1/robot-applications/{application['id']}"
    robot_app = api.get(application["url"]).get_json()
    assert robot_app["computed_subsidy"] == "124691.36"
    assert sorted(line["invoice_no"] for line in robot_app["lines"]) == [
        "3300261130-00010001", "3300261130-00010002", "3300261130-00010003"]
    assert application["status"] == robot_app["status"]
    # The materials the checklist still needs are named; attached through the subsidies API, then submitted.
    if application["status"] == "draft":
        assert application["missing_materials"]
        for material in application["missing_materials"]:
            attached = api.post(f"{application['url']}/materials",
                                json={"material": material["code"], "files": [FILE]})
            assert attached.status_code == 201, attached.get_json()
        assert api.get(f"/benefit-candidates/{robot.id}").get_json()["application"]["missing_materials"] == []
        assert api.post(f"{application['url']}/submit").status_code == 200
    again = api.get(f"/benefit-candidates/{robot.id}").get_json()
    assert again["application"]["status"] == "submitted" and again["application_id"] == application["id"]
    officer = matched.api(matched.officer_user)
    approved = officer.post(f"{application['url']}/approve")
    assert approved.status_code == 200 and approved.get_json()["approved_amount"] == "124691.36"


def test_confirm_a_loan_candidate_names_the_loan_forms_files(matched):
    api = matched.api(fresh_user("sme", matched.a))
    loan = _candidate(matched.a, "loan")
    path = f"/benefit-candidates/{loan.id}/confirm"
    error = assert_error(api.post(path, json={"declaration": True, "account_confirmed": True}), 422)
    assert {"plan_file", "statement_file"} & set(error["fields"]), error
    done = api.post(path, json={"declaration": True, "account_confirmed": True, "plan_file": FILE,
                                "statement_file": FILE})
    assert done.status_code == 200, done.get_json()
    application = done.get_json()["application"]
    assert application["url"].startswith("/api/v1/loan-applications/")
    assert api.get(application["url"]).get_json()["computed_discount"] == "50000.00"


def test_the_bureau_lists_every_candidate_with_filters_and_figures(matched):
    api = matched.api(matched.officer_user)
    everything = api.get("/benefit-candidates?per_page=100").get_json()
    assert everything["pagination"]["total"] == 7 and len(everything["items"]) == 7
    assert [i["id"] for i in everything["items"]] == sorted((i["id"] for i in everything["items"]), reverse=True)
    excluded = api.get("/benefit-candidates?status=excluded").get_json()["items"]
    assert [(i["enterprise"]["id"], i["status"]) for i in excluded] == [(matched.c.id, "excluded")]
    detail = api.get(f"/benefit-candidates/{excluded[0]['id']}").get_json()
    assert detail["exclusion"]["values"]["listed_by"] == "信用中国" and detail["exclusion"]["row_number"] == 2
    lucheng = api.get("/benefit-candidates?district=lucheng&kind=robot").get_json()["items"]
    assert sorted(i["enterprise"]["id"] for i in lucheng) == sorted([matched.b.id, matched.c.id])
    clothing = api.get("/benefit-candidates?industry=clothing&status=open").get_json()["items"]
    assert {i["enterprise"]["id"] for i in clothing} == {matched.b.id}
    # Keyset pages: two at a time, following `next`, each candidate once.
    seen, url = [], "/benefit-candidates?per_page=2"
    while url:
        page = api.get(url).get_json()
        seen += [i["id"] for i in page["items"]]
        url = page["pagination"]["next"] and urlsplit(page["pagination"]["next"])._replace(scheme="", netloc="").geturl()
    assert sorted(seen) == sorted(i["id"] for i in everything["items"])
    for bad in ("status=maybe", "kind=car", "district=paris", "industry=space"):
        assert_error(api.get(f"/benefit-candidates?{bad}"), 422, bad.split("=")[0])
        assert_error(api.get(f"/benefit-figures?{bad}"), 422, bad.split("=")[0])

    figures = api.get("/benefit-figures").get_json()
    amounts = {i["id"]: Decimal(i["amount"]) for i in everything["items"]}
    assert figures["candidates"] == 7 and Decimal(figures["amount"]) == sum(amounts.values())
    assert figures["by_status"] == {"open": 6, "excluded": 1}
    by_district = {r["code"]: (r["candidates"], Decimal(r["amount"])) for r in figures["by_district"]}
    rows = db.session.scalars(select(BenefitCandidate)).all()
    for code in {c.district for c in rows}:
        mine = [c for c in rows if c.district == code]
        assert by_district[code] == (len(mine), sum(c.amount for c in mine))
    by_industry = {r["code"]: r for r in figures["by_industry"]}
    assert by_industry["clothing"]["candidates"] == sum(1 for c in rows if c.industry == "clothing")
    assert by_industry["pumps_valves"]["label"] == "Pumps and valves"
    open_robot = api.get("/benefit-figures?status=open&kind=robot").get_json()
    assert open_robot["candidates"] == 4 and open_robot["by_status"] == {"open": 4}


def test_the_bureau_lists_the_imports_with_their_sha256(matched):
    api = matched.api(matched.officer_user)
    text = INVOICE_HEAD + f"{matched.a.uscc},bad-invoice,ER-x,埃夫特,是,1,100.00,2026-05-01\n" + \
        f"{matched.b.uscc},3300261130-00090001,ER-y,埃夫特,否,1,1000.00,2026-05-02\n"
    from voucher.benefits import services

    data = text.encode()
    services.import_source(matched.officer, "robot_invoice", filename="partly.csv", data=data)
    listed = api.get("/benefit-sources").get_json()
    assert listed["pagination"]["total"] == 4
    newest = listed["items"][0]
    assert newest["filename"] == "partly.csv" and newest["sha256"] == hashlib.sha256(data).hexdigest()
    assert (newest["rows"], newest["refused_rows"], newest["size_bytes"]) == (1, 1, len(data))
    assert {i["kind"] for i in listed["items"]} == {"robot_invoice", "loan_statement", "blacklist"}
    detail = api.get(f"/benefit-sources/{newest['id']}").get_json()
    assert [(r["row"], r["column"]) for r in detail["report"]] == [(2, "发票号码")]
    assert detail["report"][0]["message"]
    assert_error(api.get("/benefit-sources/99999999"), 404)
    auditor = matched.api(fresh_user("auditor"))
    assert auditor.get("/benefit-sources").get_json()["items"][0]["sha256"] == newest["sha256"]
