"""The demo data gives the dashboards something real: applications in every state, trials
running, overdue, completed, evaluated and closed, ledger activity over several months and
payments made through the payments module — all driven through the services (valid audit
chain), idempotent, and quick to load."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from voucher.applications.models import TrialApplication
from voucher.audit.services import verify_chain
from voucher.extensions import db
from voucher.programmes.models import FundLedgerEntry
from voucher.trials.models import Trial


def _counts() -> dict:
    tables = [t for t in db.metadata.sorted_tables]
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in tables}


def test_demo_activity_covers_the_states_the_dashboards_show(ctx):
    from voucher.demo import seed

    started = time.monotonic()
    created = seed()
    assert time.monotonic() - started < 10
    assert created["applications"] == 12 and created["loan_applications"] == 1
    statuses = set(db.session.scalars(select(TrialApplication.status)))
    assert statuses >= {"draft", "submitted", "approved", "rejected", "returned", "trial_running",
                        "trial_completed", "evaluated", "closed"}
    trials = set(db.session.scalars(select(Trial.status)))
    assert trials == {"open", "running", "completed", "evaluated", "closed"}
    assert db.session.scalar(select(func.count()).select_from(Trial).where(Trial.status == "running",
                                                                          Trial.end_date < func.current_date())) >= 1
    kinds = set(db.session.scalars(select(FundLedgerEntry.kind)))
    assert kinds == {"reserve", "pay", "release"}
    months = {e.created_at.strftime("%Y-%m") for e in db.session.scalars(select(FundLedgerEntry))}
    assert len(months) >= 5  # history spread over the year, not one instant
    from voucher.payments.models import Disbursement

    paid = db.session.scalar(select(func.count()).select_from(Disbursement).where(Disbursement.status == "paid"))
    pays = db.session.scalar(select(func.count()).select_from(FundLedgerEntry).where(FundLedgerEntry.kind == "pay"))
    assert paid == pays == 7  # every payment went through prepare → approve → batch → bank result
    assert verify_chain().ok


def test_demo_seeding_twice_changes_nothing(ctx):
    from voucher.demo import seed

    seed()
    before = _counts()
    assert seed() == {}
    assert _counts() == before
    assert verify_chain().ok
