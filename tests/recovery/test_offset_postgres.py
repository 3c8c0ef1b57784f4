"""Two finance officers prepare payments to the same debtor at the same instant (PostgreSQL, real
commits, two connections): the recovery order's row lock serialises the offsets, so the outstanding
money is offset once — the two offsets add up to at most what the order owes — and paying both
settles the order exactly, the programme's available funds rising by exactly the amount recovered."""
from __future__ import annotations

import io
import threading
from datetime import date

import time_machine
from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.recovery.conftest import PDF, TEST_NOW, Upload, World, pay_robot
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.payments import services
from voucher.payments.models import Disbursement
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry, Programme
from voucher.recovery import services as recovery
from voucher.recovery.models import RecoveryOrder

pytestmark = needs_postgres
TODAY = date(2026, 11, 20)


def test_two_payments_prepared_at_once_never_offset_the_same_money_twice(committed_app):
    app = committed_app
    with time_machine.travel(TEST_NOW, tick=True):
        with app.app_context(), app.test_request_context():
            world = World()
            robot = pay_robot(world)
            order = recovery.record_breach(world.officer.actor(), "robot_application", robot.id,
                                           obligation_code="robot_in_use", breach_on=TODAY, reason="Sold.",
                                           evidence=Upload(io.BytesIO(PDF), "photo.pdf"), method="pro_rata",
                                           today=TODAY)  # 66,697.08
            org = db.session.get(Organisation, robot.enterprise_id)
            loan = world.loan(enterprise=org)  # 40,000.00
            second = world.robot(enterprise=org)  # 100,000.00
            world.announce()
            db.session.commit()
            order_id, programme_id, owed = order.id, world.programme.id, order.amount
            items = [("loan_application", loan.id), ("robot_application", second.id)]
            finance_ids = (world.finance_a.id, world.finance_b.id)
            approvers = {world.finance_a.id: (world.finance_b.id, world.finance_b.plain_password),
                         world.finance_b.id: (world.finance_a.id, world.finance_a.plain_password)}
            db.session.remove()
        barrier = threading.Barrier(2)
        prepared, errors = {}, []

        def prepare(user_id, item):
            from voucher.auth.models import User

            with app.app_context(), app.test_request_context():
                actor = db.session.get(User, user_id).actor()
                try:
                    barrier.wait(timeout=30)
                    d = services.prepare(actor, item[0], item[1], "full")
                    db.session.commit()
                    prepared[user_id] = d.id
                except Exception as exc:  # noqa: BLE001
                    db.session.rollback()
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=prepare, args=(u, item)) for u, item in zip(finance_ids, items)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        with app.app_context(), app.test_request_context():
            from voucher.auth.models import User

            ds = [db.session.get(Disbursement, i) for i in prepared.values()]
            assert sum(d.offset_amount for d in ds) == owed  # all of it, once: never more
            assert all(0 <= d.offset_amount <= d.amount for d in ds)  # whichever came first took what it could
            programme = db.session.get(Programme, programme_id)
            before = ledger.balances(programme).available
            for preparer, d_id in prepared.items():
                approver_id, password = approvers[preparer]
                approver = db.session.get(User, approver_id).actor()
                d = services.approve(approver, d_id, password)
                if d.transfer_amount == 0:
                    services.record_offset_paid(approver, d.id)
                else:
                    services.create_batch(approver, programme_id, [d.id])
                    services.record_result(approver, d.id, "paid", bank_reference=f"BANK-{d.id}")
            db.session.commit()
            order = db.session.get(RecoveryOrder, order_id)
            assert order.status == "settled" and order.settled_amount == owed
            assert ledger.balances(programme).available - before == owed
            assert db.session.scalar(select(func.sum(FundLedgerEntry.amount)).where(
                FundLedgerEntry.kind == "recover", FundLedgerEntry.programme_id == programme_id)) == owed
            assert ledger.recomputed_balances(programme) == ledger.balances(programme)
