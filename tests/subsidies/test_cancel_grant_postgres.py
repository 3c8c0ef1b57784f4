"""Five officers cancelling the same grant at the same instant release its reservation once
(PostgreSQL, real commits): the application row lock makes the others wait and find it cancelled."""
from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.payments.conftest import World, fresh_user
from voucher.errors import TransitionNotAllowed
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry, Programme
from voucher.subsidies import services
from voucher.subsidies.models import LoanApplication

pytestmark = needs_postgres


def test_concurrent_cancellations_release_the_reservation_once(committed_app):
    app = committed_app
    with app.app_context(), app.test_request_context():
        world = World()
        loan = world.loan()
        officers = [world.officer] + [fresh_user("officer") for _ in range(4)]
        db.session.commit()
        loan_id, programme_id = loan.id, world.programme.id
        actors = [o.actor() for o in officers]
        db.session.remove()

    barrier = threading.Barrier(len(actors))
    outcomes, errors = [], []

    def cancel(actor):
        try:
            with app.app_context(), app.test_request_context():
                barrier.wait(timeout=30)
                try:
                    services.cancel_grant(actor, "loan", loan_id, "Objection upheld.")
                    db.session.commit()
                    outcomes.append("cancelled")
                except TransitionNotAllowed:
                    db.session.rollback()
                    outcomes.append("refused")
                finally:
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=cancel, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(outcomes) == ["cancelled"] + ["refused"] * 4
    with app.app_context():
        assert db.session.get(LoanApplication, loan_id).status == "cancelled"
        assert db.session.scalar(select(func.count(FundLedgerEntry.id)).where(
            FundLedgerEntry.source_id == loan_id, FundLedgerEntry.kind == "release")) == 1
        programme = db.session.get(Programme, programme_id)
        assert ledger.balances(programme).reserved == Decimal("0.00")
        assert ledger.recomputed_balances(programme) == ledger.balances(programme)
