"""Five officers cancelling the same grant at the same instant release its reservation once
(PostgreSQL, real commits): the application row lock makes the others wait and find it cancelled."""
from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import fresh_user
from tests.payments.conftest import World
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


def test_a_preparation_and_a_cancellation_at_the_same_instant_never_both_succeed(committed_app):
    """Finance prepares the payment of a grant while an officer cancels it: both lock the grant's row
    first, so either the grant is cancelled and nothing was prepared, or the payment is under way and
    the cancellation was refused — never a cancelled grant with a live disbursement."""
    from datetime import date

    from voucher.errors import Conflict, DomainError
    from voucher.payments import services as payments
    from voucher.payments.models import LIVE_STATES, Disbursement

    app = committed_app
    results = []
    for round_ in range(6):
        with app.app_context(), app.test_request_context():
            world = World()
            loan = world.loan()
            world.announce(on=date(2026, 10, 20))
            db.session.commit()
            loan_id, officer, finance = loan.id, world.officer.actor(), world.finance_a.actor()
            db.session.remove()

        barrier = threading.Barrier(2)
        outcome, errors = {}, []

        def cancel():
            try:
                with app.app_context(), app.test_request_context():
                    barrier.wait(timeout=30)
                    try:
                        services.cancel_grant(officer, "loan", loan_id, "Objection upheld.")
                        db.session.commit()
                        outcome["cancel"] = "done"
                    except Conflict:
                        db.session.rollback()
                        outcome["cancel"] = "refused"
                    finally:
                        db.session.remove()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        def prepare():
            try:
                with app.app_context(), app.test_request_context():
                    barrier.wait(timeout=30)
                    try:
                        payments.prepare(finance, "loan_application", loan_id, "full")
                        db.session.commit()
                        outcome["prepare"] = "done"
                    except DomainError:
                        db.session.rollback()
                        outcome["prepare"] = "refused"
                    finally:
                        db.session.remove()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=cancel), threading.Thread(target=prepare)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert sorted(outcome.values()) == ["done", "refused"], outcome
        with app.app_context():
            status = db.session.get(LoanApplication, loan_id).status
            live = db.session.scalar(select(func.count()).select_from(Disbursement).where(
                Disbursement.source_id == loan_id, Disbursement.source_type == "loan_application",
                Disbursement.status.in_(LIVE_STATES)))
            assert (status, live) in (("cancelled", 0), ("approved", 1)), (round_, status, live)
            results.append(status)
            db.session.remove()
