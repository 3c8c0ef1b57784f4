"""The public notice (公示): grants are payable only after the notice period, counted in Chinese
working days (the National Day holiday skipped, the adjusted working Saturday counted); an objection
filed on the public page holds the grant until an officer resolves it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import set_rule_parameters
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict, ValidationFailed
from voucher.extensions import db
from voucher.payments import queries, services
from voucher.payments.models import NoticeObjection

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def hold_of(source_type: str, source_id: int) -> str | None:
    [item] = queries.payables(source=(source_type, source_id))
    return item.hold


def test_the_notice_holds_grants_for_five_working_days_across_the_national_day_holiday(app, db_conn):
    from tests.payments.conftest import World

    with time_machine.travel(at(date(2026, 9, 30)), tick=False) as traveller, app.test_request_context():
        world = World()
        loan = world.loan()
        assert hold_of("loan_application", loan.id) == "not_announced"
        with pytest.raises(Conflict):
            world.prepare("loan_application", loan.id, "full")

        notice = services.publish_notice(world.officer.actor(), world.programme.id)
        # 30 Sep published; 1–7 Oct holiday; 8, 9 Oct, Saturday 10 Oct (adjusted working day), 12, 13 Oct.
        assert (notice.published_on, notice.working_days, notice.ends_on) == (date(2026, 9, 30), 5,
                                                                             date(2026, 10, 13))
        for day in (date(2026, 10, 1), date(2026, 10, 8), date(2026, 10, 12), date(2026, 10, 13)):
            traveller.move_to(at(day, 23))
            [item] = queries.payables(source=("loan_application", loan.id))
            assert (item.hold, item.hold_until) == ("notice_running", date(2026, 10, 13)), day
            with pytest.raises(Conflict):
                world.prepare("loan_application", loan.id, "full")
        traveller.move_to(at(date(2026, 10, 14), 8))
        assert hold_of("loan_application", loan.id) is None
        d = world.prepare("loan_application", loan.id, "full")
        assert d.amount == Decimal("40000.00")


def test_the_notice_period_follows_the_programmes_parameter(world):
    set_rule_parameters(world.programme, publicity_working_days=2)
    loan = world.loan()
    notice = services.publish_notice(world.officer.actor(), world.programme.id, today=date(2026, 9, 30))
    assert notice.ends_on == date(2026, 10, 9)
    # A grant is announced once; publishing again with nothing new is refused.
    with pytest.raises(ValidationFailed):
        services.publish_notice(world.officer.actor(), world.programme.id, today=date(2026, 10, 1))
    assert [(i.source_type, i.source_id, i.amount) for i in notice.items] == [
        ("loan_application", loan.id, Decimal("40000.00"))]


def test_only_officers_publish_notices(world):
    from voucher.errors import Forbidden

    world.loan()
    with pytest.raises(Forbidden):
        services.publish_notice(world.finance_a.actor(), world.programme.id)


def test_an_objection_filed_on_the_public_page_holds_the_grant_until_dismissed(world, client, login_as):
    loan, robot = world.loan(), world.robot()
    notice = services.publish_notice(world.officer.actor(), world.programme.id,
                                     today=queries.local_today())  # the notice runs now
    item = next(i for i in notice.items if i.source_id == loan.id and i.source_type == "loan_application")
    page = client.get(f"/notices/{notice.id}")  # no login
    assert page.status_code == 200 and item.enterprise_name in page.get_data(as_text=True)
    response = client.post(f"/notices/{notice.id}", data={"item_id": str(item.id), "name": "Zhang San",
                                                           "contact": "13800000000",
                                                           "text": "This enterprise's loan was repaid early."})
    assert response.status_code == 302
    objection = db.session.scalar(select(NoticeObjection).where(NoticeObjection.notice_id == notice.id))
    assert (objection.status, objection.item_id, objection.name) == ("open", item.id, "Zhang San")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notice_objection.filed"))
    assert event.actor_role == "public" and event.object_id == str(objection.id)
    assert "13800000000" not in str(event.after)  # contact details stay out of the audit chain

    # After the notice period: the objected grant is held, the other one is payable.
    db.session.expire_all()
    day_after = notice.ends_on.toordinal() + 1
    later = date.fromordinal(day_after)
    assert queries.payables(source=("loan_application", loan.id), today=later)[0].hold == "objection_open"
    assert queries.payables(source=("robot_application", robot.id), today=later)[0].hold is None
    with pytest.raises(Conflict):
        services.prepare(world.finance_a.actor(), "loan_application", loan.id, "full", today=later)

    client = login_as(world.officer)
    response = client.post(f"/payments/objections/{objection.id}/resolve",
                           data={"decision": "dismiss", "reason": "Checked with the bank: not repaid."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(NoticeObjection, objection.id).status == "dismissed"
    assert queries.payables(source=("loan_application", loan.id), today=later)[0].hold is None
    d = services.prepare(world.finance_a.actor(), "loan_application", loan.id, "full", today=later)
    assert d.status == "prepared"


def test_an_upheld_objection_keeps_the_grant_from_being_paid(world):
    loan = world.loan()
    notice = services.publish_notice(world.officer.actor(), world.programme.id, today=queries.local_today())
    objection = services.file_objection(notice.id, item_id=None, name="Li Si", contact="li@example.com",
                                        text="The whole list was not discussed by the committee.")
    later = date.fromordinal(notice.ends_on.toordinal() + 1)
    assert queries.payables(source=("loan_application", loan.id), today=later)[0].hold == "objection_open"
    with pytest.raises(ValidationFailed):
        services.resolve_objection(world.officer.actor(), objection.id, "uphold", "")
    services.resolve_objection(world.officer.actor(), objection.id, "uphold", "Confirmed: to be re-examined.")
    assert objection.status == "upheld" and objection.resolved_by == world.officer.id
    assert queries.payables(source=("loan_application", loan.id), today=later)[0].hold == "objection_upheld"
    with pytest.raises(Conflict):
        services.prepare(world.finance_a.actor(), "loan_application", loan.id, "full", today=later)
    with pytest.raises(Conflict):  # decided once
        services.resolve_objection(world.officer.actor(), objection.id, "dismiss", "changed my mind")


def test_upholding_an_objection_may_cancel_a_trial_grant_that_has_not_started(world):
    from voucher.programmes.services import balances

    trial = world.trial("100000.00")
    notice = services.publish_notice(world.officer.actor(), world.programme.id, today=queries.local_today())
    [item] = notice.items
    objection = services.file_objection(notice.id, item_id=item.id, name="Wang Wu", contact="0577-1234567",
                                        text="The enterprise is related to the provider.")
    services.resolve_objection(world.officer.actor(), objection.id, "uphold", "Related parties confirmed.",
                               cancel_grant=True)
    assert trial.application.status == "cancelled"
    assert balances(world.programme).reserved == Decimal("0.00")


def test_objections_are_refused_after_the_notice_period(world, client):
    world.loan()
    notice = world.announce()
    with pytest.raises(Conflict):
        services.file_objection(notice.id, item_id=None, name="Late", contact="x@example.com",
                                text="Too late objection text.")
    response = client.post(f"/notices/{notice.id}", data={"name": "Late", "contact": "x@example.com",
                                                           "text": "Too late objection text."})
    assert response.status_code == 422
    assert db.session.scalar(select(NoticeObjection.id)) is None


def test_the_public_objection_form_is_rate_limited(world, client):
    world.loan()
    notice = services.publish_notice(world.officer.actor(), world.programme.id, today=queries.local_today())
    codes = [client.post(f"/notices/{notice.id}", data={"name": "N", "contact": "c@example.com",
                                                         "text": f"Objection number {n} with text."}).status_code
             for n in range(7)]
    assert codes[:5] == [302] * 5 and codes[5:] == [429, 429]


def test_the_public_list_of_notices_needs_no_login(world, client):
    world.loan()
    notice = world.announce()
    page = client.get("/notices")
    assert page.status_code == 200 and notice.title in page.get_data(as_text=True)
