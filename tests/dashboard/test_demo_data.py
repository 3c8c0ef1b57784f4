"""The demo data gives the dashboards something real: applications in every state, trials
running, overdue, completed, evaluated and closed, ledger activity over several months and
payments made through the payments module — all driven through the services (valid audit
chain), idempotent, and dated from the day it is loaded."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from voucher.applications.models import TrialApplication
from voucher.audit.services import verify_chain
from voucher.auth.models import User
from voucher.extensions import db
from voucher.programmes.models import FundLedgerEntry
from voucher.trials.models import Trial

TZ = ZoneInfo("Asia/Shanghai")


def _counts() -> dict:
    tables = [t for t in db.metadata.sorted_tables]
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in tables}


def test_demo_activity_covers_the_states_the_dashboards_show(ctx):
    from voucher.applications.services import local_today
    from voucher.demo import seed

    created = seed()
    assert created["applications"] == 12 and created["loan_applications"] == 1
    statuses = set(db.session.scalars(select(TrialApplication.status)))
    assert statuses >= {"draft", "submitted", "approved", "rejected", "returned", "trial_running",
                        "trial_completed", "evaluated", "closed"}
    trials = set(db.session.scalars(select(Trial.status)))
    assert trials == {"open", "running", "completed", "evaluated", "closed"}
    assert db.session.scalar(select(func.count()).select_from(Trial).where(Trial.status == "running",
                                                                          Trial.end_date < local_today())) >= 1
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


@pytest.mark.parametrize("load_day", ["2027-06-30", "2027-12-31", "2028-11-29"])
def test_demo_data_is_dated_from_the_day_it_is_loaded(ctx, load_day):
    """Loaded on any day, the demo is a programme open today in its last weeks: every story date
    moved by whole weeks (weekdays kept), the SME's draft can still be submitted, the waiting
    application is recent; a second load a month later reuses the first load's dates."""
    from datetime import datetime, timedelta

    import time_machine

    from voucher.applications import services as apps
    from voucher.applications.services import local_today
    from voucher.demo import seed
    from voucher.demo_activity import DEMO_TODAY, demo_programme

    with time_machine.travel(datetime.fromisoformat(load_day + "T09:00:00+08:00"), tick=True):
        seed()
        today = local_today()
        programme = demo_programme()
        assert programme.opens_on <= today <= programme.closes_on
        assert programme.name == f"{(today - timedelta(days=(today - DEMO_TODAY).days % 7)).year}年度中小企业数字化改造试点"
        assert programme.opens_on.weekday() == date(2026, 1, 1).weekday()
        waiting = db.session.scalar(select(TrialApplication).where(
            TrialApplication.idempotency_token == "demo-app-h-waiting-0008"))
        assert 0 <= (today - waiting.submitted_at.astimezone(TZ).date()).days <= 8
        draft = db.session.scalar(select(TrialApplication).where(
            TrialApplication.idempotency_token == "demo-app-l-draft-0012"))
        sme = db.session.scalar(select(User).where(User.email == "sme@demo.test")).actor()
        apps.submit(sme, draft.id, today=today)
        assert draft.status == "submitted"
        assert verify_chain().ok
    with time_machine.travel(datetime.fromisoformat(load_day + "T09:00:00+08:00") + timedelta(days=31), tick=True):
        before = _counts()
        assert seed() == {}
        assert _counts() == before
        assert demo_programme().id == programme.id


def test_demo_loaded_in_a_year_no_calendar_knows_enters_a_labelled_provisional_year(ctx, package_ends_with_2026):
    """In 2027 with a calendar package that ends with 2026 and no year entered by the bureau, the
    demo still publishes its notices and pays: it enters 2027 as weekends and New Year's Day,
    labelled as demo data, through the calendar service (audited)."""
    from datetime import datetime

    import time_machine

    from voucher.audit.models import AuditEvent
    from voucher.demo import seed
    from voucher.demo_activity import DEMO_CALENDAR_REFERENCE
    from voucher.payments.models import Disbursement
    from voucher.workcalendar.models import CalendarYear

    with time_machine.travel(datetime.fromisoformat("2027-06-30T09:00:00+08:00"), tick=True):
        created = seed()
    assert created["applications"] == 12
    entry = db.session.scalar(select(CalendarYear).where(CalendarYear.year == 2027))
    assert entry.reference == DEMO_CALENDAR_REFERENCE
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "calendar_year.entered", AuditEvent.object_id == "2027")) == 1
    assert db.session.scalar(select(func.count()).select_from(Disbursement).where(Disbursement.status == "paid")) == 7
