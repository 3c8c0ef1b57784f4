"""Two evaluators recording a decision on the same solution at the same instant: one wins, the
other is refused; one screening record, one audit event (PostgreSQL: real commits and row locks)."""
from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import build_org, build_user
from voucher.audit.models import AuditEvent
from voucher.audit.services import verify_chain
from voucher.catalogue import services
from voucher.catalogue.models import Solution, SolutionScreening
from voucher.errors import TransitionNotAllowed
from voucher.extensions import db

pytestmark = needs_postgres
THREADS = 6


def test_simultaneous_screenings_record_exactly_one_decision(committed_app):
    with committed_app.app_context():
        solution = Solution(provider_id=build_org("provider").id, title="Race", category="mes", description="x",
                            target_industries=[], list_price=Decimal("100.00"), trial_price=Decimal("50.00"),
                            trial_period_days=30, status="screening")
        db.session.add(solution)
        actors = [build_user("evaluator").actor() for _ in range(THREADS)]
        db.session.commit()
        solution_id = solution.id

    barrier = threading.Barrier(THREADS)
    outcomes: list[object] = []

    def worker(actor, decision):
        with committed_app.app_context():
            barrier.wait()
            try:
                services.screen(actor, solution_id, services.ScreeningInput(70, 70, 70, 70, 70, decision, "Race"))
                db.session.commit()
                outcomes.append(decision)
            except Exception as exc:  # noqa: BLE001 - asserted below
                db.session.rollback()
                outcomes.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(a, "list" if i % 2 else "reject")) for i, a in enumerate(actors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    winners = [o for o in outcomes if isinstance(o, str)]
    assert len(winners) == 1
    assert all(isinstance(o, TransitionNotAllowed) for o in outcomes if not isinstance(o, str))
    with committed_app.app_context():
        assert db.session.get(Solution, solution_id).status == {"list": "listed", "reject": "rejected"}[winners[0]]
        assert db.session.scalar(select(func.count()).select_from(SolutionScreening)) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action.in_(["solution.list", "solution.reject"]))) == 1
        assert verify_chain().ok
