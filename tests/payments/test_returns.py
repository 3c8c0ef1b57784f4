"""Returned payments (退汇): a paid line the bank returns reopens its item.  The ledger shows one
payment, one return, one payment; paying again needs the payee's current bank details (the same
account only when confirmed) and a new approval by the other finance officer; a return is recorded
once, and every figure (balances, paid per grant, the payables in Python and in SQL) nets it out."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, union_all

from tests.factories import fresh_user
from voucher import grants
from voucher.audit.models import AuditEvent
from voucher.dashboard import figures
from voucher.errors import Conflict, Forbidden, NotFound, SameApprover, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.payments import queries, returns, services
from voucher.payments.models import Disbursement
from voucher.programmes.models import FundLedgerEntry
from voucher.programmes.services import balances, recomputed_balances, source_outstanding, source_paid

D = Decimal


def entries(source_type, source_id):
    return [(e.kind, e.amount, e.milestone) for e in db.session.scalars(
        select(FundLedgerEntry).where(FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id)
        .order_by(FundLedgerEntry.seq))]


def _sql():
    return grants.PayableSQL(text=queries._text, paid_exists=queries._paid_exists,
                             live_exists=queries._live_exists, local_day=queries.local_day)


def payables_python_and_sql(programme_id):
    python = {(d.source_type, d.source_id, d.milestone, d.amount) for k in grants.kinds()
              for d in k.payables(programme_id=programme_id)}
    live = {(d.source_type, d.source_id, d.milestone) for d in db.session.scalars(
        select(Disbursement).where(Disbursement.status.in_(("prepared", "approved", "in_batch", "paid"))))}
    python = {p for p in python if p[:3] not in live}  # the kinds' lists leave live ones to payments
    union = union_all(*[s for k in grants.kinds() for s in k.payable_selects(_sql())]).subquery()
    rows = db.session.execute(select(union).where(union.c.programme_id == programme_id)).all()
    in_sql = {(r.source_type, r.source_id, r.milestone, (D(r.amount) / 100).quantize(D("0.01"))) for r in rows}
    return python, in_sql


def paid_loan(world):
    loan = world.loan()
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    world.batch(d)
    world.pay(d, ref="BANK-1")
    return loan, d


def new_account(org, account="6222020200112233445"):
    org.bank_account = account
    db.session.flush()


def test_pay_return_pay_ledger_and_every_figure(world):
    loan, first = paid_loan(world)
    pid = world.programme.id
    assert (balances(world.programme).reserved, balances(world.programme).paid) == (D("0.00"), D("40000.00"))
    assert payables_python_and_sql(pid) == (set(), set())

    returns.record_return(world.finance_b.actor(), first.id, "账户已销户 account closed", bank_reference="RET-1")
    assert first.status == "returned" and first.return_reason.startswith("账户已销户")
    bal = balances(world.programme)
    assert (bal.reserved, bal.paid, bal.available) == (D("40000.00"), D("0.00"), D("50000000.00") - D("40000.00"))
    assert bal == recomputed_balances(world.programme)
    assert source_paid("loan_application", loan.id) == D("0.00")
    assert source_outstanding("loan_application", loan.id) == D("40000.00")
    assert not services.already_paid("loan_application", loan.id, "full")
    python, in_sql = payables_python_and_sql(pid)
    assert python == in_sql == {("loan_application", loan.id, "full", D("40000.00"))}
    [item] = queries.payables(source=("loan_application", loan.id))  # back in the finance queue
    assert item.amount == D("40000.00")
    assert {g.code: g.paid for g in figures.fund_by_kind(pid)}["loan_discount"] == D("0.00")
    assert figures.reserved_outstanding(pid) == D("40000.00")

    new_account(first.payee)
    second = world.prepare("loan_application", loan.id, "full")
    assert second.id != first.id and second.bank_account == "6222020200112233445"
    world.approve(second)
    world.batch(second)
    world.pay(second, ref="BANK-2")
    assert entries("loan_application", loan.id) == [
        ("reserve", D("40000.00"), None), ("pay", D("40000.00"), "full"),
        ("return", D("40000.00"), "full"), ("pay", D("40000.00"), "full")]
    bal = balances(world.programme)
    assert (bal.reserved, bal.paid) == (D("0.00"), D("40000.00")) and bal == recomputed_balances(world.programme)
    assert source_paid("loan_application", loan.id) == D("40000.00")
    assert services.already_paid("loan_application", loan.id, "full")
    assert payables_python_and_sql(pid) == (set(), set())
    assert {g.code: g.paid for g in figures.fund_by_kind(pid)}["loan_discount"] == D("40000.00")
    assert [(c, p) for c, _r, p in queries.fund_use(pid, "kind")] == [("loan_discount", D("40000.00"))]


def test_paying_again_needs_a_new_approval_by_the_other_officer(world):
    loan, first = paid_loan(world)
    returns.record_return(world.finance_a.actor(), first.id, "户名不符")
    new_account(first.payee)
    second = world.prepare("loan_application", loan.id, "full", who=world.finance_b)
    assert second.status == "prepared" and second.approved_by is None
    with pytest.raises(SameApprover):
        services.approve(world.finance_b.actor(), second.id, world.finance_b.plain_password)
    world.approve(second, who=world.finance_a)
    assert second.status == "approved" and second.approved_by == world.finance_a.id


def test_the_same_account_is_refused_unless_confirmed(world):
    loan, first = paid_loan(world)
    returns.record_return(world.finance_a.actor(), first.id, "Account closed")
    with pytest.raises(Conflict) as err:
        world.prepare("loan_application", loan.id, "full")
    assert err.value.params["reference"] == first.reference
    assert db.session.scalar(select(Disbursement).where(Disbursement.status == "prepared")) is None
    second = services.prepare(world.finance_a.actor(), "loan_application", loan.id, "full", confirm_same_account=True)
    assert (second.bank_account, second.status) == (first.bank_account, "prepared")


def test_a_return_is_recorded_once_and_only_for_a_paid_line(world):
    loan, first = paid_loan(world)
    returns.record_return(world.finance_a.actor(), first.id, "Account closed")
    with pytest.raises(TransitionNotAllowed):
        returns.record_return(world.finance_b.actor(), first.id, "Account closed")
    assert [k for k, _a, _m in entries("loan_application", loan.id)].count("return") == 1
    new_account(first.payee)
    second = world.approved("loan_application", loan.id, "full")
    with pytest.raises(TransitionNotAllowed):  # approved, not paid
        returns.record_return(world.finance_a.actor(), second.id, "Account closed")
    with pytest.raises(NotFound):
        returns.record_return(world.finance_a.actor(), 987654321, "Account closed")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "disbursement",
                                                         AuditEvent.object_id == str(first.id))).all()
    assert [e.action for e in events].count("disbursement.mark_returned") == 1


def test_never_paid_twice_without_a_return_between(world):
    loan, first = paid_loan(world)
    assert services.already_paid("loan_application", loan.id, "full")
    with pytest.raises(Conflict):
        world.prepare("loan_application", loan.id, "full")  # paid: not payable, the index holds it too


def test_only_finance_and_bad_input(world):
    loan, first = paid_loan(world)
    with pytest.raises(Forbidden):
        returns.record_return(world.officer.actor(), first.id, "Account closed")
    with pytest.raises(Forbidden):
        returns.record_return(fresh_user("sme", first.payee).actor(), first.id, "Account closed")
    for bad in ("", "   ", None, "x" * 5000):
        with pytest.raises(ValidationFailed):
            returns.record_return(world.finance_a.actor(), first.id, bad)
    with pytest.raises(ValidationFailed):
        returns.record_return(world.finance_a.actor(), first.id, "closed", bank_reference="R" * 101)
    assert first.status == "paid"
    returns.record_return(world.finance_a.actor(), first.id, "=1+1")
    assert first.return_reason == "=1+1"


def test_the_payee_is_told_with_the_application_number(world):
    loan, first = paid_loan(world)
    sme = fresh_user("sme", first.payee)
    returns.record_return(world.finance_a.actor(), first.id, "Account closed")
    [note] = [n for n in db.session.scalars(select(Notification).where(Notification.user_id == sme.id))
              if "returned by the bank" in n.message]
    assert note.params["reference"] == first.reference and note.params.get("application_number")


def test_a_trial_advance_returned_and_paid_again(world):
    trial = world.kick_off(world.trial("100000.00"))
    world.announce()
    app_id = trial.application_id
    d = world.approved("trial_application", app_id, "advance")
    world.batch(d)
    world.pay(d)
    returns.record_return(world.finance_a.actor(), d.id, "Wrong name")
    python, in_sql = payables_python_and_sql(world.programme.id)
    assert python == in_sql == {("trial_application", app_id, "advance", D("30000.00"))}
    assert returns.order_state(d) == ("returned", None)
    new_account(d.payee)
    again = world.approved("trial_application", app_id, "advance")
    assert returns.order_state(d) == ("superseded", again)
    world.batch(again)
    world.pay(again)
    assert returns.order_state(again) == ("paid", None)
    assert source_paid("trial_application", app_id) == D("30000.00")
    assert balances(world.programme) == recomputed_balances(world.programme)


def test_a_reconciliation_reversal_is_recorded_as_returned(world):
    from tests.payments.test_reconciliation import csv_file
    from voucher.payments import reconciliation as recon
    from voucher.payments.documents import bank_purpose

    loan = world.loan()
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    batch = world.batch(d)
    recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                           data=csv_file([(bank_purpose(d), "40000.00")]))
    assert d.status == "paid"
    later = recon.import_statement(world.finance_a.actor(), batch.id, filename="r2.csv",
                                   data=csv_file([(bank_purpose(d), "-40000.00", "退汇")]))
    [row] = later.rows
    assert recon.allowed_decisions(row, d) == ["record_returned", "ignore"]
    with pytest.raises(ValidationFailed):
        recon.decide(world.finance_b.actor(), row.id, "record_returned", "")
    recon.decide(world.finance_b.actor(), row.id, "record_returned", "户名不符 wrong name")
    assert (row.resolution, d.status, d.return_reason) == ("recorded_returned", "returned", "户名不符 wrong name")
    assert d.return_bank_reference == row.bank_reference
    assert [k for k, _a, _m in entries("loan_application", loan.id)] == ["reserve", "pay", "return"]
    assert balances(world.programme) == recomputed_balances(world.programme)
    with pytest.raises(TransitionNotAllowed):  # decided once
        recon.decide(world.finance_a.actor(), row.id, "record_returned", "again")


# --- pages ----------------------------------------------------------------------------------------

def test_pages_record_return_and_pay_again(world, client, login_as):
    loan, first = paid_loan(world)
    db.session.flush()
    c = login_as(world.finance_a)
    page = c.get(f"/payments/disbursements/{first.id}")
    assert page.status_code == 200 and 'id="return-form"' in page.get_data(as_text=True)
    bad = c.post(f"/payments/disbursements/{first.id}/return", data={"reason": ""})
    assert bad.status_code == 422 and first.status == "paid"
    bad = c.post(f"/payments/disbursements/{first.id}/return", data={"reason": "x" * 5000})
    assert bad.status_code == 422 and first.status == "paid"
    assert c.post("/payments/disbursements/987654321/return", data={"reason": "closed"}).status_code == 404
    done = c.post(f"/payments/disbursements/{first.id}/return", data={"reason": "=1+1", "bank_reference": "RT-9"})
    assert done.status_code == 303
    db.session.refresh(first)
    assert (first.status, first.return_reason, first.return_bank_reference) == ("returned", "=1+1", "RT-9")
    page = c.get(f"/payments/disbursements/{first.id}").get_data(as_text=True)
    assert 'id="return-reason"' in page and "=1+1" in page and 'id="return-form"' not in page
    again = c.post(f"/payments/disbursements/{first.id}/return", data={"reason": "twice"})
    assert again.status_code == 422  # a repeated click: recorded once
    queue = c.get("/payments/queue").get_data(as_text=True)
    assert f"source_id={loan.id}" in queue
    prep = c.get(f"/payments/prepare?source_type=loan_application&source_id={loan.id}&milestone=full")
    assert prep.status_code == 200 and 'id="returned-before"' in prep.get_data(as_text=True)
    form = {"source_type": "loan_application", "source_id": str(loan.id), "milestone": "full"}
    refused = c.post("/payments/prepare", data=form)
    assert refused.status_code in (409, 422) and first.reference in refused.get_data(as_text=True)
    ok = c.post("/payments/prepare", data={**form, "confirm_same_account": "y"})
    assert ok.status_code == 302
    zh = login_as(world.finance_b, lang="zh_Hans_CN").get(f"/payments/disbursements/{first.id}").get_data(as_text=True)
    assert "退汇" in zh or "退回" in zh


def test_return_is_403_for_non_finance_and_another_payee(world, client, login_as):
    loan, first = paid_loan(world)
    other = fresh_user("sme")
    payee = fresh_user("sme", first.payee)
    db.session.flush()
    for user in (world.officer, other, payee):
        c = login_as(user)
        assert c.post(f"/payments/disbursements/{first.id}/return", data={"reason": "closed"}).status_code == 403
    assert first.status == "paid"
    assert login_as(other).get(f"/payments/disbursements/{first.id}").status_code in (403, 404)
    page = login_as(payee).get(f"/payments/disbursements/{first.id}").get_data(as_text=True)
    assert 'id="return-form"' not in page


def test_verification_page_says_paid_returned_superseded(world, client):
    from voucher.documents.builders import verify_note
    from voucher.documents.models import Document

    loan, first = paid_loan(world)
    doc = Document(kind="payment_order", subject_type="disbursement", subject_id=first.id)
    assert verify_note(doc)[0] == "paid"
    returns.record_return(world.finance_a.actor(), first.id, "Account closed")
    assert verify_note(doc)[0] == "returned"
    new_account(first.payee)
    second = world.prepare("loan_application", loan.id, "full")
    state, text = verify_note(doc)
    assert state == "superseded" and second.reference in text
    assert verify_note(Document(kind="payment_order", subject_type="disbursement", subject_id=second.id))[0] == "pending"


def test_verification_page_of_the_payment_orders(world, client):
    from tests.documents.conftest import make_document

    loan, first = paid_loan(world)
    order = make_document(subject_id=first.id, subject_label=first.reference)
    returns.record_return(world.finance_a.actor(), first.id, "Account closed")
    new_account(first.payee)
    second = world.approved("loan_application", loan.id, "full")
    order2 = make_document(subject_id=second.id, subject_label=second.reference)
    db.session.flush()
    page = client.get(f"/verify/{order.verification_code}").get_data(as_text=True)
    assert 'data-state="superseded"' in page and second.reference in page
    page = client.get(f"/verify/{order2.verification_code}").get_data(as_text=True)
    assert 'data-state="pending"' in page
    world.batch(second)
    world.pay(second)
    assert 'data-state="paid"' in client.get(f"/verify/{order2.verification_code}").get_data(as_text=True)
    returns.record_return(world.finance_a.actor(), second.id, "Wrong name")
    assert 'data-state="returned"' in client.get(f"/verify/{order2.verification_code}").get_data(as_text=True)


def test_api_records_the_return_and_prepares_again(world, client):
    from tests.api.conftest import Api, token_for

    loan, first = paid_loan(world)
    finance = Api(client, token_for(world.finance_a))
    assert Api(client, token_for(world.officer)).post(
        f"/disbursements/{first.id}/return", {"reason": "closed"}).status_code == 403
    assert finance.post(f"/disbursements/{first.id}/return", {"reason": ""}).status_code == 422
    assert finance.post(f"/disbursements/{first.id}/return", {"reason": "x" * 5000}).status_code == 422
    assert finance.post("/disbursements/987654321/return", {"reason": "closed"}).status_code == 404
    done = finance.post(f"/disbursements/{first.id}/return", {"reason": "Account closed", "bank_reference": "RT-1"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["status"], body["return_reason"], body["return_bank_reference"]) == ("returned", "Account closed", "RT-1")
    assert finance.post(f"/disbursements/{first.id}/return", {"reason": "again"}).status_code == 409
    item = {"source_type": "loan_application", "source_id": loan.id, "milestone": "full"}
    refused = finance.post("/disbursements", item)
    assert refused.status_code == 409 and first.reference in refused.get_data(as_text=True)
    again = finance.post("/disbursements", {**item, "confirm_same_account": True})
    assert again.status_code == 201 and again.get_json()["status"] == "prepared"


def test_the_reconciliation_report_counts_a_returned_line_reconciled(world):
    from tests.payments.test_reconciliation import csv_file
    from voucher.payments import reconciliation as recon
    from voucher.payments.documents import bank_purpose

    loan = world.loan()
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    batch = world.batch(d)
    recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                           data=csv_file([(bank_purpose(d), "40000.00")]))
    later = recon.import_statement(world.finance_a.actor(), batch.id, filename="r2.csv",
                                   data=csv_file([(bank_purpose(d), "-40000.00", "退汇")]))
    recon.decide(world.finance_b.actor(), later.rows[0].id, "record_returned", "Account closed")
    [line] = recon.batch_reconciliation(world.finance_a.actor(), batch.id).lines
    assert line.bank_debit == D("0.00") and line.reconciled
    assert recon.programme_unreconciled(world.programme.id) == D("0.00")


def test_the_providers_payments_leave_out_a_returned_one(world):
    trial = world.kick_off(world.trial("100000.00"))
    world.announce()
    d = world.approved("trial_application", trial.application_id, "advance")
    world.batch(d)
    world.pay(d)
    assert [a for _t, a, *_rest in figures.payments_to_provider(world.provider_org.id)] == [D("30000.00")]
    returns.record_return(world.finance_a.actor(), d.id, "Account closed")
    assert figures.payments_to_provider(world.provider_org.id) == []
    assert figures.paid_between(date(2000, 1, 1), date(2100, 1, 1), provider_id=world.provider_org.id) == D("0.00")
