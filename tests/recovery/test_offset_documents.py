"""What shows an offset (抵扣): the payment order PDF (grant amount, the offset with the recovery order's
reference, the amount transferred and its capitals), the disbursement page, the recovery order's
page (the offset settlement linking the disbursement); the reconciliation matches the bank's row
on the transfer amount; recording paid by offset is finance's only (403 for the others)."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from decimal import Decimal

import pypdf

from tests.factories import fresh_user
from tests.payments.test_reconciliation import csv_file
from tests.recovery.test_offset import PRO_RATA, RT, owing, second_robot
from voucher.documents.builders import IssueContext, builder_for
from voucher.extensions import db
from voucher.payments import reconciliation as recon
from voucher.payments.documents import bank_purpose
from voucher.programmes import services as ledger

D = Decimal
ISSUE = IssueContext("ABCDE-FGHIJ", "https://example.test/verify/ABCDEFGHIJ",
                     datetime(2026, 11, 20, 2, tzinfo=timezone.utc), 1, 1)


def _text(data: bytes) -> str:
    return "".join("".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_payment_order_shows_the_grant_the_offset_and_the_transfer(world):
    _first, order, org = owing(world)
    d = world.approved(RT, second_robot(world, org).id, "full")
    _name, data, mime, _title = builder_for("payment_order")(d.id, "zh", ISSUE)
    text = _text(data)
    assert mime == "application/pdf"
    assert "¥100,000.00" in text and "¥66,697.08" in text and order.reference in text
    assert "¥33,302.92" in text and "叁万叁仟叁佰零贰元玖角贰分" in text
    assert "抵扣" in text  # the label, in Chinese
    _name, data, _mime, _title = builder_for("payment_order")(d.id, "en", ISSUE)
    english = _text(data)
    assert "Offsetagainstrecoveryorders" in english and "Amounttransferred" in english


def test_a_payment_order_without_offset_is_unchanged(world):
    robot = world.robot()
    world.announce()
    d = world.approved(RT, robot.id, "full")
    text = _text(builder_for("payment_order")(d.id, "en", ISSUE)[1])
    assert "Amountinfigures" in text and "Offset" not in text


def test_reconciliation_matches_the_bank_row_on_the_transfer_amount(world):
    _first, order, org = owing(world)
    d = world.approved(RT, second_robot(world, org).id, "full")
    batch = world.batch(d)
    full = recon.import_statement(world.finance_a.actor(), batch.id, filename="r1.csv",
                                  data=csv_file([(bank_purpose(d), "100000.00")]))
    assert [r.status for r in full.rows] == ["amount_differs"] and d.status == "in_batch"
    assert full.rows[0].difference == PRO_RATA
    before = ledger.balances(world.programme)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r2.csv",
                                 data=csv_file([(bank_purpose(d), "33302.92")]))
    assert [r.status for r in imp.rows] == ["matched"] and d.status == "paid"
    assert order.status == "settled"
    assert ledger.balances(world.programme).available - before.available == PRO_RATA
    report = recon.batch_reconciliation(world.finance_a.actor(), batch.id)
    assert [line.approved for line in report.lines] == [D("33302.92")]


def test_the_pages_show_the_offset_and_link_the_settlement(world, login_as):
    first, order, org = owing(world)
    d = world.approved(RT, second_robot(world, org).id, "full")
    client = login_as(world.finance_a)
    page = client.get(f"/payments/disbursements/{d.id}").get_data(as_text=True)
    assert "¥66,697.08" in page and order.reference in page and "¥33,302.92" in page
    assert "叁万叁仟叁佰零贰元玖角贰分" in page
    detail = client.get(f"/recovery/{order.id}").get_data(as_text=True)
    assert "data-pending-offsets" in detail
    world.batch(d)
    world.pay(d)
    detail = client.get(f"/recovery/{order.id}").get_data(as_text=True)
    assert f"/payments/disbursements/{d.id}" in detail and d.reference in detail
    assert "Offset against a payment" in detail
    zh = login_as(world.finance_a, lang="zh_Hans_CN").get(f"/payments/disbursements/{d.id}").get_data(as_text=True)
    assert "抵扣" in zh


def test_only_finance_records_paid_by_offset(world, login_as):
    _first, order, org = owing(world)
    loan = world.loan(enterprise=org)
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    url = f"/payments/disbursements/{d.id}/offset-paid"
    for user in (fresh_user("sme", org), fresh_user("officer"), fresh_user("auditor")):
        assert login_as(user).post(url, data={}).status_code == 403
    client = login_as(world.finance_a)
    page = client.get(f"/payments/disbursements/{d.id}").get_data(as_text=True)
    assert "offset-paid-form" in page and "data-confirm" in page
    assert client.post(url, data={}).status_code == 303
    db.session.expire_all()
    assert d.status == "paid" and order.status == "partly_settled"
    assert client.post(url, data={}).status_code == 409  # not twice


def test_the_batch_pages_show_the_transfer_and_leave_out_a_payment_offset_in_full(world, login_as):
    from voucher.payments import queries

    _first, _order, org = owing(world)
    loan = world.loan(enterprise=org)
    robot = second_robot(world, org)
    full = world.approved("loan_application", loan.id, "full")  # 40,000.00 offset in full
    part = world.approved(RT, robot.id, "full")  # the rest of the order offset: 26,697.08
    assert [d.id for d in queries.approved_for_batch(world.programme.id)] == [part.id]
    [(_pid, _name, count, total)] = [r for r in queries.approved_counts_by_programme() if r[0] == world.programme.id]
    assert (count, total) == (1, part.transfer_amount) and part.transfer_amount == D("73302.92")
    client = login_as(world.finance_a)
    page = client.get(f"/payments/batches/new?programme_id={world.programme.id}").get_data(as_text=True)
    assert "¥73,302.92" in page and "¥26,697.08" in page and full.reference not in page
