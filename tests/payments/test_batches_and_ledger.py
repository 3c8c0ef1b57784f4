"""Payment batches, bank results and the fund ledger: paying moves reserved to paid, a failed line
returns to the queue and is paid once (never twice), and the ledger after full trial cycles equals
the hand computation."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from voucher.errors import Conflict, Duplicate, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.payments import queries, services
from voucher.payments.models import Disbursement, PaymentBatch
from voucher.programmes.models import FundLedgerEntry
from voucher.programmes.services import balances, recomputed_balances, source_outstanding, source_paid

D = Decimal


def pay_entries(source_type, source_id):
    return list(db.session.scalars(select(FundLedgerEntry).where(
        FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
        FundLedgerEntry.kind == "pay").order_by(FundLedgerEntry.seq)))


def test_ledger_after_a_full_trial_cycle_equals_the_hand_computation(world):
    """200,000 approved: 30% advance 60,000 paid at kick-off, 70% balance 140,000 paid after a pass."""
    trial = world.kick_off(world.trial("200000.00"))
    world.announce()
    app_id = trial.application_id
    assert balances(world.programme).reserved == D("200000.00")

    advance = world.approved("trial_application", app_id, "advance")
    assert advance.amount == D("60000.00") and advance.payee_id == world.provider_org.id
    world.batch(advance)
    world.pay(advance)
    bal = balances(world.programme)
    assert (bal.reserved, bal.paid, bal.available) == (D("140000.00"), D("60000.00"), D("49800000.00"))
    assert [i.milestone for i in queries.payables(source=("trial_application", app_id))] == []  # balance not due yet

    world.evaluate(world.complete(trial), "80")
    assert queries.payables(source=("trial_application", app_id)) == []  # passed, but not yet accepted
    with pytest.raises(Conflict):  # so the balance cannot be prepared ...
        world.prepare("trial_application", app_id, "balance")
    world.accept(trial, "provider")
    with pytest.raises(Conflict):  # ... nor with the provider's acceptance alone
        world.prepare("trial_application", app_id, "balance")
    world.accept(trial, "sme")
    [item] = queries.payables(source=("trial_application", app_id))
    assert (item.milestone, item.amount, item.hold) == ("balance", D("140000.00"), None)
    balance = world.approved("trial_application", app_id, "balance")
    world.batch(balance)
    world.pay(balance)
    bal = balances(world.programme)
    assert (bal.reserved, bal.paid, bal.available) == (D("0.00"), D("200000.00"), D("49800000.00"))
    assert bal == recomputed_balances(world.programme)
    assert [e.milestone for e in pay_entries("trial_application", app_id)] == ["advance", "balance"]
    assert source_outstanding("trial_application", app_id) == D("0.00")
    assert queries.payables(source=("trial_application", app_id)) == []


def test_advance_paid_then_failed_evaluation_releases_the_balance(world):
    """150,000 approved: advance 45,000 paid; the evaluation fails (score 50) → 105,000 released."""
    trial = world.kick_off(world.trial("150000.00"))
    world.announce()
    advance = world.approved("trial_application", trial.application_id, "advance")
    world.batch(advance)
    world.pay(advance)
    world.evaluate(world.complete(trial), "50")
    assert trial.outcome == "failed"
    bal = balances(world.programme)
    assert (bal.reserved, bal.paid) == (D("0.00"), D("45000.00"))
    assert bal.available == D("50000000.00") - D("45000.00")
    assert bal == recomputed_balances(world.programme)
    assert source_paid("trial_application", trial.application_id) == D("45000.00")
    assert queries.payables(source=("trial_application", trial.application_id)) == []  # no balance to pay
    with pytest.raises(Conflict):
        world.prepare("trial_application", trial.application_id, "balance")


def test_a_failed_bank_line_returns_to_the_queue_and_is_paid_exactly_once(world):
    loan = world.loan()
    world.announce()
    first = world.approved("loan_application", loan.id, "full")
    batch = world.batch(first)
    world.fail(first, "Account number does not exist")
    assert first.status == "failed" and first.result_reason == "Account number does not exist"
    assert db.session.get(PaymentBatch, batch.id).status == "completed"
    assert source_outstanding("loan_application", loan.id) == D("40000.00")  # nothing paid
    [item] = queries.payables(source=("loan_application", loan.id))
    assert (item.amount, item.hold) == (D("40000.00"), None)  # back in the queue

    second = world.approved("loan_application", loan.id, "full")
    assert second.id != first.id
    world.batch(second)
    world.pay(second, ref="ICBC-0001")
    assert second.status == "paid" and second.ledger_entry_id is not None
    assert len(pay_entries("loan_application", loan.id)) == 1
    assert balances(world.programme).paid == D("40000.00")
    # Never twice: the queue no longer lists it, preparing again is refused, the index refuses a copy.
    assert queries.payables(source=("loan_application", loan.id)) == []
    with pytest.raises(Duplicate):
        world.prepare("loan_application", loan.id, "full")
    with pytest.raises(TransitionNotAllowed):
        world.pay(second)
    assert len(pay_entries("loan_application", loan.id)) == 1


def test_the_failed_line_cannot_be_recorded_again(world):
    loan = world.loan()
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    world.batch(d)
    world.fail(d)
    with pytest.raises(TransitionNotAllowed):
        world.pay(d)
    assert pay_entries("loan_application", loan.id) == []


def test_paid_needs_a_bank_reference_and_failed_a_reason(world):
    loan = world.loan()
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    world.batch(d)
    with pytest.raises(ValidationFailed) as err:
        services.record_result(world.finance_a.actor(), d.id, "paid", bank_reference=" ")
    assert err.value.field == "bank_reference"
    with pytest.raises(ValidationFailed) as err:
        services.record_result(world.finance_a.actor(), d.id, "failed", reason="")
    assert err.value.field == "reason"
    assert d.status == "in_batch"


def test_a_batch_takes_only_approved_disbursements_of_its_programme(world):
    loan, robot = world.loan(), world.robot()
    world.announce()
    prepared = world.prepare("loan_application", loan.id, "full")
    with pytest.raises(TransitionNotAllowed):
        world.batch(prepared)
    approved = world.approved("robot_application", robot.id, "full")
    with pytest.raises(ValidationFailed):
        services.create_batch(world.finance_a.actor(), world.programme.id, [])
    batch = world.batch(approved)
    assert (batch.line_count, batch.total, approved.status, approved.batch_id) == (1, D("100000.00"), "in_batch",
                                                                                   batch.id)
    with pytest.raises(TransitionNotAllowed):
        world.batch(approved)  # already in a batch


def test_cancelling_a_batch_returns_its_lines_to_approved(world):
    loan = world.loan()
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    batch = world.batch(d)
    services.cancel_batch(world.finance_a.actor(), batch.id, "Wrong bank date")
    assert batch.status == "cancelled" and d.status == "approved" and d.batch_id is None
    again = world.batch(d)
    world.pay(d)
    assert again.status == "completed" and d.status == "paid"
    with pytest.raises(Conflict):
        services.cancel_batch(world.finance_a.actor(), again.id, "too late")


def test_a_batch_completes_when_every_line_has_a_result(world):
    loan, robot = world.loan(), world.robot()
    world.announce()
    d1 = world.approved("loan_application", loan.id, "full")
    d2 = world.approved("robot_application", robot.id, "full")
    batch = world.batch(d1, d2)
    world.pay(d1)
    assert batch.status == "confirmed"
    world.fail(d2)
    assert batch.status == "completed" and batch.completed_at is not None
    assert queries.batch_progress([batch.id])[batch.id] == {"in_batch": 0, "paid": 1, "failed": 1, "approved": 0}
    assert balances(world.programme).paid == D("40000.00")


def test_only_finance_officers_prepare_and_pay(world):
    from voucher.errors import Forbidden

    loan = world.loan()
    world.announce()
    with pytest.raises(Forbidden):
        services.prepare(world.officer.actor(), "loan_application", loan.id, "full")
    assert db.session.scalar(select(func.count()).select_from(Disbursement)) == 0
