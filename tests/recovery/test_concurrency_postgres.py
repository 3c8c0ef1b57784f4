"""Two finance officers record repayments of the same recovery order at the same instant (PostgreSQL,
real commits, two connections): the order's row lock serialises them, so the order is never settled
beyond its amount and the ledger records exactly the repayments that were accepted."""
from __future__ import annotations

import io
import threading
from datetime import date
from decimal import Decimal

import time_machine
from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.recovery.conftest import PDF, TEST_NOW, Upload, World, pay_robot
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry
from voucher.recovery import services as recovery
from voucher.recovery.models import RecoveryOrder

pytestmark = needs_postgres
TODAY = date(2026, 11, 20)


def test_two_repayments_at_once_never_settle_more_than_the_order(committed_app):
    app = committed_app
    with time_machine.travel(TEST_NOW, tick=True):
        with app.app_context(), app.test_request_context():
            world = World()
            robot = pay_robot(world)
            order = recovery.record_breach(world.officer.actor(), "robot_application", robot.id,
                                           obligation_code="robot_in_use", breach_on=TODAY, reason="Sold.",
                                           evidence=Upload(io.BytesIO(PDF), "photo.pdf"), method="whole",
                                           today=TODAY)
            db.session.commit()
            order_id, programme_id = order.id, world.programme.id
            finance_ids = (world.finance_a.id, world.finance_b.id)
            available_before = ledger.balances(world.programme).available
            db.session.remove()
        barrier = threading.Barrier(2)
        results, errors = [], []

        def repay(user_id, ref):
            from voucher.auth.models import User

            with app.app_context(), app.test_request_context():
                actor = db.session.get(User, user_id).actor()
                try:
                    barrier.wait(timeout=30)
                    recovery.record_repayment(actor, order_id, amount=Decimal("60000.00"), paid_on=TODAY,
                                              bank_reference=ref, today=TODAY)
                    db.session.commit()
                    results.append("ok")
                except ValidationFailed:
                    db.session.rollback()
                    results.append("refused")
                except Exception as exc:  # noqa: BLE001
                    db.session.rollback()
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=repay, args=(u, f"CR-{n}")) for n, u in enumerate(finance_ids)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert sorted(results) == ["ok", "refused"]
        with app.app_context():
            order = db.session.get(RecoveryOrder, order_id)
            assert order.settled_amount == Decimal("60000.00") and order.status == "partly_settled"
            assert db.session.scalar(select(func.count()).select_from(FundLedgerEntry).where(
                FundLedgerEntry.kind == "recover")) == 1
            from voucher.programmes.models import Programme

            programme = db.session.get(Programme, programme_id)
            assert ledger.balances(programme).available - available_before == Decimal("60000.00")
            assert ledger.recomputed_balances(programme) == ledger.balances(programme)
