"""Upholding an objection to one loan-discount or robot-subsidy grant may cancel the grant: what is
reserved for it goes back to the fund, it leaves the payment queue, the enterprise is told.  Refused
(and nothing changes: the objection stays open, the money stays reserved) once a payment of the
grant is under way or made, for an objection to the whole list, without a reason, or for anyone but
a programme officer."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import build_org, fresh_user
from tests.subsidies.conftest import with_invoices
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict, Forbidden, ValidationFailed
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.payments import queries, services
from voucher.payments.models import NoticeObjection
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry
from voucher.subsidies.models import LoanApplication, RobotApplication

D = Decimal
LOAN = "loan_application"
ROBOT = "robot_application"


def enterprise_with_user(industry=None):
    org = build_org("enterprise", name=f"鹿城鞋革有限公司 {secrets.token_hex(2)}",
                    **({"industry": industry} if industry else {}))
    return org, fresh_user("sme", org)


def running_notice(world):
    """The programme's grants on a notice that runs today (objections accepted)."""
    return services.publish_notice(world.officer.actor(), world.programme.id, today=queries.local_today())


def item_for(notice, source_type, source_id):
    return next(i for i in notice.items if (i.source_type, i.source_id) == (source_type, source_id))


def object_to(notice, item):
    return services.file_objection(notice.id, item_id=item.id if item else None, name="Wang Wu",
                                   contact="0577-1234567", text="The enterprise repaid this loan early.")


def day_after(notice) -> date:
    return date.fromordinal(notice.ends_on.toordinal() + 1)


def late_objection(notice, item) -> NoticeObjection:
    """An open objection to a grant whose notice has ended (the public page no longer takes them):
    the state a grant with a payment under way could meet, built directly."""
    objection = NoticeObjection(notice_id=notice.id, item_id=item.id, status="open", name="Zhao Liu",
                                contact="zhao@example.com", text="Objection received by the bureau by letter.")
    db.session.add(objection)
    db.session.flush()
    return objection


def releases(source_type, source_id):
    return list(db.session.scalars(select(FundLedgerEntry).where(
        FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
        FundLedgerEntry.kind == "release")))


def test_upholding_an_objection_to_a_loan_grant_cancels_it_and_releases_exactly_its_reservation(world):
    org, sme = enterprise_with_user()
    loan = world.loan(enterprise=org)
    robot = world.robot()
    before = ledger.balances(world.programme)
    assert before.reserved == D("140000.00")
    notice = running_notice(world)
    objection = object_to(notice, item_for(notice, LOAN, loan.id))

    services.resolve_objection(world.officer.actor(), objection.id, "uphold", "Repaid early: not eligible.",
                               cancel_grant=True)

    db.session.expire_all()
    loan = db.session.get(LoanApplication, loan.id)
    assert (loan.status, loan.decision_reason) == ("cancelled", "Repaid early: not eligible.")
    assert loan.approved_amount == D("40000.00")  # what was approved stays on record
    after = ledger.balances(world.programme)
    assert after.reserved == before.reserved - D("40000.00") == D("100000.00")
    assert after.available == before.available + D("40000.00")
    assert after.paid == before.paid == D("0.00")
    assert ledger.recomputed_balances(world.programme) == after
    assert ledger.source_outstanding(LOAN, loan.id) == D("0.00")
    assert ledger.source_outstanding(ROBOT, robot.id) == D("100000.00")  # the other grant untouched
    [entry] = releases(LOAN, loan.id)
    assert entry.amount == D("40000.00") and entry.actor_id == world.officer.id

    objection = db.session.get(NoticeObjection, objection.id)
    assert objection.status == "upheld"

    # The grant leaves the payment queue; the other one becomes payable after the notice.
    later = day_after(notice)
    assert queries.payables(source=(LOAN, loan.id), today=later) == []
    [robot_item] = queries.payables(source=(ROBOT, robot.id), today=later)
    assert robot_item.hold is None
    with pytest.raises(Conflict):
        services.prepare(world.finance_a.actor(), LOAN, loan.id, "full", today=later)

    # Audited: the grant's cancellation (with the amount released) and the objection's decision.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "loan_application.cancel",
                                                       AuditEvent.object_id == str(loan.id)))
    assert event.actor_id == world.officer.id and event.reason == "Repaid early: not eligible."
    assert event.before == {"status": "approved"} and event.after["status"] == "cancelled"
    assert D(str(event.after["released"])) == D("40000.00")
    decided = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notice_objection.uphold",
                                                         AuditEvent.object_id == str(objection.id)))
    assert decided.after["cancelled_application"] == loan.id and decided.after["cancelled_source_type"] == LOAN

    # The enterprise is told, with the amount and the reason.
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == sme.id,
                                                           Notification.message.contains("was cancelled")))
    assert note.params["id"] == loan.number and note.params["reason"] == "Repaid early: not eligible."
    assert note.params["amount"] == "¥40,000.00" and note.link == f"/subsidies/loans/{loan.id}"


def test_an_officer_cancels_a_robot_grant_from_the_notice_page(world, login_as):
    org, sme = enterprise_with_user(industry="pumps_valves")
    robot = with_invoices(world.robot(enterprise=org))
    notice = running_notice(world)
    objection = object_to(notice, item_for(notice, ROBOT, robot.id))
    client = login_as(world.officer)

    page = client.get(f"/payments/notices/{notice.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'id="cancel-{objection.id}"' in text and 'name="cancel_grant"' in text  # offered for a robot grant
    assert "Also cancel the grant and return its reservation to the fund" in text
    assert "robot purchase subsidy of which nothing has been paid" in text

    response = client.post(f"/payments/objections/{objection.id}/resolve",
                           data={"decision": "uphold", "reason": "Invoices are for leased robots.",
                                 "cancel_grant": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    robot = db.session.get(RobotApplication, robot.id)
    assert robot.status == "cancelled"
    assert db.session.get(NoticeObjection, objection.id).status == "upheld"
    assert ledger.balances(world.programme).reserved == D("0.00")
    assert ledger.enterprise_committed(world.programme.id, org.id, "robot_subsidy") == D("0.00")
    assert len(robot.lines) == 2 and all(line.invoice_key for line in robot.lines)  # its invoices stay claimed
    assert queries.payables(source=(ROBOT, robot.id), today=day_after(notice)) == []
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == sme.id,
                                                           Notification.message.contains("Its invoices stay claimed")))

    # The application page shows the new state to the enterprise, in English and in Chinese.
    client = login_as(sme)
    page = client.get(f"/subsidies/robots/{robot.id}").get_data(as_text=True)
    assert 'data-status="cancelled"' in page and "Grant cancelled" in page
    assert "Invoices are for leased robots." in page
    client.post("/lang", data={"lang": "zh_Hans_CN", "next": "/"})
    page = client.get(f"/subsidies/robots/{robot.id}").get_data(as_text=True)
    assert "资助已撤销" in page and "Grant cancelled" not in page


@pytest.mark.parametrize("stage", ["prepared", "approved", "in_batch", "paid"])
def test_a_grant_with_a_payment_under_way_or_made_is_not_cancelled(world, stage):
    loan = world.loan()
    notice = world.announce()  # ended: the grant is payable
    d = world.prepare(LOAN, loan.id, "full")
    if stage != "prepared":
        world.approve(d)
    if stage in ("in_batch", "paid"):
        world.batch(d)
    if stage == "paid":
        world.pay(d)
    before = ledger.balances(world.programme)
    objection = late_objection(notice, item_for(notice, LOAN, loan.id))

    with pytest.raises(Conflict) as refused:
        services.resolve_objection(world.officer.actor(), objection.id, "uphold", "Confirmed.", cancel_grant=True)
    message = str(refused.value)
    if stage == "paid":
        assert "¥40,000.00 of this grant has already been paid" in message
    else:
        assert f"A payment of this grant is under way ({d.reference})" in message

    db.session.expire_all()
    assert db.session.get(NoticeObjection, objection.id).status == "open"
    assert db.session.get(LoanApplication, loan.id).status == "approved"
    assert ledger.balances(world.programme) == before
    assert releases(LOAN, loan.id) == []
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "loan_application.cancel")) is None


def test_a_refused_cancellation_on_the_page_changes_nothing(world, login_as):
    loan = world.loan()
    notice = world.announce()
    d = world.prepare(LOAN, loan.id, "full")
    objection = late_objection(notice, item_for(notice, LOAN, loan.id))
    client = login_as(world.officer)
    response = client.post(f"/payments/objections/{objection.id}/resolve",
                           data={"decision": "uphold", "reason": "Confirmed.", "cancel_grant": "y"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"A payment of this grant is under way ({d.reference})" in html
    assert f'href="/payments/notices/{notice.id}?format=csv"' in html  # the page shown again keeps its export
    db.session.expire_all()
    assert db.session.get(NoticeObjection, objection.id).status == "open"
    assert db.session.get(LoanApplication, loan.id).status == "approved"
    assert ledger.source_outstanding(LOAN, loan.id) == D("40000.00")


def test_after_finance_rejected_the_disbursement_the_grant_can_be_cancelled(world):
    loan = world.loan()
    notice = world.announce()
    d = world.prepare(LOAN, loan.id, "full")
    services.reject(world.finance_b.actor(), d.id, world.finance_b.plain_password, "Hold: objection received.")
    objection = late_objection(notice, item_for(notice, LOAN, loan.id))
    services.resolve_objection(world.officer.actor(), objection.id, "uphold", "Confirmed.", cancel_grant=True)
    assert db.session.get(LoanApplication, loan.id).status == "cancelled"
    assert ledger.balances(world.programme).reserved == D("0.00")
    assert queries.payables(source=(LOAN, loan.id)) == []


def test_an_objection_to_the_whole_list_cannot_cancel_a_grant(world):
    loan = world.loan()
    notice = running_notice(world)
    objection = object_to(notice, None)
    with pytest.raises(ValidationFailed) as refused:
        services.resolve_objection(world.officer.actor(), objection.id, "uphold", "Confirmed.", cancel_grant=True)
    assert "cancel_grant" in refused.value.fields
    assert objection.status == "open"
    assert db.session.get(LoanApplication, loan.id).status == "approved"
    assert ledger.source_outstanding(LOAN, loan.id) == D("40000.00")
    # Upheld without cancelling: held and unpaid, still reserved.
    services.resolve_objection(world.officer.actor(), objection.id, "uphold", "Confirmed.")
    assert queries.payables(source=(LOAN, loan.id), today=day_after(notice))[0].hold == "objection_upheld"
    assert ledger.source_outstanding(LOAN, loan.id) == D("40000.00")


def test_dismissing_cannot_cancel_and_a_reason_is_required(world):
    loan = world.loan()
    notice = running_notice(world)
    objection = object_to(notice, item_for(notice, LOAN, loan.id))
    with pytest.raises(ValidationFailed):
        services.resolve_objection(world.officer.actor(), objection.id, "dismiss", "Not founded.", cancel_grant=True)
    with pytest.raises(ValidationFailed) as refused:
        services.resolve_objection(world.officer.actor(), objection.id, "uphold", "   ", cancel_grant=True)
    assert "reason" in refused.value.fields
    assert objection.status == "open"
    assert db.session.get(LoanApplication, loan.id).status == "approved"
    assert ledger.source_outstanding(LOAN, loan.id) == D("40000.00")


def test_only_a_programme_officer_resolves_and_cancels(world, login_as):
    loan = world.loan()
    notice = running_notice(world)
    objection = object_to(notice, item_for(notice, LOAN, loan.id))
    for who in (world.finance_a, world.provider):
        with pytest.raises(Forbidden):
            services.resolve_objection(who.actor(), objection.id, "uphold", "Confirmed.", cancel_grant=True)
    client = login_as(world.finance_a)
    response = client.post(f"/payments/objections/{objection.id}/resolve",
                           data={"decision": "uphold", "reason": "Confirmed.", "cancel_grant": "y"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(NoticeObjection, objection.id).status == "open"
    assert db.session.get(LoanApplication, loan.id).status == "approved"
    assert ledger.source_outstanding(LOAN, loan.id) == D("40000.00")
