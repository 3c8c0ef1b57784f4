"""Two officers approving two loan claims of one enterprise over the same days at the same instant:
the principal cap per enterprise and day is served once (PostgreSQL: real commits and row locks)."""
from __future__ import annotations

import io
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from tests.conftest import needs_postgres
from tests.factories import attach_required_materials, build_org, build_user
from tests.subsidies.conftest import PDF, add_demo_lpr
from voucher.extensions import db
from voucher.programmes.models import FundLedgerEntry, Programme
from voucher.subsidies import loans, services

pytestmark = needs_postgres


def _setup(app) -> tuple[list[int], list[int]]:
    with app.app_context():
        today = services.local_today()
        programme = Programme(name="Principal cap race", year=today.year, budget=Decimal("50000000.00"),
                              opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=30))
        db.session.add(programme)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(programme)  # version 1, as create_programme makes it
        add_demo_lpr()
        user = build_user("sme", build_org("enterprise"))
        ids = []
        for contract in ("C-1", "C-2"):
            data = services.LoanInput(
                programme_id=programme.id, bank_name="Bank", contract_no=contract, contract_date=date(2025, 12, 15),
                principal=Decimal("8000000.00"), loan_rate=Decimal("2.40"), term_start=date(2025, 12, 20),
                term_end=date(2027, 12, 19), periods=(services.PeriodInput(date(2026, 1, 1), date(2026, 4, 1),
                                                                          Decimal("8000000.00"), Decimal("48000.00")),))
            loan = services.save_loan_application(
                user.actor(), data, plan=services.Upload(io.BytesIO(PDF), "p.pdf"),
                statement=services.Upload(io.BytesIO(PDF), "s.pdf"),
                max_bytes=app.config["UPLOAD_MAX_BYTES"])
            attach_required_materials(loan)
            services.act(user.actor(), "loan", loan.id, "submit")
            ids.append(loan.id)
        officers = [build_user("officer").id for _ in range(2)]
        db.session.commit()
        return ids, officers


def test_two_claims_approved_at_once_do_not_both_take_the_whole_cap(committed_app):
    from voucher.auth.models import User

    app = committed_app
    loan_ids, officer_ids = _setup(app)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(officer_id: int, loan_id: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, officer_id).actor()
                barrier.wait()
                services.act(actor, "loan", loan_id, "approve")
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=pair) for pair in zip(officer_ids, loan_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with app.app_context():
        amounts = sorted(db.session.scalars(select(FundLedgerEntry.amount).where(
            FundLedgerEntry.source_type == "loan_application", FundLedgerEntry.source_id.in_(loan_ids))))
        # Whichever was served first: 40,000.00 on 8,000,000; the other on the 2,000,000 left.
        assert amounts == [Decimal("10000.00"), Decimal("40000.00")]


def test_one_contract_saved_twice_at_once_under_two_spellings_is_claimed_once(committed_app, monkeypatch):
    """The overlap check by contract key runs under the enterprise's row lock: two saves at once of
    one loan's days (the second spelled with full-width characters and an en-dash) cannot both pass."""
    from voucher.auth.models import User
    from voucher.errors import ValidationFailed
    from voucher.subsidies.models import LoanApplication

    app = committed_app
    with app.app_context():
        today = services.local_today()
        programme = Programme(name="Contract race", year=today.year, budget=Decimal("50000000.00"),
                              opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=30))
        db.session.add(programme)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(programme)  # version 1, as create_programme makes it
        add_demo_lpr()
        user_id = build_user("sme", build_org("enterprise")).id
        programme_id = programme.id
        db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    check = loans._check_loan_overlap

    def slow_check(*args, **kwargs):
        found = check(*args, **kwargs)
        time.sleep(0.5)  # widen the window between the check and the commit
        return found

    # Patched where save_loan_application looks it up (services only re-exports the public names).
    monkeypatch.setattr(loans, "_check_loan_overlap", slow_check)

    def save(contract: str) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, user_id).actor()
                data = services.LoanInput(
                    programme_id=programme_id, bank_name="Bank", contract_no=contract, contract_date=date(2025, 12, 15),
                    principal=Decimal("8000000.00"), loan_rate=Decimal("2.40"), term_start=date(2025, 12, 20),
                    term_end=date(2027, 12, 19), periods=(services.PeriodInput(
                        date(2026, 1, 1), date(2026, 4, 1), Decimal("8000000.00"), Decimal("48000.00")),))
                barrier.wait()
                services.save_loan_application(
                    actor, data, plan=services.Upload(io.BytesIO(PDF), "p.pdf"),
                    statement=services.Upload(io.BytesIO(PDF), "s.pdf"),
                    max_bytes=app.config["UPLOAD_MAX_BYTES"])
                db.session.commit()
                outcomes.append("saved")
            except ValidationFailed as err:
                db.session.rollback()
                outcomes.append("refused" if "already claimed" in str(err.field_messages()) else repr(err))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(c,)) for c in ("WZ-2025-0001", "ｗｚ–２０２５–０００１")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["refused", "saved"]
    with app.app_context():
        assert len(list(db.session.scalars(select(LoanApplication.id).where(
            LoanApplication.programme_id == programme_id)))) == 1
