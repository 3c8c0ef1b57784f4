"""Amendments to an approved trial voucher (issue 18 §4): the ledger moves by the difference to the fen,
the caps refuse with the figures, one open request per grant, no change while a payment is under way,
who may ask and decide, odd input, the audit events."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import build_org, fresh_user
from voucher.amendments import services as amendments
from voucher.amendments.models import GrantAmendment
from voucher.applications import services as applications
from voucher.applications.models import TrialApplication
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict, Forbidden, OverCap, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry

D = Decimal
ST = "trial_application"


def ask(world, trial, reason="The pilot line is smaller than planned.", **asked):
    sme = world.smes[trial.id]
    return amendments.request_amendment(sme.actor(), ST, trial.application_id, asked, reason,
                                        applications.local_today())


def test_a_lower_amount_releases_the_difference_to_the_fen(world):
    trial = world.trial("200000.00")
    before = ledger.balances(world.programme)
    a = ask(world, trial, requested_amount=D("123456.78"))
    assert a.status == "requested"
    assert a.changes == {"requested_amount": {"before": "200000.00", "after": "123456.78"}}
    assert ledger.balances(world.programme) == before  # nothing moves until the officer approves
    amendments.approve(world.officer.actor(), a.id, "Agreed.")
    after = ledger.balances(world.programme)
    assert after.reserved == before.reserved - D("76543.22")
    assert after.available == before.available + D("76543.22")
    assert after == ledger.recomputed_balances(world.programme)
    last = db.session.scalar(select(FundLedgerEntry).order_by(FundLedgerEntry.seq.desc()).limit(1))
    assert (last.kind, last.amount, last.source_id) == ("release", D("76543.22"), trial.application_id)
    assert ledger.source_outstanding(ST, trial.application_id) == D("123456.78")
    application = db.session.get(TrialApplication, trial.application_id)
    assert application.requested_amount == D("123456.78")
    assert trial.approved_amount == D("123456.78")
    assert (a.status, a.ledger_difference, a.decided_by) == ("approved", D("-76543.22"), world.officer.id)
    # the original decision stays: the application's approval event is untouched, the amendment keeps before
    assert application.decided_at is not None and application.status == "approved"
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type.in_(
        ("grant_amendment", "trial_application")))))
    assert {"grant_amendment.requested", "grant_amendment.approve", "trial_application.amended",
            "trial_application.approve"} <= actions


def test_after_the_kick_off_an_unpaid_advance_is_recomputed(world):
    trial = world.kick_off(world.trial("200000.00"))
    pct = trial.advance_pct
    a = ask(world, trial, requested_amount=D("100000.01"))
    amendments.approve(world.officer.actor(), a.id)
    assert trial.approved_amount == D("100000.01")
    assert trial.advance_amount + trial.balance_amount == D("100000.01")
    assert trial.advance_amount == (D("100000.01") * pct / 100).quantize(D("0.01"), rounding="ROUND_HALF_UP")


def test_a_higher_amount_over_the_enterprise_cap_is_refused_with_the_figures(world):
    trial = world.trial("200000.00")  # the default cap is 200,000: nothing remains
    world.solution.trial_price = D("250000.00")
    with pytest.raises(OverCap) as err:
        ask(world, trial, requested_amount=D("200000.01"))
    text = err.value.render()
    assert "¥200,000.00" in text and "¥0.00" in text and "¥0.01" in text
    assert err.value.field == "requested_amount"


def test_a_higher_amount_reserves_the_difference_and_the_ledger_checks_the_cap_again(world):
    trial = world.trial("150000.00")
    a = ask(world, trial, requested_amount=D("180000.00"))
    other = world.trial("10000.00", enterprise=db.session.get(TrialApplication, trial.application_id).enterprise)
    b = ask(world, other, requested_amount=D("30000.00"))  # fits alone: 150,000 + 10,000 + 30,000
    amendments.approve(world.officer.actor(), a.id)  # now 190,000 used
    assert ledger.source_outstanding(ST, trial.application_id) == D("180000.00")
    with pytest.raises(OverCap) as err:  # 190,000 + 20,000 more > 200,000: the ledger refuses at approval
        amendments.approve(world.officer.actor(), b.id)
    assert "¥10,000.00" in err.value.render()  # what remains


def test_a_second_open_request_is_refused(world):
    trial = world.trial("200000.00")
    ask(world, trial, requested_amount=D("150000.00"))
    with pytest.raises(Conflict):
        ask(world, trial, requested_amount=D("140000.00"))
    assert db.session.scalar(select(func.count()).select_from(GrantAmendment)) == 1


def test_the_index_holds_one_open_request_per_grant(world):
    trial = world.trial("200000.00")
    a = ask(world, trial, requested_amount=D("150000.00"))
    twin = GrantAmendment(source_type=ST, source_id=a.source_id, programme_id=a.programme_id,
                          enterprise_id=a.enterprise_id, changes={}, reason="x", status="requested",
                          requested_by=a.requested_by)
    db.session.add(twin)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.flush()


def test_after_a_decision_a_new_request_may_be_made(world):
    trial = world.trial("200000.00")
    a = ask(world, trial, requested_amount=D("150000.00"))
    amendments.refuse(world.officer.actor(), a.id, "The trial scope is unchanged.")
    assert a.status == "refused" and a.decision_reason == "The trial scope is unchanged."
    assert ledger.source_outstanding(ST, trial.application_id) == D("200000.00")
    b = ask(world, trial, requested_amount=D("150000.00"))
    amendments.withdraw(world.smes[trial.id].actor(), b.id)
    assert b.status == "withdrawn"
    with pytest.raises(TransitionNotAllowed):
        amendments.withdraw(world.smes[trial.id].actor(), b.id)
    with pytest.raises(Conflict):  # a repeated click on approve of a decided request
        amendments.approve(world.officer.actor(), a.id)


def test_refusing_needs_a_reason(world):
    a = ask(world, world.trial(), requested_amount=D("150000.00"))
    with pytest.raises(ValidationFailed) as err:
        amendments.refuse(world.officer.actor(), a.id, "   ")
    assert err.value.field == "reason"


def test_no_amendment_while_a_payment_is_under_way(world):
    trial = world.kick_off(world.trial("200000.00"))
    world.announce()
    d = world.prepare(ST, trial.application_id, "advance")
    with pytest.raises(Conflict) as err:
        ask(world, trial, requested_amount=D("150000.00"))
    assert d.reference in err.value.render()


def test_a_request_made_before_the_payment_is_refused_at_approval(world):
    trial = world.kick_off(world.trial("200000.00"))
    a = ask(world, trial, requested_amount=D("150000.00"))
    world.announce()
    world.prepare(ST, trial.application_id, "advance")
    with pytest.raises(Conflict):
        amendments.approve(world.officer.actor(), a.id)
    assert ledger.source_outstanding(ST, trial.application_id) == D("200000.00")


def test_an_approved_unpaid_disbursement_still_blocks_an_amendment(world):
    trial = world.kick_off(world.trial("200000.00"))
    world.announce()
    d = world.approved(ST, trial.application_id, "advance")
    assert d.status == "approved"
    with pytest.raises(Conflict):  # approved, not yet paid: still under way
        ask(world, trial, requested_amount=D("150000.00"))


@pytest.mark.parametrize("value, words", [
    (D("1e20"), "at most"), (D("150000.123"), "two decimals"), (D("-5"), "positive"), (D("0"), "positive"),
    (D("NaN"), "positive"), ("abc", "in yuan"), (D("200000.00"), "nothing would change"),
    (D("250000.01"), "trial price"),
])
def test_bad_amounts_are_refused_naming_the_field_and_the_limit(world, value, words):
    trial = world.trial("200000.00")
    with pytest.raises((ValidationFailed, OverCap)) as err:
        ask(world, trial, requested_amount=value)
    assert err.value.field == "requested_amount"
    assert words in err.value.render()


def test_a_formula_like_reason_is_kept_verbatim_and_an_empty_one_refused(world):
    trial = world.trial("200000.00")
    with pytest.raises(ValidationFailed) as err:
        ask(world, trial, reason="  ", requested_amount=D("150000.00"))
    assert err.value.field == "reason"
    with pytest.raises(ValidationFailed) as err:
        ask(world, trial, reason="x" * 2001, requested_amount=D("150000.00"))
    assert "2000" in err.value.render()
    a = ask(world, trial, reason="=1+1", requested_amount=D("150000.00"))
    assert a.reason == "=1+1"


def test_new_trial_dates_before_the_kick_off_only(world):
    trial = world.trial("200000.00")
    today = applications.local_today()
    with pytest.raises(ValidationFailed) as err:
        ask(world, trial, trial_start_date=today - timedelta(days=1))
    assert err.value.field == "trial_start_date"
    a = ask(world, trial, trial_start_date=today + timedelta(days=10))
    amendments.approve(world.officer.actor(), a.id)
    application = db.session.get(TrialApplication, trial.application_id)
    assert application.trial_start_date == today + timedelta(days=10)
    assert ledger.source_outstanding(ST, trial.application_id) == D("200000.00")
    world.kick_off(trial)
    with pytest.raises(Conflict):
        ask(world, trial, trial_start_date=today + timedelta(days=20))


def test_only_the_enterprises_own_users_ask_and_only_officers_decide(world):
    trial = world.trial("200000.00")
    stranger = fresh_user("sme", build_org("enterprise"))
    for who in (stranger, world.provider, world.officer, world.finance_a):
        with pytest.raises(Forbidden):
            amendments.request_amendment(who.actor(), ST, trial.application_id,
                                         {"requested_amount": D("150000.00")}, "Because.", applications.local_today())
    a = ask(world, trial, requested_amount=D("150000.00"))
    for who in (world.smes[trial.id], world.finance_a, world.provider, fresh_user("auditor")):
        with pytest.raises(Forbidden):
            amendments.approve(who.actor(), a.id)
        with pytest.raises(Forbidden):
            amendments.refuse(who.actor(), a.id, "No.")
    with pytest.raises(Forbidden):
        amendments.get_amendment(stranger.actor(), a.id)
    with pytest.raises(Forbidden):
        amendments.withdraw(stranger.actor(), a.id)


def test_after_a_paid_advance_the_balance_takes_the_difference_and_never_goes_below_it(world):
    trial = world.kick_off(world.trial("200000.00"))
    world.announce()
    d = world.approved(ST, trial.application_id, "advance")
    world.batch(d)
    world.pay(d)
    advance = trial.advance_amount
    with pytest.raises(ValidationFailed) as err:
        ask(world, trial, requested_amount=advance - D("0.01"))
    assert "already paid" in err.value.render()
    a = ask(world, trial, requested_amount=D("180000.00"))
    amendments.approve(world.officer.actor(), a.id)
    assert trial.advance_amount == advance
    assert trial.balance_amount == D("180000.00") - advance
    assert ledger.source_outstanding(ST, trial.application_id) == D("180000.00") - advance
