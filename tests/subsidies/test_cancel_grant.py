"""``subsidies.services.cancel_grant``: an officer takes back an approved loan discount or robot
subsidy before any of it is paid; its reservation goes back to the fund, the state machine writes
the audit event, the enterprise is told; the lists and pages show the new state in both languages."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import build_org, fresh_user
from tests.subsidies.conftest import with_invoices
from voucher.audit.models import AuditEvent
from voucher.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.payments import queries as payment_queries
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry
from voucher.subsidies import loans, robots, services
from voucher.subsidies.models import (
    APPLICATION_STATES,
    LoanApplication,
    LoanInterestPeriod,
)

D = Decimal


def with_user(industry=None):
    org = build_org("enterprise", name=f"瓯海泵阀有限公司 {secrets.token_hex(2)}",
                    **({"industry": industry} if industry else {}))
    return org, fresh_user("sme", org)


def ledger_rows(source_type, source_id, kind):
    return db.session.scalar(select(func.count(FundLedgerEntry.id)).where(
        FundLedgerEntry.source_type == source_type, FundLedgerEntry.source_id == source_id,
        FundLedgerEntry.kind == kind))


def test_cancelled_is_a_state_reached_only_from_approved_by_an_officer_with_a_reason():
    assert "cancelled" in APPLICATION_STATES
    for machine in (services.LOAN_MACHINE, services.ROBOT_MACHINE):
        t = machine.find("approved", "cancel")
        assert (t.target, set(t.roles), t.requires_reason) == ("cancelled", {"officer"}, True)
        for state in ("draft", "submitted", "returned", "rejected", "withdrawn", "cancelled"):
            assert machine.find(state, "cancel") is None, state
        assert machine.available("cancelled", "officer") == [] and machine.available("cancelled", "sme") == []


def test_cancelling_a_loan_grant_releases_its_reservation_audits_and_notifies(world):
    org, sme = with_user()
    loan = world.loan(enterprise=org)
    before = ledger.balances(world.programme)

    services.cancel_grant(world.officer.actor(), "loan", loan.id, "  Duplicate of a grant in another programme.  ")

    db.session.expire_all()
    loan = db.session.get(LoanApplication, loan.id)
    assert loan.status == "cancelled" and loan.decision_reason == "Duplicate of a grant in another programme."
    after = ledger.balances(world.programme)
    assert (before.reserved - after.reserved, after.available - before.available) == (D("40000.00"), D("40000.00"))
    assert ledger.source_outstanding("loan_application", loan.id) == D("0.00")
    assert ledger_rows("loan_application", loan.id, "release") == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "loan_application.cancel"))
    assert (event.object_type, event.object_id, event.actor_role) == ("loan_application", str(loan.id), "officer")
    assert event.reason == "Duplicate of a grant in another programme."
    assert D(str(event.after["released"])) == D("40000.00")
    note = db.session.scalar(select(Notification).where(Notification.user_id == sme.id,
                                                        Notification.message.contains("was cancelled")))
    assert note.params["amount"] == "¥40,000.00" and note.link == f"/subsidies/loans/{loan.id}"
    assert payment_queries.payables(source=("loan_application", loan.id)) == []

    with pytest.raises(TransitionNotAllowed):  # once
        services.cancel_grant(world.officer.actor(), "loan", loan.id, "Again.")
    assert ledger_rows("loan_application", loan.id, "release") == 1


def test_act_cancel_goes_through_cancel_grant_never_a_bare_state_change(world):
    loan = world.loan()
    services.act(world.officer.actor(), "loan", loan.id, "cancel", reason="Confirmed by the bank.")
    assert loan.status == "cancelled"
    assert ledger.source_outstanding("loan_application", loan.id) == D("0.00")
    with pytest.raises(ValidationFailed):
        services.act(world.officer.actor(), "robot", world.robot().id, "cancel", reason=None)


def test_a_cancelled_robot_grant_gives_back_the_cap_but_keeps_its_invoices_claimed(world):
    org, _sme = with_user(industry="pumps_valves")
    robot = with_invoices(world.robot(enterprise=org))
    assert ledger.enterprise_committed(world.programme.id, org.id, "robot_subsidy") == D("100000.00")
    services.cancel_grant(world.officer.actor(), "robot", robot.id, "The robots were returned to the seller.")
    assert robot.status == "cancelled"
    assert ledger.enterprise_committed(world.programme.id, org.id, "robot_subsidy") == D("0.00")
    assert ledger.balances(world.programme).reserved == D("0.00")
    # Its invoices are still claimed: a new claim for them is refused, naming the cancelled application.
    claimed = [SimpleNamespace(invoice_no=line.invoice_no) for line in robot.lines]
    problems = robots._check_invoices_unclaimed(claimed, org.id, None)
    assert len(problems) == 2 and all(p[2]["other"] == robot.number for p in problems)


def test_a_cancelled_loan_grant_keeps_its_interest_days_claimed(world):
    org, _sme = with_user()
    loan = world.loan(enterprise=org)
    loan.periods.append(LoanInterestPeriod(position=0, start_date=date(2026, 1, 1), end_date=date(2026, 4, 1),
                                           outstanding_principal=D("8000000.00"), interest_paid=D("48000.00"),
                                           days=90, eligible_principal=D("8000000.00"), discount=D("40000.00")))
    db.session.flush()
    services.cancel_grant(world.officer.actor(), "loan", loan.id, "Objection upheld.")
    again = [services.PeriodInput(date(2026, 2, 1), date(2026, 3, 1), D("8000000.00"), D("10000.00"))]
    [problem] = loans._check_loan_overlap(org.id, loan.contract_no, again, None)
    assert problem[0] == "periods.0.start"


@pytest.mark.parametrize("status", ["draft", "submitted", "returned", "rejected", "withdrawn"])
def test_only_an_approved_grant_can_be_cancelled(world, status):
    loan = world.loan()
    loan.status = status
    db.session.flush()
    with pytest.raises(TransitionNotAllowed):
        services.cancel_grant(world.officer.actor(), "loan", loan.id, "Confirmed.")
    assert ledger.source_outstanding("loan_application", loan.id) == D("40000.00")


def test_only_an_officer_cancels(world):
    org, sme = with_user()
    loan = world.loan(enterprise=org)
    auditor = fresh_user("auditor")
    for who in (sme, world.finance_a, auditor, world.provider):
        with pytest.raises(Forbidden):
            services.cancel_grant(who.actor(), "loan", loan.id, "Confirmed.")
    assert loan.status == "approved"
    assert ledger.source_outstanding("loan_application", loan.id) == D("40000.00")
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "loan_application.cancel")) is None


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 2001])
def test_a_reason_is_required(world, reason):
    loan = world.loan()
    with pytest.raises(ValidationFailed) as refused:
        services.cancel_grant(world.officer.actor(), "loan", loan.id, reason)
    assert "reason" in refused.value.fields
    assert loan.status == "approved" and ledger.source_outstanding("loan_application", loan.id) == D("40000.00")


def test_refused_while_a_payment_is_under_way_or_once_paid(world):
    loan = world.loan()
    world.announce()
    d = world.prepare("loan_application", loan.id, "full")
    with pytest.raises(Conflict, match="under way"):
        services.cancel_grant(world.officer.actor(), "loan", loan.id, "Confirmed.")
    world.approve(d)
    world.batch(d)
    world.pay(d)
    with pytest.raises(Conflict, match="already been paid"):
        services.cancel_grant(world.officer.actor(), "loan", loan.id, "Confirmed.")
    assert loan.status == "approved" and ledger_rows("loan_application", loan.id, "release") == 0
    assert ledger.source_paid("loan_application", loan.id) == D("40000.00")


def test_unknown_kind_or_application_is_not_found(world):
    with pytest.raises(NotFound):
        services.cancel_grant(world.officer.actor(), "trial", 1, "Confirmed.")
    with pytest.raises(NotFound):
        services.cancel_grant(world.officer.actor(), "robot", 999999, "Confirmed.")


def test_pages_show_the_cancelled_state_in_english_and_chinese(world, login_as):
    org, sme = with_user()
    loan = world.loan(enterprise=org)
    services.cancel_grant(world.officer.actor(), "loan", loan.id, "Objection upheld: repaid early.")

    client = login_as(world.officer)
    page = client.get("/subsidies/review?status=cancelled")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f"/subsidies/loans/{loan.id}" in text and "Grant cancelled" in text
    assert '<option value="cancelled" selected>Grant cancelled</option>' in text
    detail = client.get(f"/subsidies/loans/{loan.id}").get_data(as_text=True)
    assert 'data-status="cancelled"' in detail and "Objection upheld: repaid early." in detail
    assert "Cancelled after approval: the reserved amount went back to the fund" in detail
    assert "Approved, then cancelled (the reservation went back to the fund)" in detail
    assert "Grant cancelled, reservation released" in detail and "¥40,000.00" in detail  # the history row
    assert f"/subsidies/loans/{loan.id}/cancel" not in detail  # no button outside an objection

    client = login_as(world.officer, lang="zh_Hans_CN")
    text = client.get("/subsidies/review?status=cancelled").get_data(as_text=True)
    assert "资助已撤销" in text and "Grant cancelled" not in text
    detail = client.get(f"/subsidies/loans/{loan.id}").get_data(as_text=True)
    assert "批准后已撤销" in detail and "撤销资助，释放预留资金" in detail and "曾获批准，后已撤销" in detail

    client = login_as(sme)
    mine = client.get("/subsidies/loans")
    assert mine.status_code == 200 and "Grant cancelled" in mine.get_data(as_text=True)
    detail = client.get(f"/subsidies/loans/{loan.id}").get_data(as_text=True)
    assert "The bureau cancelled this grant after its public notice; it will not be paid." in detail
    client = login_as(sme, lang="zh_Hans_CN")
    detail = client.get(f"/subsidies/loans/{loan.id}").get_data(as_text=True)
    assert "经公示后，主管部门已撤销这笔资助" in detail


def test_the_export_of_the_review_list_names_the_state(world, login_as):
    loan = world.loan()
    services.cancel_grant(world.officer.actor(), "loan", loan.id, "Confirmed.")
    client = login_as(world.officer)
    response = client.get("/subsidies/review?status=cancelled&format=csv")
    assert response.status_code == 200
    rows = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert any(str(loan.id) in row and "Grant cancelled" in row for row in rows[1:])
