"""A corrected interest period of an approved loan interest discount: the discount recomputed by the
same calc function, the ledger moved by the difference, the form's period rules applied."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from voucher.amendments import services as amendments
from voucher.calc import InterestPeriod
from voucher.errors import Conflict, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.subsidies import services as subsidies
from voucher.subsidies.loans import _stored_loan_params
from voucher.subsidies.models import LoanInterestPeriod

D = Decimal
ST = "loan_application"
TODAY = date(2026, 11, 20)


def _loan_with_period(world):
    """World.loan(): 8,000,000 from 2026-01-01 to 2026-04-01 (90 days) at 2% → 40,000.00 reserved, with
    its period stored as the form stores it."""
    loan = world.loan()
    db.session.add(LoanInterestPeriod(application_id=loan.id, position=1, start_date=date(2026, 1, 1),
                                      end_date=date(2026, 4, 1), outstanding_principal=D("8000000.00"),
                                      interest_paid=D("48000.00"), days=90, eligible_principal=D("8000000.00"),
                                      discount=D("40000.00")))
    db.session.flush()
    db.session.refresh(loan)
    from tests.factories import fresh_user

    sme = fresh_user("sme", loan.enterprise)
    return loan, sme


def test_a_shorter_period_releases_the_difference(world):
    loan, sme = _loan_with_period(world)
    assert ledger.source_outstanding(ST, loan.id) == D("40000.00")
    before = ledger.balances(world.programme)
    a = amendments.request_amendment(sme.actor(), ST, loan.id, {"period": 1, "period_start": date(2026, 1, 1),
                                                               "period_end": date(2026, 3, 2)},
                                     "The bank's statement ends on 2 March.", TODAY)
    expected = subsidies.calculate_loan(loan.benchmark_rate, loan.loan_rate,
                                        [InterestPeriod(date(2026, 1, 1), date(2026, 3, 2), D("8000000.00"),
                                                        D("48000.00"))], _stored_loan_params(loan)).total_discount
    assert expected < D("40000.00")
    assert a.changes["approved_amount"] == {"before": "40000.00", "after": str(expected)}
    amendments.approve(world.officer.actor(), a.id)
    assert loan.approved_amount == expected and loan.computed_discount == expected
    assert ledger.source_outstanding(ST, loan.id) == expected
    assert ledger.balances(world.programme).available == before.available + (D("40000.00") - expected)
    assert loan.periods[0].end_date == date(2026, 3, 2) and loan.periods[0].days == 60
    assert a.ledger_difference == expected - D("40000.00")


@pytest.mark.parametrize("asked, field", [
    ({"period": 2, "period_end": date(2026, 3, 1)}, "period"),
    ({"period": 1, "period_end": date(2025, 12, 1)}, "period_end"),
    ({"period": 1, "period_end": date(2026, 12, 31)}, "period_end"),
    ({"period": 1, "period_start": date(2025, 1, 1)}, "period_start"),
    ({"period": 1, "interest_paid": D("0.001")}, "interest_paid"),
    ({"period": 1, "interest_paid": D("-1")}, "interest_paid"),
    ({"period": 1}, "period_start"),
])
def test_bad_periods_are_refused_naming_the_field(world, asked, field):
    loan, sme = _loan_with_period(world)
    with pytest.raises(ValidationFailed) as err:
        amendments.request_amendment(sme.actor(), ST, loan.id, asked, "Corrected.", TODAY)
    assert err.value.field == field


def test_no_amendment_while_a_payment_is_under_way(world):
    loan, sme = _loan_with_period(world)
    world.announce()
    d = world.prepare(ST, loan.id, "full")
    with pytest.raises(Conflict) as err:
        amendments.request_amendment(sme.actor(), ST, loan.id, {"period": 1, "period_end": date(2026, 3, 2)},
                                     "Corrected.", TODAY)
    assert d.reference in err.value.render()


def test_the_loan_page_offers_the_change_and_shows_it_after_approval(world, login_as):
    loan, sme = _loan_with_period(world)
    client = login_as(sme)
    page = client.get(f"/subsidies/loans/{loan.id}").get_data(as_text=True)
    assert f"/amendments/new/{ST}/{loan.id}" in page
    bad = client.post(f"/amendments/new/{ST}/{loan.id}", data={"period": "1", "period_end": "2025-12-01",
                                                               "reason": "Corrected."})
    assert bad.status_code == 422 and "must end after it starts" in bad.get_data(as_text=True)
    response = client.post(f"/amendments/new/{ST}/{loan.id}", data={"period": "1", "period_end": "2026-03-02",
                                                                     "reason": "The statement ends on 2 March."})
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    from voucher.amendments.models import GrantAmendment

    a = db.session.query(GrantAmendment).one()
    client = login_as(world.officer)
    detail = client.get(f"/amendments/{a.id}").get_data(as_text=True)
    assert "2026-01-01 – 2026-04-01" in detail and "2026-01-01 – 2026-03-02" in detail
    assert client.post(f"/amendments/{a.id}/approve", data={"approve-confirm": "y"}).status_code == 303
    page = login_as(sme).get(f"/subsidies/loans/{loan.id}").get_data(as_text=True)
    assert "Amended on" in page and "¥40,000.00" in page
