"""The payment pages: who may open them (a payee sees only its own payments: another payee's is 403),
the full path through the pages (queue → prepare → approve → batch → bank result), and the
dashboard cards."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import fresh_user
from voucher.documents.models import Document
from voucher.extensions import db
from voucher.payments.models import Disbursement, PaymentBatch


def body(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def paid_world(world):
    """A paid robot subsidy (to an enterprise) and a prepared trial advance (to the provider)."""
    robot = world.robot()
    trial = world.kick_off(world.trial("100000.00"))
    world.announce()
    paid = world.approved("robot_application", robot.id, "full")
    world.batch(paid)
    world.pay(paid, ref="ICBC-20261120-1")
    advance = world.prepare("trial_application", trial.application_id, "advance")
    world.paid, world.advance = paid, advance
    return world


def test_an_sme_or_provider_cannot_see_other_payees_disbursements(paid_world, login_as, make_org):
    w = paid_world
    own_sme = fresh_user("sme", w.paid.payee)
    other_sme = fresh_user("sme", make_org("enterprise"))
    other_provider = fresh_user("provider", make_org("provider"))
    # The payment order of the paid subsidy exists as a document.
    from tests.documents.conftest import make_document

    document = make_document("payment_order", "disbursement", w.paid.id)

    client = login_as(own_sme)
    assert client.get(f"/payments/disbursements/{w.paid.id}").status_code == 200
    assert client.get(f"/documents/{document.id}/download").status_code == 200
    assert client.get(f"/payments/disbursements/{w.advance.id}").status_code == 403  # paid to the provider
    mine = body(client.get("/payments/mine"))
    assert w.paid.reference in mine and w.advance.reference not in mine

    for outsider in (other_sme, other_provider):
        client = login_as(outsider)
        assert client.get(f"/payments/disbursements/{w.paid.id}").status_code == 403
        assert client.get(f"/payments/disbursements/{w.advance.id}").status_code == 403
        assert client.get(f"/documents/{document.id}/download").status_code == 403
        assert client.get(f"/documents/disbursement/{w.paid.id}").status_code == 403
        assert w.paid.reference not in body(client.get("/payments/mine"))
        for path in ("/payments/queue", "/payments/disbursements", "/payments/batches", "/payments/notices"):
            assert client.get(path).status_code == 403, path

    client = login_as(w.provider)
    assert client.get(f"/payments/disbursements/{w.advance.id}").status_code == 200
    assert client.get(f"/payments/disbursements/{w.paid.id}").status_code == 403


def test_bureau_pages_open_for_their_roles_and_refuse_the_others(paid_world, login_as):
    w = paid_world
    batch_id = w.paid.batch_id
    auditor = fresh_user("auditor")
    for user in (w.finance_a, w.officer, auditor):
        client = login_as(user)
        for path in ("/payments/queue", "/payments/disbursements", f"/payments/disbursements/{w.paid.id}",
                     "/payments/batches", f"/payments/batches/{batch_id}", "/payments/notices",
                     "/payments/reports"):
            assert client.get(path).status_code == 200, (user.role, path)
    client = login_as(w.officer)
    assert client.get(f"/payments/disbursements/{w.advance.id}/decide").status_code == 403
    assert client.post("/payments/prepare", data={"source_type": "loan_application", "source_id": "1",
                                                  "milestone": "full"}).status_code == 403


def test_the_whole_path_through_the_pages(world, login_as):
    loan = world.loan()
    world.announce()
    client = login_as(world.finance_a)
    queue = body(client.get("/payments/queue?show=payable"))
    assert "¥40,000.00" in queue and "/payments/prepare?" in queue
    page = client.get(f"/payments/prepare?source_type=loan_application&source_id={loan.id}&milestone=full")
    assert page.status_code == 200 and loan.enterprise.bank_account in body(page)
    response = client.post("/payments/prepare", data={"source_type": "loan_application", "source_id": str(loan.id),
                                                      "milestone": "full"})
    assert response.status_code == 302
    d = db.session.scalar(select(Disbursement))
    assert response.headers["Location"].endswith(f"/payments/disbursements/{d.id}")
    detail = body(client.get(f"/payments/disbursements/{d.id}"))
    assert "a different finance officer must approve it" in detail
    # A second click of the same form lands on the same disbursement.
    again = client.post("/payments/prepare", data={"source_type": "loan_application", "source_id": str(loan.id),
                                                   "milestone": "full"})
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/payments/disbursements/{d.id}")

    client = login_as(world.finance_b)
    assert "Approve or reject" in body(client.get(f"/payments/disbursements/{d.id}"))
    page = client.get(f"/payments/disbursements/{d.id}/decide")
    assert page.status_code == 200 and "¥40,000.00" in body(page)
    assert client.post(f"/payments/disbursements/{d.id}/decide",
                       data={"decision": "reject", "reason": "", "password": world.finance_b.plain_password}
                       ).status_code == 422
    assert client.post(f"/payments/disbursements/{d.id}/decide",
                       data={"decision": "approve", "password": world.finance_b.plain_password}).status_code == 302

    new = client.get(f"/payments/batches/new?programme_id={world.programme.id}")
    assert new.status_code == 200 and d.reference in body(new)
    response = client.post("/payments/batches/new", data={"programme_id": str(world.programme.id),
                                                          "disbursement_ids": [str(d.id)], "note": "November"})
    assert response.status_code == 302
    batch = db.session.scalar(select(PaymentBatch))
    page = body(client.get(f"/payments/batches/{batch.id}"))
    assert d.reference in page and "Bank file" in page or "bank file" in page.lower()
    # Recording "paid" without a reference is refused on the line; with one, it is paid.
    refused = client.post(f"/payments/batches/{batch.id}/lines/{d.id}/result", data={"outcome": "paid"})
    assert refused.status_code == 422 and "Enter the bank" in body(refused)
    response = client.post(f"/payments/batches/{batch.id}/lines/{d.id}/result",
                           data={"outcome": "paid", "bank_reference": "ABC-123"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Disbursement, d.id).status == "paid"
    assert db.session.get(PaymentBatch, batch.id).status == "completed"


def test_editing_bank_details_on_the_page_voids_the_approval(world, login_as):
    loan = world.loan()
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    client = login_as(world.finance_a)
    page = client.get(f"/payments/disbursements/{d.id}/edit")
    assert page.status_code == 200 and "voids the approval" in body(page)
    bad = client.post(f"/payments/disbursements/{d.id}/edit", data={"payee_name": d.payee_name,
                                                                    "bank_name": d.bank_name, "bank_account": "1"})
    assert bad.status_code == 422
    response = client.post(f"/payments/disbursements/{d.id}/edit", data={
        "payee_name": d.payee_name, "bank_name": d.bank_name, "bank_account": "6217000012345678"})
    assert response.status_code == 302
    db.session.expire_all()
    d = db.session.get(Disbursement, d.id)
    assert d.status == "prepared" and d.bank_account == "6217000012345678" and d.prepared_by == world.finance_a.id


def test_the_officer_publishes_a_notice_and_resolves_objections_on_the_pages(world, login_as, client):
    loan = world.loan()
    client = login_as(world.officer)
    preview = body(client.get(f"/payments/notices?preview={world.programme.id}"))
    assert loan.enterprise.name in preview and "Publish the notice (1 grants)" in preview
    response = client.post("/payments/notices", data={"programme_id": str(world.programme.id)})
    assert response.status_code == 302
    notice_id = int(re.search(r"/payments/notices/(\d+)", response.headers["Location"]).group(1))
    again = client.post("/payments/notices", data={"programme_id": str(world.programme.id)})
    assert again.status_code == 422
    client.post("/logout")
    assert client.post(f"/notices/{notice_id}", data={"item_id": "", "name": "Chen", "contact": "c@example.com",
                                                      "text": "Please check the whole list."}).status_code == 302
    client = login_as(world.officer)
    page = body(client.get(f"/payments/notices/{notice_id}"))
    assert "Please check the whole list." in page and "c@example.com" in page
    assert "held: objection open" in page


def test_the_pages_render_in_chinese(paid_world, client):
    from tests.factories import do_login

    w = paid_world
    do_login(client, w.finance_b, w.finance_b.plain_password)
    for path in ("/payments/queue", "/payments/disbursements", f"/payments/disbursements/{w.paid.id}",
                 f"/payments/disbursements/{w.advance.id}/decide", "/payments/batches",
                 f"/payments/batches/{w.paid.batch_id}", "/payments/notices", "/payments/reports", "/notices"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "拨付" in body(response) or "公示" in body(response), path


def test_dashboard_cards_for_finance_and_payees(paid_world, login_as):
    w = paid_world
    client = login_as(w.finance_a)
    home = body(client.get("/"))
    assert "Awaiting approval" in home and "Paid this month" in home and "¥100,000.00" in home
    client = login_as(fresh_user("sme", w.paid.payee))
    home = body(client.get("/"))
    assert "Payments to us" in home and "¥100,000.00" in home


def test_a_payment_order_is_requested_from_the_disbursement_page(paid_world, login_as):
    w = paid_world
    client = login_as(w.finance_a)
    page = body(client.get(f"/payments/disbursements/{w.paid.id}"))
    assert "Produce the payment order" in page
    # The advance is only prepared: no payment order button yet.
    assert "Produce the payment order" not in body(client.get(f"/payments/disbursements/{w.advance.id}"))
    response = client.post("/documents/request", data={"kind": "payment_order", "subject_type": "disbursement",
                                                       "subject_id": str(w.paid.id), "lang": "zh"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    assert db.session.scalar(select(Document.id)) is None  # produced by the job, not the request
