"""One lock order everywhere: domain rows first, the audit-chain lock last (at commit).

Approving locks the programme row (the ledger's reservation) and used to take the audit-chain lock
next; submitting took the audit-chain lock first (its state change writes an event) and then
updated the application again, whose foreign-key check waits for the programme row: a deadlock.
Submissions and approvals in one programme race here many times (PostgreSQL, real commits)."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import attach_required_materials, build_org, build_user
from voucher.applications import services
from voucher.applications.models import TrialApplication
from voucher.applications.services import Content
from voucher.audit.services import verify_chain
from voucher.catalogue.models import Solution
from voucher.extensions import db
from voucher.programmes.models import Programme

pytestmark = needs_postgres

ROUNDS = 25


def test_submissions_racing_approvals_in_one_programme_never_deadlock(committed_app):
    app = committed_app
    with app.test_request_context():
        today = services.local_today()
        programme = Programme(name="Rush", year=today.year, budget=Decimal("10000000.00"),
                              opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=60))
        db.session.add(programme)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(programme)  # version 1, as create_programme makes it
        provider = build_org("provider")
        solution = Solution(provider_id=provider.id, title="MES", category="erp", description="x",
                            list_price=Decimal("100000.00"), trial_price=Decimal("50000.00"), trial_period_days=30,
                            status="listed")
        db.session.add(solution)
        officer = build_user("officer")
        db.session.flush()
        content = Content(requested_amount=Decimal("1000.00"), need_statement="Rush",
                          contract_date=today + timedelta(days=1), trial_start_date=today + timedelta(days=2),
                          baselines={"order_lead_time": Decimal("12.00")})
        pairs = []
        for i in range(ROUNDS):
            sme_a = build_user("sme", build_org("enterprise"))
            sme_b = build_user("sme", build_org("enterprise"))
            a, _ = services.create_application(sme_a.actor(), token=f"draft-to-submit-{i:04d}-xxxxxxxxxx",
                                               programme_id=programme.id, solution_id=solution.id, content=content)
            b, _ = services.create_application(sme_b.actor(), token=f"submitted-to-approve-{i:04d}-xxxxxx",
                                               programme_id=programme.id, solution_id=solution.id, content=content)
            attach_required_materials(a)
            attach_required_materials(b)
            services.submit(sme_b.actor(), b.id)
            pairs.append(((sme_a.actor(), a.id), b.id))
        db.session.commit()
        officer_actor = officer.actor()

    errors: list[Exception] = []

    def run(barrier, work):
        with app.test_request_context():
            barrier.wait()
            try:
                work()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    for (sme_actor, a_id), b_id in pairs:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=run, args=(barrier, lambda: services.submit(sme_actor, a_id))),
                   threading.Thread(target=run, args=(barrier, lambda: services.approve(officer_actor, b_id)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    assert [repr(e) for e in errors] == []
    with app.app_context():
        statuses = db.session.execute(select(TrialApplication.status, func.count())
                                      .group_by(TrialApplication.status)).all()
        assert dict(statuses) == {"submitted": ROUNDS, "approved": ROUNDS}
        report = verify_chain()
        assert report.ok, report
