"""Two identical submissions sent at the same instant create one application (PostgreSQL, real
commits): the second request waits on the unique token, then finds the first one's row."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import build_org, build_user
from voucher.applications import services
from voucher.applications.models import TrialApplication
from voucher.applications.services import Content
from voucher.audit.models import AuditEvent
from voucher.catalogue.models import Solution
from voucher.extensions import db
from voucher.programmes.models import Programme

pytestmark = needs_postgres


def test_two_identical_submissions_at_once_create_one_application(committed_app):
    app = committed_app
    with app.app_context():
        today = services.local_today()
        programme = Programme(name="Idempotency", year=today.year, budget=Decimal("1000000.00"),
                              opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=30))
        db.session.add(programme)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(programme)  # version 1, as create_programme makes it
        provider = build_org("provider")
        solution = Solution(provider_id=provider.id, title="ERP", category="erp", description="x",
                            list_price=Decimal("100000.00"), trial_price=Decimal("50000.00"), trial_period_days=30,
                            status="listed")
        db.session.add(solution)
        user = build_user("sme", build_org("enterprise"))
        db.session.commit()
        actor, programme_id, solution_id = user.actor(), programme.id, solution.id

    token = "same-form-token-posted-twice-0001"
    content = Content(requested_amount=Decimal("40000.00"), need_statement="Double click",
                      contract_date=today + timedelta(days=1), trial_start_date=today + timedelta(days=2),
                      baselines={"order_lead_time": Decimal("12.00")})
    barrier = threading.Barrier(2)
    results, errors = [], []

    def submit_form():
        with app.app_context():
            barrier.wait()
            try:
                application, created = services.create_application(actor, token=token, programme_id=programme_id,
                                                                   solution_id=solution_id, content=content)
                db.session.commit()
                results.append((application.id, created))
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit_form) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == 2
    assert results[0][0] == results[1][0]
    assert sorted(created for _, created in results) == [False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrialApplication)) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "trial_application.create")) == 1
