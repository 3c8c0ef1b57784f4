"""The loan discount's principal cap per enterprise and day (domain §10): over all its contracts,
one enterprise is discounted on at most 10,000,000 of principal on any day; claims are served in
the order approved and a later claim is discounted only on what remains, with the working saying so."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.subsidies.conftest import EN, fresh, loan_form
from voucher.extensions import db
from voucher.programmes.models import FundLedgerEntry
from voucher.subsidies.models import LoanApplication

CAP_LINE = ("the enterprise already receives the discount on 8000000.00 of principal on these days under earlier "
            "approved claims; of the per-enterprise cap 10000000.00 2000000.00 remains, so the eligible principal "
            "is 2000000.00")


def create(client, programme, **overrides) -> int:
    response = client.post("/subsidies/loans/new", data=loan_form(programme, **overrides), headers=EN,
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def post(client, path):
    response = client.post(path, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]


def reserved(app_id) -> Decimal:
    return db.session.scalar(select(FundLedgerEntry.amount).where(FundLedgerEntry.source_type == "loan_application",
                                                                  FundLedgerEntry.source_id == app_id))


def test_two_8m_loans_over_the_same_days_the_second_is_discounted_on_2m_when_the_first_is_approved_first(
        client, sme, officer, programme, login):
    login(sme)
    first = create(client, programme)
    second = create(client, programme, contract_no="WZ-2025-0002")
    # Neither approved yet: each is shown 40,000.00 (claims are served in the order approved).
    assert fresh(LoanApplication, second).computed_discount == Decimal("40000.00")
    post(client, f"/subsidies/loans/{first}/submit")
    post(client, f"/subsidies/loans/{second}/submit")
    login(officer)
    post(client, f"/subsidies/loans/{first}/approve")
    page = client.get(f"/subsidies/loans/{second}", headers=EN).get_data(as_text=True)
    assert 'data-figure="approval_amount" data-value="10000.00"' in page
    post(client, f"/subsidies/loans/{second}/approve")
    assert reserved(first) == Decimal("40000.00")
    assert reserved(second) == Decimal("10000.00")
    app2 = fresh(LoanApplication, second)
    assert app2.approved_amount == Decimal("10000.00") and app2.computed_discount == Decimal("10000.00")
    assert app2.periods[0].eligible_principal == Decimal("2000000.00")
    assert app2.periods[0].segments == [["2026-01-01", "2026-04-01", "2000000.00"]]
    page = client.get(f"/subsidies/loans/{second}", headers=EN).get_data(as_text=True)
    assert CAP_LINE in page


def test_a_claim_saved_after_an_approval_is_shown_the_remaining_cap(client, sme, officer, programme, login):
    login(sme)
    first = create(client, programme)
    post(client, f"/subsidies/loans/{first}/submit")
    login(officer)
    post(client, f"/subsidies/loans/{first}/approve")
    login(sme)
    # Another contract, overlapping February only: 2,000,000 on Feb (28 days), 8,000,000 from Apr.
    second = create(client, programme, contract_no="WZ-2025-0002", **{
        "periods-0-start": "2026-02-01", "periods-0-end": "2026-03-01",
        "periods-1-start": "2026-04-01", "periods-1-end": "2026-05-01",
        "periods-1-outstanding_principal": "8000000.00", "periods-1-interest_paid": "48000.00"})
    app2 = fresh(LoanApplication, second)
    # 2,000,000 × 2% × 28 / 360 = 3,111.11; 8,000,000 × 2% × 30 / 360 = 13,333.33
    assert [p.discount for p in app2.periods] == [Decimal("3111.11"), Decimal("13333.33")]
    assert app2.computed_discount == Decimal("16444.44")
    page = client.get(f"/subsidies/loans/{second}", headers=EN).get_data(as_text=True)
    assert "Period 1, 2026-02-01 to 2026-03-01 (28 days): " + CAP_LINE in page


def test_the_cap_used_up_refuses_approval_with_the_cap(client, sme, officer, programme, login):
    login(sme)
    first = create(client, programme, principal="10000000.00", **{"periods-0-outstanding_principal": "10000000.00",
                                                                   "periods-0-interest_paid": "60000.00"})
    second = create(client, programme, contract_no="WZ-2025-0002")
    post(client, f"/subsidies/loans/{first}/submit")
    post(client, f"/subsidies/loans/{second}/submit")
    login(officer)
    post(client, f"/subsidies/loans/{first}/approve")
    response = client.post(f"/subsidies/loans/{second}/approve", headers=EN)
    assert response.status_code == 422
    assert "principal cap of ¥10,000,000.00 a day is used up" in response.get_data(as_text=True)
    assert fresh(LoanApplication, second).status == "submitted" and reserved(second) is None


def test_another_enterprise_is_not_capped_by_the_first(client, sme, other_sme, officer, programme, login):
    login(sme)
    first = create(client, programme)
    post(client, f"/subsidies/loans/{first}/submit")
    login(other_sme)
    second = create(client, programme)
    post(client, f"/subsidies/loans/{second}/submit")
    login(officer)
    post(client, f"/subsidies/loans/{first}/approve")
    post(client, f"/subsidies/loans/{second}/approve")
    assert reserved(second) == Decimal("40000.00")


def test_a_third_claim_counts_the_second_claims_days_exactly_not_its_average(client, sme, officer, programme, login):
    """The second claim was split by day (8,000,000 in January and March, 2,000,000 in February);
    a third claim over January has 2,000,000 left there, not what a period average would leave."""
    login(sme)
    feb = {"periods-0-start": "2026-02-01", "periods-0-end": "2026-03-01"}
    first = create(client, programme, **feb)
    post(client, f"/subsidies/loans/{first}/submit")
    second = create(client, programme, contract_no="WZ-2025-0002")
    post(client, f"/subsidies/loans/{second}/submit")
    login(officer)
    post(client, f"/subsidies/loans/{first}/approve")
    post(client, f"/subsidies/loans/{second}/approve")
    # (8,000,000 × 31 + 2,000,000 × 28 + 8,000,000 × 31) × 2% / 360 = 30,666.67
    assert reserved(second) == Decimal("30666.67")
    assert fresh(LoanApplication, second).periods[0].segments == [
        ["2026-01-01", "2026-02-01", "8000000.00"], ["2026-02-01", "2026-03-01", "2000000.00"],
        ["2026-03-01", "2026-04-01", "8000000.00"]]
    login(sme)
    third = create(client, programme, contract_no="WZ-2025-0003",
                   **{"periods-0-start": "2026-01-01", "periods-0-end": "2026-02-01"})
    # January: 10,000,000 − 8,000,000 (the second claim) = 2,000,000 × 2% × 31 / 360 = 3,444.44
    assert fresh(LoanApplication, third).computed_discount == Decimal("3444.44")
