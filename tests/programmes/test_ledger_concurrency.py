"""The fund is never over-committed, not even by officers approving at the same instant
(PostgreSQL: real commits, real row locks).

Twenty threads, released together by a barrier, each approve one application in its own app
context (its own session and connection) and commit or roll back.  Whatever the order, exactly
what fits is reserved and every other approval is refused with the right domain exception.
"""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import attach_required_materials, build_org, build_user
from voucher.applications import services as applications
from voucher.applications.models import TrialApplication
from voucher.applications.services import Content
from voucher.audit.services import verify_chain
from voucher.catalogue.models import Solution
from voucher.errors import BudgetExhausted, OverCap
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import Programme

pytestmark = needs_postgres

THREADS = 20


def _content(amount: Decimal) -> Content:
    today = applications.local_today()
    return Content(requested_amount=amount, need_statement="Concurrency test", contract_date=today + timedelta(days=1),
                   trial_start_date=today + timedelta(days=2), baselines={"defect_rate": Decimal("2.00")})


def _setup(app, *, budget: Decimal, amount: Decimal, one_enterprise: bool):
    """Commit a programme, a solution, the applicants' submitted applications and an officer."""
    with app.app_context():
        today = applications.local_today()
        programme = Programme(name="Concurrency", year=today.year, budget=budget, opens_on=today - timedelta(days=1),
                              closes_on=today + timedelta(days=30))
        db.session.add(programme)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(programme)  # version 1, as create_programme makes it
        provider = build_org("provider")
        solution = Solution(provider_id=provider.id, title="MES", category="mes", description="x",
                            list_price=Decimal("500000.00"), trial_price=Decimal("200000.00"), trial_period_days=60,
                            status="listed")
        db.session.add(solution)
        db.session.flush()
        shared = build_user("sme", build_org("enterprise")) if one_enterprise else None
        ids = []
        for n in range(THREADS):
            user = shared or build_user("sme", build_org("enterprise"))
            application, _ = applications.create_application(
                user.actor(), token=f"concurrency-token-{n:04d}-{'one' if one_enterprise else 'many'}",
                programme_id=programme.id, solution_id=solution.id, content=_content(amount))
            attach_required_materials(application)
            applications.submit(user.actor(), application.id)
            ids.append(application.id)
        officer = build_user("officer")
        db.session.commit()
        return programme.id, ids, officer.actor()


def _approve_all_at_once(app, ids, actor):
    barrier = threading.Barrier(len(ids))
    outcomes: dict[int, object] = {}

    def worker(application_id):
        with app.app_context():
            barrier.wait()
            try:
                applications.approve(actor, application_id)
                db.session.commit()
                outcomes[application_id] = "approved"
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                db.session.rollback()
                outcomes[application_id] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an approval hung (deadlock?)"
    return outcomes


def _check_ledger(app, programme_id, expected_reserved: Decimal, ids):
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        bal = ledger.balances(programme)
        assert bal.reserved == expected_reserved
        assert ledger.recomputed_balances(programme) == bal
        assert bal.available >= 0
        statuses = db.session.execute(select(TrialApplication.status, func.count()).where(TrialApplication.id.in_(ids))
                                      .group_by(TrialApplication.status)).all()
        for application_id in ids:
            outstanding = ledger.source_outstanding("trial_application", application_id)
            status = db.session.get(TrialApplication, application_id).status
            assert (status == "approved") == (outstanding > 0)
        assert verify_chain().ok
        return dict(statuses)


def test_twenty_simultaneous_approvals_reserve_exactly_what_the_budget_holds(committed_app):
    amount, budget = Decimal("100000.00"), Decimal("1250000.00")
    programme_id, ids, officer = _setup(committed_app, budget=budget, amount=amount, one_enterprise=False)
    fits = int(budget // amount)  # 12 approvals fit; 8 must be refused
    outcomes = _approve_all_at_once(committed_app, ids, officer)

    approved = [i for i, o in outcomes.items() if o == "approved"]
    refused = {i: o for i, o in outcomes.items() if o != "approved"}
    assert len(approved) == fits
    assert len(refused) == THREADS - fits
    for exc in refused.values():
        assert isinstance(exc, BudgetExhausted), repr(exc)
        text = exc.render()
        assert "available budget" in text and "¥100,000.00" in text and "¥1,250,000.00" in text
    statuses = _check_ledger(committed_app, programme_id, amount * fits, ids)
    assert statuses == {"approved": fits, "submitted": THREADS - fits}


def test_twenty_simultaneous_approvals_for_one_enterprise_stop_at_its_200000_cap(committed_app):
    amount = Decimal("30000.00")
    programme_id, ids, officer = _setup(committed_app, budget=Decimal("50000000.00"), amount=amount,
                                        one_enterprise=True)
    fits = int(Decimal("200000.00") // amount)  # 6 approvals (180,000) fit under the cap
    outcomes = _approve_all_at_once(committed_app, ids, officer)

    approved = [i for i, o in outcomes.items() if o == "approved"]
    refused = [o for o in outcomes.values() if o != "approved"]
    assert len(approved) == fits
    for exc in refused:
        assert isinstance(exc, OverCap), repr(exc)
        assert "¥200,000.00" in exc.render() and "¥20,000.00" in exc.render()  # cap and what remains
    _check_ledger(committed_app, programme_id, amount * fits, ids)
    with committed_app.app_context():
        programme = db.session.get(Programme, programme_id)
        enterprise_id = db.session.get(TrialApplication, ids[0]).enterprise_id
        committed = ledger.enterprise_committed(programme_id, enterprise_id, "trial_voucher")
        assert committed == amount * fits <= programme.trial_cap_per_enterprise
