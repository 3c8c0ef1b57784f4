"""Two officers approving the same application at the same instant reserve its amount once
(PostgreSQL: real commits and row locks)."""
from __future__ import annotations

import io
import threading
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import attach_required_materials, build_org, build_user
from tests.subsidies.conftest import PDF, add_demo_lpr
from voucher.errors import TransitionNotAllowed
from voucher.extensions import db
from voucher.programmes.models import FundLedgerEntry, Programme
from voucher.subsidies import services
from voucher.subsidies.models import LoanApplication

pytestmark = needs_postgres


def _setup(app) -> tuple[int, list[int]]:
    with app.app_context():
        today = services.local_today()
        programme = Programme(name="Concurrency subsidies", year=today.year, budget=Decimal("50000000.00"),
                              opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=30))
        db.session.add(programme)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(programme)  # version 1, as create_programme makes it
        add_demo_lpr()
        user = build_user("sme", build_org("enterprise"))
        data = services.LoanInput(
            programme_id=programme.id, bank_name="Bank", contract_no="C-1", contract_date=date(2025, 12, 15),
            principal=Decimal("8000000.00"), loan_rate=Decimal("2.40"), term_start=date(2025, 12, 20),
            term_end=date(2027, 12, 19), periods=(services.PeriodInput(date(2026, 1, 1), date(2026, 4, 1),
                                                                      Decimal("8000000.00"), Decimal("48000.00")),))
        loan = services.save_loan_application(
            user.actor(), data, plan=services.Upload(io.BytesIO(PDF), "p.pdf"),
            statement=services.Upload(io.BytesIO(PDF), "s.pdf"),
            max_bytes=app.config["UPLOAD_MAX_BYTES"])
        attach_required_materials(loan)
        services.act(user.actor(), "loan", loan.id, "submit")
        officers = [build_user("officer").id for _ in range(2)]
        db.session.commit()
        return loan.id, officers


def test_the_same_application_approved_twice_at_once_reserves_once(committed_app):
    from voucher.auth.models import User

    app = committed_app
    loan_id, officer_ids = _setup(app)
    barrier = threading.Barrier(len(officer_ids))
    outcomes: list[str] = []

    def approve(officer_id: int) -> None:
        with app.app_context():
            actor = db.session.get(User, officer_id).actor()
            barrier.wait()
            try:
                services.act(actor, "loan", loan_id, "approve")
                db.session.commit()
                outcomes.append("approved")
            except TransitionNotAllowed:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(oid,)) for oid in officer_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["approved", "refused"]
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(FundLedgerEntry)
                                    .where(FundLedgerEntry.source_type == "loan_application",
                                           FundLedgerEntry.source_id == loan_id))
        assert entries == 1
        assert db.session.get(LoanApplication, loan_id).status == "approved"
