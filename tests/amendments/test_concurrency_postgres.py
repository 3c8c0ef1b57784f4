"""Two requests to change the same grant at the same instant (PostgreSQL, real commits, two
connections): the grant's row lock and the partial unique index leave exactly one open request."""
from __future__ import annotations

import threading
from decimal import Decimal

import time_machine
from sqlalchemy import func, select

from tests.amendments.conftest import TEST_NOW, World
from tests.conftest import needs_postgres
from voucher.amendments import services as amendments
from voucher.amendments.models import GrantAmendment
from voucher.applications.services import local_today
from voucher.errors import Conflict
from voucher.extensions import db

pytestmark = needs_postgres


def test_two_requests_at_once_leave_one_open(committed_app):
    app = committed_app
    with time_machine.travel(TEST_NOW, tick=True):
        with app.app_context(), app.test_request_context():
            world = World()
            trial = world.trial("200000.00")
            db.session.commit()
            source_id, sme_id = trial.application_id, world.smes[trial.id].id
            db.session.remove()
        barrier = threading.Barrier(2)
        results, errors = [], []

        def ask(amount):
            from voucher.auth.models import User

            with app.app_context(), app.test_request_context():
                actor = db.session.get(User, sme_id).actor()
                try:
                    barrier.wait(timeout=30)
                    amendments.request_amendment(actor, "trial_application", source_id,
                                                 {"requested_amount": Decimal(amount)}, "Smaller line.", local_today())
                    db.session.commit()
                    results.append("ok")
                except Conflict:
                    db.session.rollback()
                    results.append("conflict")
                except Exception as exc:  # noqa: BLE001
                    db.session.rollback()
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=ask, args=(a,)) for a in ("150000.00", "140000.00")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert sorted(results) == ["conflict", "ok"]
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(GrantAmendment)
                                     .where(GrantAmendment.status == "requested")) == 1
