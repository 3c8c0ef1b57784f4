"""Ten finance officers' "prepare" clicks for the same payable item at the same instant create
exactly one disbursement (PostgreSQL, real commits, real requests): the partial unique index makes
the others wait, fail on the key and answer with the one that exists."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import do_login, fresh_user
from tests.payments.conftest import World
from voucher.audit.models import AuditEvent
from voucher.extensions import db
from voucher.payments.models import Disbursement

pytestmark = needs_postgres


def test_ten_concurrent_prepare_requests_create_exactly_one_disbursement(committed_app):
    app = committed_app
    with app.app_context(), app.test_request_context():
        world = World()
        loan = world.loan()
        world.announce()
        db.session.commit()
        loan_id = loan.id
        users = [world.finance_a, world.finance_b] + [fresh_user("finance") for _ in range(8)]
        db.session.commit()
        credentials = [(u.email, u.plain_password) for u in users]
        db.session.remove()

    clients = []
    for email, password in credentials:
        client = app.test_client()
        assert do_login(client, email, password).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    statuses, errors = [], []

    def click(client):
        try:
            barrier.wait(timeout=30)
            response = client.post("/payments/prepare", data={"source_type": "loan_application",
                                                              "source_id": str(loan_id), "milestone": "full"})
            statuses.append((response.status_code, response.headers.get("Location", "")))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(statuses) == 10
    with app.app_context():
        rows = list(db.session.scalars(select(Disbursement)))
        assert len(rows) == 1
        [d] = rows
        assert (d.source_id, d.milestone, d.status) == (loan_id, "full", "prepared")
        # Everyone lands on the one disbursement: one created it, nine were told it exists.
        assert all(code in (302, 303) and location.endswith(f"/payments/disbursements/{d.id}")
                   for code, location in statuses), statuses
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "disbursement.prepared")) == 1


def test_concurrent_sweeps_announce_an_ended_notice_once(committed_app):
    """Two workers' scheduled jobs (or a job and the cron command) at the same instant: the row lock
    makes the second see the mark and skip, so finance gets one message per notice."""
    from datetime import date

    from voucher.notifications.models import Notification
    from voucher.payments import services

    app = committed_app
    with app.app_context(), app.test_request_context():
        world = World()
        world.loan()
        world.announce(on=date(2026, 10, 20))
        db.session.commit()
        finance_id = world.finance_a.id
        db.session.remove()

    barrier = threading.Barrier(4)
    counts, errors = [], []

    def sweep():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                counts.append(len(services.announce_payable_notices(today=date(2026, 11, 20))))
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(counts) == [0, 0, 0, 1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == finance_id, Notification.message.like("The public notice of %"))) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "public_notice.payable_announced")) == 1
