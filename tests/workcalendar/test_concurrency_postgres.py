"""Two officers entering the same new year at the same instant: one entry is recorded, the other
officer is told to reload (never a server error), and one audit event; replacing at once makes two
versions in turn (PostgreSQL, real commits)."""
from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import build_user
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict
from voucher.extensions import db
from voucher.workcalendar import services
from voucher.workcalendar.models import CalendarYear

pytestmark = needs_postgres
TODAY = date(2026, 11, 22)


def _at_once(app, actors, reference):
    barrier = threading.Barrier(len(actors))
    outcomes = []

    def enter(actor, n):
        with app.test_request_context():
            barrier.wait()
            try:
                services.enter_year(actor, 2027, [(date(2027, 1, 1), "元旦")], [], f"{reference} {n}", today=TODAY)
                db.session.commit()
                outcomes.append("entered")
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=enter, args=(a, n)) for n, a in enumerate(actors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_first_entries_at_once_record_one_and_refuse_the_other_clearly(committed_app):
    app = committed_app
    with app.test_request_context():
        actors = [build_user("officer").actor(), build_user("officer").actor()]
        db.session.commit()
    outcomes = _at_once(app, actors, "first")
    assert sorted(map(str, outcomes)).count("entered") == 1, outcomes
    refused = [o for o in outcomes if o != "entered"]
    assert len(refused) == 1 and isinstance(refused[0], Conflict)
    assert "at the same moment" in refused[0].render()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarYear)) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "calendar_year.entered")) == 1

    outcomes = _at_once(app, actors, "second")
    assert outcomes == ["entered", "entered"]
    with app.app_context():
        assert db.session.get(CalendarYear, 2027).revision == 3  # each replacement waited for the other
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "calendar_year.entered")) == 3
