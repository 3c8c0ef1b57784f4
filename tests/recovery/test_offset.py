"""Recovery by offset (抵扣, issue 18 §3): a later payment to the debtor nets what it owes on its open
recovery orders.  The disbursement carries the offset and transfers the rest (bank file, batch total,
approval); paid, the ledger records the full payment and the recovered offset, so the programme's
available funds rise by exactly the offset; rejected or failed first, the offset is released; a
return (退汇) concerns the transfer only, and the next payment of the item carries the offset."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.recovery.conftest import evidence
from voucher.audit.models import AuditEvent
from voucher.enterprises.models import Organisation
from voucher.errors import Conflict, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.payments import returns, services
from voucher.payments.documents import bank_lines
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry
from voucher.recovery import services as recovery
from voucher.recovery.models import RecoveryOffset, RecoverySettlement

D = Decimal
RT = "robot_application"
TODAY = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).date()
PRO_RATA = D("66697.08")  # 100,000.00 paid a year ago, 3-year obligation: the conftest's worked example


def owing(world, method="pro_rata", paid_days_ago=365, breach_on=TODAY):
    """A robot subsidy of 100,000.00 paid ``paid_days_ago`` days ago and a recovery order on it; the
    enterprise (the debtor) then gets a second robot subsidy, approved and announced."""
    first = world.robot()
    entry = ledger.pay(world.finance_a.actor(), RT, first.id, D("100000.00"), "full")
    entry.created_at = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")) - timedelta(days=paid_days_ago)
    db.session.flush()
    order = recovery.record_breach(world.officer.actor(), RT, first.id, obligation_code="robot_in_use",
                                   breach_on=breach_on, reason="The robots were sold.", evidence=evidence(),
                                   method=method, today=TODAY)
    return first, order, db.session.get(Organisation, first.enterprise_id)


def second_robot(world, org):
    app = world.robot(enterprise=org)
    world.announce()
    return app


def entries(source_type, source_id):
    return [(e.kind, e.amount) for e in db.session.scalars(select(FundLedgerEntry).where(
        FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id)
        .order_by(FundLedgerEntry.seq))]


def test_a_payment_to_the_debtor_is_netted_and_the_recovered_money_is_available_again(world):
    first, order, org = owing(world)
    robot = second_robot(world, org)
    d = world.prepare(RT, robot.id, "full")
    assert (d.amount, d.offset_amount, d.transfer_amount) == (D("100000.00"), PRO_RATA, D("33302.92"))
    [link] = recovery.offsets_of(d.id)
    assert (link.order_id, link.amount, link.status) == (order.id, PRO_RATA, "pending")
    assert recovery.open_to_offset(order) == 0 and order.status == "open"  # nothing settled yet
    world.approve(d)
    batch = world.batch(d)
    assert batch.total == D("33302.92")
    assert [line.amount for line in bank_lines(batch)] == [D("33302.92")]
    before = ledger.balances(world.programme)
    world.pay(d)
    after = ledger.balances(world.programme)
    assert after.available - before.available == PRO_RATA  # exactly the recovered amount
    assert ledger.recomputed_balances(world.programme) == after
    assert entries(RT, robot.id)[-1] == ("pay", D("100000.00"))
    assert entries(RT, first.id)[-1] == ("recover", PRO_RATA)
    assert order.status == "settled" and order.settled_amount == PRO_RATA
    [settlement] = order.settlements
    assert (settlement.kind, settlement.disbursement_id, settlement.bank_reference) == ("offset", d.id, None)
    assert settlement.disbursement_reference == d.reference and link.status == "settled"
    assert db.session.query(AuditEvent).filter_by(action="recovery_order.offset", object_id=str(order.id)).count() == 1


def test_the_approval_is_bound_to_the_offset(world):
    _first, _order, org = owing(world)
    d = world.prepare(RT, second_robot(world, org).id, "full")
    world.approve(d)
    d.offset_amount = D("1.00")  # whatever changed it, the approval no longer matches
    assert not services.approval_valid(d)


def test_the_oldest_order_is_offset_first_and_two_payments_never_take_the_same_money(world):
    first, order, org = owing(world)
    loan = world.loan(enterprise=org)
    robot = second_robot(world, org)
    d1 = world.prepare("loan_application", loan.id, "full")
    assert (d1.offset_amount, d1.transfer_amount) == (D("40000.00"), D("0.00"))  # offset in full
    d2 = world.prepare(RT, robot.id, "full")
    assert d2.offset_amount == PRO_RATA - D("40000.00")
    assert recovery.open_to_offset(order) == 0
    # a repayment may not take what the payments under way hold, nor may the order be cancelled
    with pytest.raises(ValidationFailed):
        recovery.record_repayment(world.finance_a.actor(), order.id, amount=D("0.01"), paid_on=TODAY,
                                  bank_reference="CR-X", today=TODAY)
    with pytest.raises(Conflict):
        recovery.cancel(world.officer.actor(), order.id, "Recorded in error.")


def test_a_disbursement_offset_in_full_is_recorded_paid_by_offset_not_batched(world):
    first, order, org = owing(world)
    loan = world.loan(enterprise=org)
    world.announce()
    d = world.approved("loan_application", loan.id, "full")
    with pytest.raises(ValidationFailed) as err:
        world.batch(d)
    assert err.value.field == "disbursement_ids"
    before = ledger.balances(world.programme)
    services.record_offset_paid(world.finance_a.actor(), d.id)
    assert d.status == "paid" and d.bank_reference == f"OFFSET-{d.reference}"
    assert ledger.balances(world.programme).available - before.available == D("40000.00")
    assert order.status == "partly_settled" and order.outstanding == PRO_RATA - D("40000.00")
    with pytest.raises(TransitionNotAllowed):
        services.record_offset_paid(world.finance_a.actor(), d.id)


def test_a_disbursement_with_a_transfer_is_not_recorded_paid_by_offset(world):
    _first, _order, org = owing(world)
    d = world.approved(RT, second_robot(world, org).id, "full")
    with pytest.raises(Conflict):
        services.record_offset_paid(world.finance_a.actor(), d.id)


@pytest.mark.parametrize("how", ["reject", "fail"])
def test_a_rejected_or_failed_payment_releases_the_offset(world, how):
    first, order, org = owing(world)
    robot = second_robot(world, org)
    d = world.prepare(RT, robot.id, "full")
    if how == "reject":
        services.reject(world.finance_b.actor(), d.id, world.finance_b.plain_password, "Wrong milestone.")
    else:
        world.approve(d)
        world.batch(d)
        world.fail(d)
    assert [o.status for o in recovery.offsets_of(d.id)] == ["released"]
    assert recovery.open_to_offset(order) == PRO_RATA and order.settled_amount == 0
    assert ("recover", PRO_RATA) not in entries(RT, first.id)
    again = world.prepare(RT, robot.id, "full")  # the next payment of the item offsets afresh
    assert again.offset_amount == PRO_RATA


def test_a_return_concerns_the_transfer_only_and_the_next_payment_carries_the_offset(world):
    first, order, org = owing(world)
    robot = second_robot(world, org)
    d = world.approved(RT, robot.id, "full")
    world.batch(d)
    world.pay(d)
    available = ledger.balances(world.programme).available
    returns.record_return(world.finance_a.actor(), d.id, "Account closed.")
    assert order.status == "settled" and order.settled_amount == PRO_RATA  # the offset stays settled
    assert ledger.balances(world.programme).available == available
    again = services.prepare(world.finance_a.actor(), RT, robot.id, "full", confirm_same_account=True)
    assert (again.offset_amount, again.transfer_amount) == (PRO_RATA, D("33302.92"))
    assert [o.status for o in recovery.offsets_of(again.id)] == ["carried"]
    world.approve(again)
    world.batch(again)
    world.pay(again)
    assert [k for k, _a in entries(RT, first.id)].count("recover") == 1  # never recovered twice
    assert db.session.query(RecoverySettlement).filter_by(order_id=order.id).count() == 1
    assert ledger.recomputed_balances(world.programme) == ledger.balances(world.programme)


def test_a_payee_without_recovery_orders_is_paid_in_full(world):
    robot = world.robot()
    world.announce()
    d = world.prepare(RT, robot.id, "full")
    assert d.offset_amount == 0 and d.transfer_amount == d.amount
    assert db.session.scalars(select(RecoveryOffset).where(RecoveryOffset.disbursement_id == d.id)).all() == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days_ago=st.integers(min_value=1, max_value=1000), repaid_fen=st.integers(min_value=0, max_value=9_000_000),
       breach_back=st.integers(min_value=0, max_value=300))
def test_the_available_balance_rises_by_exactly_the_offset(world, days_ago, repaid_fen, breach_back):
    """Over payment days, breach days and an earlier partial repayment: the offset is what the order
    still owes (never more, never more than the payment), and the programme's available funds rise by
    exactly it, the ledger's running totals agreeing with the entries."""
    breach_on = max(TODAY - timedelta(days=breach_back), TODAY - timedelta(days=days_ago))
    first, order, org = owing(world, paid_days_ago=days_ago, breach_on=breach_on)
    repaid = min(D(repaid_fen) / 100, order.amount - D("0.01"))
    if repaid > 0:
        recovery.record_repayment(world.finance_a.actor(), order.id, amount=repaid, paid_on=TODAY,
                                  bank_reference=f"CR-{secrets.token_hex(6)}", today=TODAY)
    owed = order.outstanding
    robot = second_robot(world, org)
    d = world.approved(RT, robot.id, "full")
    assert d.offset_amount == min(owed, d.amount) and 0 <= d.offset_amount <= d.amount
    before = ledger.balances(world.programme)
    if d.transfer_amount > 0:
        world.batch(d)
        before = ledger.balances(world.programme)
        world.pay(d)
    else:  # offset in full: nothing to transfer, so it is recorded paid by offset, never batched
        services.record_offset_paid(world.finance_a.actor(), d.id)
    after = ledger.balances(world.programme)
    assert after.available - before.available == d.offset_amount
    assert order.settled_amount == repaid + d.offset_amount <= order.amount
    assert sum((s.amount for s in order.settlements), D("0")) == order.settled_amount
    assert ledger.recomputed_balances(world.programme) == after
