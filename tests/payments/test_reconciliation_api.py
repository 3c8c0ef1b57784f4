"""Bank reconciliation over the API: the same services and rules as the page (finance only, a refused
file names each bad cell, the same file twice is 409, a decision needs a reason), in the API's one error
shape; the ledger stays balanced."""
from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from tests.payments.test_api import Api, error_of
from tests.payments.test_reconciliation import batch2, csv_file, ledger_balanced  # noqa: F401 (fixture)
from voucher.payments.documents import bank_purpose

D = Decimal


def body(data: bytes, name="result.csv", layout=None) -> dict:
    out = {"file": {"filename": name, "content_base64": base64.b64encode(data).decode()}}
    if layout:
        out["layout"] = layout
    return out


@pytest.fixture()
def api(client, world):
    return Api(client, world.finance_a)


def test_import_matches_and_waits_then_a_decision_closes_the_row(api, world, batch2):  # noqa: F811
    batch, a, b = batch2
    before = ledger_balanced(world.programme)
    data = csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(b), "99999.99")])
    r = api.post(f"/payment-batches/{batch.id}/reconciliation", body(data))
    assert r.status_code == 201, r.get_data(as_text=True)[:400]
    imp = r.get_json()
    assert imp["counts"] == {"matched": 1, "amount_differs": 1}
    differs = next(row for row in imp["rows"] if row["status"] == "amount_differs")
    assert differs["difference"] == "-0.01" and differs["resolution"] == "pending"
    assert set(differs["allowed_decisions"]) >= {"accept_paid", "mark_failed", "ignore"}
    after = ledger_balanced(world.programme)
    assert after.paid - before.paid == D("40000.00")  # only the matched row paid its line

    report = api.get(f"/payment-batches/{batch.id}/reconciliation").get_json()
    assert (report["approved_total"], report["bank_total"]) == ("140000.00", "139999.99")
    assert report["unreconciled"] == "100000.00"
    assert [(line["reference"], line["difference"]) for line in report["lines"]] == [
        (a.reference, "0.00"), (b.reference, "-0.01")]

    refused = error_of(api.post(f"/reconciliation-rows/{differs['id']}/decision", {"decision": "accept_paid"}), 422)
    assert "reason" in refused["fields"]
    r = api.post(f"/reconciliation-rows/{differs['id']}/decision",
                 {"decision": "accept_paid", "reason": "=1+1 the bank charged a one-fen fee"})
    assert r.status_code == 200, r.get_data(as_text=True)[:400]
    row = r.get_json()
    assert (row["resolution"], row["decision_reason"], row["allowed_decisions"]) == (
        "accepted_paid", "=1+1 the bank charged a one-fen fee", [])
    assert ledger_balanced(world.programme).paid - before.paid == D("140000.00")
    again = error_of(api.post(f"/reconciliation-rows/{differs['id']}/decision",
                              {"decision": "ignore", "reason": "twice"}), 409)
    assert again["message"]


def test_a_refused_file_names_each_bad_cell_and_saves_nothing(api, world, batch2):  # noqa: F811
    batch, a, b = batch2
    data = csv_file([(bank_purpose(a), "=40000"), (bank_purpose(b), "1" * 40)])
    error = error_of(api.post(f"/payment-batches/{batch.id}/reconciliation", body(data)), 422)
    assert error["code"] == "validation_failed"
    named = {k for k in error["fields"] if k.startswith("rows.")}
    assert named == {"rows.2.金额", "rows.3.金额"}, error["fields"]
    assert "formula" in error["fields"]["rows.2.金额"].lower()
    report = api.get(f"/payment-batches/{batch.id}/reconciliation").get_json()
    assert report["imports"] == [] and report["rows"] == []
    assert (a.status, b.status) == ("in_batch", "in_batch")


def test_the_same_file_twice_is_409_and_bad_base64_or_layout_is_422(api, world, batch2):  # noqa: F811
    batch, a, b = batch2
    data = csv_file([(bank_purpose(a), "40000.00")])
    assert api.post(f"/payment-batches/{batch.id}/reconciliation", body(data)).status_code == 201
    error_of(api.post(f"/payment-batches/{batch.id}/reconciliation", body(data)), 409)
    bad = error_of(api.post(f"/payment-batches/{batch.id}/reconciliation",
                            {"file": {"filename": "x.csv", "content_base64": "not base64!"}}), 422)
    assert any("content_base64" in k for k in bad["fields"])
    bad = error_of(api.post(f"/payment-batches/{batch.id}/reconciliation", body(data, layout="mt940")), 422)
    assert "layout" in bad["fields"]
    error_of(api.post("/payment-batches/999999/reconciliation", body(csv_file([("DSB-2026-000001", "1.00")]))), 404)
    error_of(api.post("/reconciliation-rows/999999/decision", {"decision": "ignore", "reason": "x"}), 404)


def test_only_finance_officers_reconcile(client, world, batch2):  # noqa: F811
    batch, a, _b = batch2
    data = csv_file([(bank_purpose(a), "40000.00")])
    for user in (world.officer, world.provider):
        api = Api(client, user)
        error_of(api.get(f"/payment-batches/{batch.id}/reconciliation"), 403)
        error_of(api.post(f"/payment-batches/{batch.id}/reconciliation", body(data)), 403)
    assert a.status == "in_batch"
