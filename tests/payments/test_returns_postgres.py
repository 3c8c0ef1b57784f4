"""Two finance officers record the bank's return (退汇) of the same paid line at the same instant
(PostgreSQL, real commits, two connections): the disbursement's row lock makes the second wait, see
``returned`` and be refused, so the ledger shows exactly one return."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.payments.conftest import World
from voucher.audit.models import AuditEvent
from voucher.errors import TransitionNotAllowed
from voucher.extensions import db
from voucher.payments import returns
from voucher.payments.models import Disbursement
from voucher.programmes.models import FundLedgerEntry
from voucher.programmes.services import balances, recomputed_balances

pytestmark = needs_postgres


def test_two_officers_returning_at_once_make_one_return(committed_app):
    app = committed_app
    with app.app_context(), app.test_request_context():
        world = World()
        loan = world.loan()
        world.announce()
        d = world.approved("loan_application", loan.id, "full")
        world.batch(d)
        world.pay(d)
        db.session.commit()
        d_id, programme_id = d.id, world.programme.id
        actors = [world.finance_a.actor(), world.finance_b.actor()]
        db.session.remove()

    barrier = threading.Barrier(len(actors))
    outcomes, errors = [], []

    def record(actor):
        try:
            with app.app_context(), app.test_request_context():
                barrier.wait(timeout=30)
                try:
                    returns.record_return(actor, d_id, "Account closed")
                    db.session.commit()
                    outcomes.append("returned")
                except TransitionNotAllowed:
                    db.session.rollback()
                    outcomes.append("refused")
                finally:
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(outcomes) == ["refused", "returned"]
    with app.app_context():
        assert db.session.get(Disbursement, d_id).status == "returned"
        assert db.session.scalar(select(func.count()).select_from(FundLedgerEntry)
                                 .where(FundLedgerEntry.kind == "return")) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "disbursement.mark_returned")) == 1
        from voucher.programmes.models import Programme

        programme = db.session.get(Programme, programme_id)
        assert balances(programme) == recomputed_balances(programme) and balances(programme).paid == 0
