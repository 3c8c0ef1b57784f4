"""Recording a breach and settling the recovery order: the amounts (whole, pro rata with its working),
the deadline, the refusals naming the field and the limit, partial and full repayment, and the fund
ledger: the programme's available funds rise by exactly what was repaid."""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import fresh_user
from tests.recovery.conftest import evidence, pay_robot
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict, Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.recovery import services as recovery
from voucher.workdays import add_working_days

D = Decimal
ST = "robot_application"
TODAY = date(2026, 11, 20)


def _order(world, app, method="pro_rata", breach_on=TODAY, **kw):
    return recovery.record_breach(world.officer.actor(), ST, app.id, obligation_code="robot_in_use",
                                  breach_on=breach_on, reason="The robots were sold in October.", evidence=evidence(),
                                  method=method, today=TODAY, **kw)


def _repay(world, order, amount, ref=None, who=None):
    return recovery.record_repayment((who or world.finance_a).actor(), order.id, amount=D(amount), paid_on=TODAY,
                                     bank_reference=ref or f"CR{secrets.token_hex(4)}", today=TODAY)


def test_the_robot_obligation_runs_three_years_from_the_payment(world, paid_robot):
    [ob] = recovery.obligations_of(ST, paid_robot.id)
    assert (ob.code, ob.starts_on, ob.ends_on) == ("robot_in_use", date(2025, 11, 20), date(2028, 11, 20))
    assert ob.debtor_id == paid_robot.enterprise_id


def test_an_unpaid_robot_has_the_obligation_without_dates_and_nothing_to_recover(world):
    app = world.robot()
    [ob] = recovery.obligations_of(ST, app.id)
    assert ob.starts_on is None and ob.ends_on is None
    with pytest.raises(ValidationFailed) as err:
        _order(world, app, method="whole")
    assert err.value.field == "method"


def test_a_trial_voucher_binds_the_provider_to_the_accepted_scope(world):
    trial = world.trial("200000.00")
    [ob] = recovery.obligations_of("trial_application", trial.application_id)
    assert ob.code == "trial_scope" and ob.debtor_id == world.provider_org.id


def test_a_pro_rata_order_shows_its_working_and_a_working_day_deadline(world, paid_robot):
    order = _order(world, paid_robot)
    assert order.amount == D("66697.08") and order.status == "open" and order.outstanding == D("66697.08")
    assert order.due_on == add_working_days(TODAY, 15)
    assert [s["code"] for s in order.working] == ["base", "period", "remaining", "pro_rata"]
    assert order.debtor_id == paid_robot.enterprise_id and order.evidence_file_id
    event = db.session.query(AuditEvent).filter_by(action="recovery_order.created", object_id=str(order.id)).one()
    assert event.reason == "The robots were sold in October."


def test_a_whole_order_claims_what_was_paid_and_a_second_order_only_the_rest(world, paid_robot):
    first = _order(world, paid_robot)
    second = _order(world, paid_robot, method="whole")
    assert second.amount == D("100000.00") - first.amount
    with pytest.raises(ValidationFailed) as err:
        _order(world, paid_robot, method="whole")
    assert err.value.field == "method"


@pytest.mark.parametrize("kwargs, field", [
    ({"breach_on": date(2026, 11, 21)}, "breach_on"),  # in the future
    ({"breach_on": date(2025, 11, 19)}, "breach_on"),  # before the obligation started
    ({"deadline_working_days": 0}, "deadline_working_days"),
    ({"deadline_working_days": 61}, "deadline_working_days"),
])
def test_bad_breaches_are_refused_naming_the_field(world, paid_robot, kwargs, field):
    with pytest.raises(ValidationFailed) as err:
        _order(world, paid_robot, **kwargs)
    assert field in err.value.fields or err.value.field == field


def test_a_breach_without_evidence_or_reason_is_refused_and_nothing_is_saved(world, paid_robot):
    with pytest.raises(ValidationFailed) as err:
        recovery.record_breach(world.officer.actor(), ST, paid_robot.id, obligation_code="robot_in_use",
                               breach_on=TODAY, reason=" ", evidence=None, method="whole", today=TODAY)
    assert {"reason", "evidence"} <= set(err.value.fields)
    assert recovery.claimed(ST, paid_robot.id) == 0


@pytest.mark.parametrize("role", ["finance", "auditor", "sme"])
def test_only_an_officer_records_a_breach(world, paid_robot, role):
    with pytest.raises(Forbidden):
        recovery.record_breach(fresh_user(role).actor(), ST, paid_robot.id, obligation_code="robot_in_use",
                               breach_on=TODAY, reason="x", evidence=evidence(), method="whole", today=TODAY)


def test_partial_then_full_repayment_returns_exactly_the_money_to_the_fund(world, paid_robot):
    programme = world.programme
    before = ledger.balances(programme)
    order = _order(world, paid_robot)
    _repay(world, order, "10000.00")
    assert order.status == "partly_settled" and order.outstanding == D("56697.08")
    middle = ledger.balances(programme)
    assert middle.available - before.available == D("10000.00")
    assert middle.reserved == before.reserved and middle.paid == before.paid - D("10000.00")
    _repay(world, order, "56697.08")
    assert order.status == "settled" and order.outstanding == 0
    after = ledger.balances(programme)
    assert after.available - before.available == order.amount
    assert ledger.recomputed_balances(programme) == after
    assert ledger.source_recovered(ST, paid_robot.id) == order.amount
    # the enterprise's quota is not given back; the paid milestone stays paid (not payable again)
    assert ledger.paid_milestones(ST, [paid_robot.id]) == {(paid_robot.id, "full")}


def test_over_repayment_is_refused_naming_the_outstanding_amount(world, paid_robot):
    order = _order(world, paid_robot)
    _repay(world, order, "60000.00")
    with pytest.raises(ValidationFailed) as err:
        _repay(world, order, "6697.09")
    assert err.value.field == "amount" and "6,697.08" in err.value.render(lambda s: s)
    assert order.settled_amount == D("60000.00")


def test_a_bank_reference_is_used_once(world, paid_robot):
    order = _order(world, paid_robot)
    _repay(world, order, "100.00", ref="CR-1")
    with pytest.raises(Conflict):
        _repay(world, order, "100.00", ref="CR-1")


def test_only_finance_records_a_repayment_and_a_settled_order_takes_no_more(world, paid_robot):
    order = _order(world, paid_robot, method="whole")
    with pytest.raises(Forbidden):
        _repay(world, order, "1.00", who=world.officer)
    _repay(world, order, "100000.00")
    with pytest.raises(Conflict):
        _repay(world, order, "1.00")


def test_cancel_needs_a_reason_and_frees_the_claim(world, paid_robot):
    order = _order(world, paid_robot, method="whole")
    with pytest.raises(ValidationFailed):
        recovery.cancel(world.officer.actor(), order.id, "")
    recovery.cancel(world.officer.actor(), order.id, "The robots were found at the branch.")
    assert order.status == "cancelled" and recovery.recoverable(ST, paid_robot.id) == D("100000.00")


def test_an_order_with_a_repayment_is_not_cancelled(world, paid_robot):
    order = _order(world, paid_robot)
    _repay(world, order, "1.00")
    with pytest.raises(TransitionNotAllowed):
        recovery.cancel(world.officer.actor(), order.id, "Changed our mind.")


def test_another_enterprise_may_not_read_the_order(world, paid_robot):
    from tests.factories import build_org

    order = _order(world, paid_robot)
    assert recovery.get_order(fresh_user("sme", paid_robot.enterprise).actor(), order.id) is order
    with pytest.raises(Forbidden):
        recovery.get_order(fresh_user("sme", build_org("enterprise")).actor(), order.id)
    with pytest.raises(Forbidden):
        recovery.get_order(world.provider.actor(), order.id)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.integers(min_value=1, max_value=4_000_000), min_size=1, max_size=5),
       days_ago=st.integers(min_value=1, max_value=1000))
def test_settlements_never_exceed_the_order_and_the_ledger_stays_consistent(world, parts, days_ago):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    paid_at = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")) - timedelta(days=days_ago)
    app = pay_robot(world, paid_at=paid_at)
    before = ledger.balances(world.programme)
    order = _order(world, app)
    assert D("0.00") < order.amount <= D("100000.00")
    repaid = D("0.00")
    for fen in parts:
        amount = D(fen) / 100
        try:
            _repay(world, order, str(amount))
        except ValidationFailed:
            assert amount > order.outstanding
            continue
        repaid += amount
    assert order.settled_amount == repaid <= order.amount
    after = ledger.balances(world.programme)
    assert after.available - before.available == repaid
    assert ledger.recomputed_balances(world.programme) == after
