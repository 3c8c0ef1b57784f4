"""The payments API: the same rules as the pages (maker-checker 403, wrong password 422, duplicates 409,
another payee's disbursement 403), in the API's one error shape."""
from __future__ import annotations

from decimal import Decimal

import pytest

from voucher.auth import tokens
from voucher.extensions import db
from voucher.payments.models import Disbursement


class Api:
    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {tokens.issue_token(user).secret}", "Accept-Language": "en"}

    def get(self, path):
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def post(self, path, json):
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers)

    def put(self, path, json):
        return self.client.put(f"/api/v1{path}", json=json, headers=self.headers)


def error_of(response, status):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.fixture()
def loan(world):
    loan = world.loan()
    world.announce()
    db.session.flush()
    return loan


def test_the_api_prepares_approves_batches_and_pays_with_the_rules_of_the_pages(world, loan, client):
    a, b = Api(client, world.finance_a), Api(client, world.finance_b)
    queue = a.get("/payables?payable_only=true").get_json()
    assert [(i["source_type"], i["source_id"], i["amount"]) for i in queue["items"]] == [
        ("loan_application", loan.id, "40000.00")]
    created = a.post("/disbursements", {"source_type": "loan_application", "source_id": loan.id, "milestone": "full"})
    assert created.status_code == 201, created.get_json()
    d = created.get_json()
    assert (d["status"], d["amount"], d["prepared"]["user_id"]) == ("prepared", "40000.00", world.finance_a.id)
    error_of(b.post("/disbursements", {"source_type": "loan_application", "source_id": loan.id,
                                       "milestone": "full"}), 409)
    assert error_of(a.post(f"/disbursements/{d['id']}/approve", {"password": world.finance_a.plain_password}),
                    403)["code"] == "same_approver"
    assert "password" in error_of(b.post(f"/disbursements/{d['id']}/approve", {"password": "wrong-password"}),
                                  422)["fields"]
    approved = b.post(f"/disbursements/{d['id']}/approve", {"password": world.finance_b.plain_password})
    assert approved.status_code == 200 and approved.get_json()["approval_valid"] is True
    batch = a.post("/payment-batches", {"programme_id": world.programme.id, "disbursement_ids": [d["id"]]})
    assert batch.status_code == 201, batch.get_json()
    batch_id = batch.get_json()["id"]
    paid = a.post(f"/payment-batches/{batch_id}/results", {"disbursement_id": d["id"], "outcome": "paid",
                                                           "bank_reference": "BOC-1"})
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid"
    assert a.get(f"/payment-batches/{batch_id}").get_json()["status"] == "completed"
    error_of(a.post(f"/payment-batches/{batch_id}/results", {"disbursement_id": d["id"], "outcome": "paid",
                                                             "bank_reference": "BOC-2"}), 409)


def test_a_payee_reads_its_own_disbursements_only(world, loan, client, make_org, make_user):
    d = world.prepare("loan_application", loan.id, "full")
    own = make_user("sme", db.session.get(type(d.payee), d.payee_id))
    other = make_user("sme", make_org("enterprise"))
    assert Api(client, own).get(f"/disbursements/{d.id}").status_code == 200
    assert [x["id"] for x in Api(client, own).get("/disbursements").get_json()["items"]] == [d.id]
    error_of(Api(client, other).get(f"/disbursements/{d.id}"), 403)
    assert Api(client, other).get("/disbursements").get_json()["items"] == []
    error_of(Api(client, other).get("/payables"), 403)
    error_of(Api(client, own).post("/disbursements", {"source_type": "loan_application", "source_id": loan.id,
                                                      "milestone": "full"}), 403)


def test_editing_bank_details_through_the_api_voids_the_approval(world, loan, client):
    d = world.approved("loan_application", loan.id, "full")
    response = Api(client, world.finance_a).put(f"/disbursements/{d.id}/bank-details", {
        "payee_name": d.payee_name, "bank_name": d.bank_name, "bank_account": "6217000099998888"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "prepared" and body["approved"]["user_id"] is None
    db.session.expire_all()
    assert db.session.get(Disbursement, d.id).amount == Decimal("40000.00")
