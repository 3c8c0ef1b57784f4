"""Every step that waits on someone notifies them in the application (with the unread count in
the header): a returned application, a milestone to confirm, an evaluation assigned, a
disbursement to approve."""
from __future__ import annotations

import re

from sqlalchemy import select

from voucher.applications.models import TrialApplication
from voucher.auth.models import User
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.trials.models import Trial


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _actor(email: str):
    return _user(email).actor()


def _notes(email: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == _user(email).id)
                                   .order_by(Notification.id)))


def _application(token: str) -> TrialApplication:
    return db.session.scalar(select(TrialApplication).where(TrialApplication.idempotency_token == token))


def test_a_returned_application_notifies_the_enterprise(demo, ctx):
    from voucher.applications import services

    application = _application("demo-app-h-waiting-0008")  # 平阳县鞋材包装有限公司, its user sme7@demo.test
    before = len(_notes("sme7@demo.test"))
    services.return_for_revision(_actor("officer@demo.test"), application.id, "请补充能耗台账。")
    notes = _notes("sme7@demo.test")
    assert len(notes) == before + 1
    assert notes[-1].message.startswith("Your trial-voucher application %(number)s for %(solution)s was returned for revision")
    assert notes[-1].params["number"] == application.number
    assert notes[-1].link == f"/applications/{application.id}" and notes[-1].read_at is None


def test_a_reported_milestone_asks_the_enterprise_to_confirm_it(demo, ctx):
    from voucher.trials import services

    application = _application("demo-app-g-approved-0007")  # 龙港市印刷智造 (sme9), provider 瓯越 (provider3)
    trial = db.session.scalar(select(Trial).where(Trial.application_id == application.id))
    services.report_milestone(_actor("provider3@demo.test"), trial.id, "kickoff", "项目启动会已召开。")
    note = _notes("sme9@demo.test")[-1]
    assert "please confirm or dispute it" in note.message and note.link == f"/trials/{trial.id}"


def test_an_assigned_evaluation_notifies_the_evaluator(demo, ctx):
    application = _application("demo-app-c-complete-0003")
    trial = db.session.scalar(select(Trial).where(Trial.application_id == application.id))
    notes = [n for n in _notes("evaluator@demo.test") if n.link == f"/trials/{trial.id}"]
    assert notes and notes[-1].message.startswith("You were assigned to evaluate the trial of %(solution)s")


def test_a_prepared_disbursement_asks_the_other_finance_officer_to_approve_it(demo, ctx):
    from voucher.payments import services as payments

    application = _application("demo-app-e-running-0005")  # kick-off confirmed, advance payable
    before = len(_notes("finance2@demo.test"))
    d = payments.prepare(_actor("finance@demo.test"), "trial_application", application.id, "advance")
    notes = _notes("finance2@demo.test")
    assert len(notes) == before + 1 and "waiting for approval by a second finance officer" in notes[-1].message
    assert notes[-1].link.endswith(f"/{d.id}")
    assert not [n for n in _notes("finance@demo.test") if n.link == notes[-1].link]  # not the preparer


def test_the_header_shows_the_unread_count_and_reading_clears_it(as_demo):
    client = as_demo("sme", "en")
    user = _user("sme@demo.test")
    unread = db.session.scalar(select(db.func.count()).select_from(Notification)
                               .where(Notification.user_id == user.id, Notification.read_at.is_(None)))
    assert unread > 0
    html = client.get("/").get_data(as_text=True)
    badge = re.search(r'Notifications <span class="badge bg-warning text-dark">(\d+)</span>', html)
    assert badge and int(badge.group(1)) == unread
    client.post("/notifications/read", data={})
    assert not re.search(r'Notifications <span class="badge', client.get("/").get_data(as_text=True))
