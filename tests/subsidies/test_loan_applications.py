"""Loan interest-discount applications: the ceiling refused at once, the discount computed and
shown before submitting, review, and approval reserving the discount in the fund ledger."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.subsidies.conftest import EN, LOAN_MATERIALS, PNG, build_programme, count, fresh, loan_form, pdf
from voucher.audit.models import AuditEvent
from voucher.documents.models import StoredFile
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.programmes.models import FundLedgerEntry
from voucher.subsidies.models import LoanApplication, LoanInterestPeriod


def counts():
    return count(LoanApplication), count(LoanInterestPeriod), count(StoredFile)


def create(client, programme, **overrides):
    response = client.post("/subsidies/loans/new", data=loan_form(programme, **overrides), headers=EN,
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def submit(client, app_id):
    response = client.post(f"/subsidies/loans/{app_id}/submit", headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_rate_above_the_ceiling_is_refused_at_once_with_the_ceiling_and_nothing_is_saved(client, sme, programme, login):
    login(sme)
    before = counts()
    # 2.50% against the LPR of 3.00% in force on the contract date: the ceiling is 2.40%.
    response = client.post("/subsidies/loans/new", data=loan_form(programme, loan_rate="2.50"), headers=EN,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "above the eligible ceiling of 2.40%" in page
    assert "1-year LPR of 3.00%" in page and "since 2025-05-20" in page
    assert counts() == before


def test_ceiling_is_shown_at_once_even_when_other_fields_are_still_missing(client, sme, programme, login):
    login(sme)
    before = counts()
    response = client.post("/subsidies/loans/new", headers=EN, content_type="multipart/form-data",
                           data=loan_form(programme, loan_rate="2.50", bank_name="", plan_file=None))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "above the eligible ceiling of 2.40%" in page
    assert "Enter the lending bank." in page
    assert counts() == before


def test_benchmark_is_the_lpr_in_force_on_the_contract_date(client, sme, programme, login):
    login(sme)
    # Signed under 3.10% (before 2025-05-20): ceiling 2.48%, so 2.45% is eligible.
    app_id = create(client, programme, contract_date="2025-05-19", term_start="2025-05-19", loan_rate="2.45")
    app = fresh(LoanApplication, app_id)
    assert app.benchmark_rate == Decimal("3.10")
    assert app.rate_ceiling == "2.48"
    assert app.benchmark_effective_from.isoformat() == "2024-10-21"


def test_draft_shows_the_computed_discount_and_working_before_submitting(client, sme, programme, login):
    login(sme)
    app_id = create(client, programme)
    app = fresh(LoanApplication, app_id)
    assert app.status == "draft"
    assert app.computed_discount == Decimal("40000.00")
    assert [s["code"] for s in app.working][-1] == "loan.total"
    assert app.params["day_basis"] == 360
    page = client.get(f"/subsidies/loans/{app_id}", headers=EN).get_data(as_text=True)
    assert 'data-figure="total_discount" data-value="40000.00"' in page
    assert "Period 1: discount = 8000000.00 × 2% × 90 / 360 = 40000.00" in page
    assert "Submit to the bureau" in page
    submit(client, app_id)
    assert fresh(LoanApplication, app_id).status == "submitted"


def test_bad_input_gives_a_message_per_field_and_saves_nothing(client, sme, programme, login):
    login(sme)
    before = counts()
    response = client.post("/subsidies/loans/new", headers=EN, content_type="multipart/form-data", data=loan_form(
        programme, principal="abc", **{"periods-0-end": "2025-12-01", "periods-0-interest_paid": "12.345"},
        statement_file=(pdf()[0].__class__(b"GIF89a not a pdf"), "statement.pdf")))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)." in page
    assert page.count("is-invalid") >= 2
    assert counts() == before

    # The form is fine, the service refuses: end before start and a file that is not a PDF/JPEG/PNG.
    response = client.post("/subsidies/loans/new", headers=EN, content_type="multipart/form-data", data=loan_form(
        programme, **{"periods-0-end": "2025-12-01"},
        statement_file=(pdf()[0].__class__(b"GIF89a not a pdf"), "statement.pdf")))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The end date must be after the start date (2026-01-01)." in page
    assert "Only these formats are accepted here: PDF, OFD, JPEG, PNG, Excel (.xlsx), Excel (.xls)" in page
    assert counts() == before


def test_a_repeated_form_creates_one_application(client, sme, programme, login):
    login(sme)
    data = loan_form(programme)
    token = data["client_token"]
    first = create(client, programme, client_token=token)
    second = create(client, programme, client_token=token)
    assert first == second
    assert count(LoanApplication) == 1


def test_the_same_loan_days_cannot_be_claimed_twice(client, sme, programme, login):
    login(sme)
    create(client, programme)
    response = client.post("/subsidies/loans/new", headers=EN, content_type="multipart/form-data",
                           data=loan_form(programme, **{"periods-0-start": "2026-03-01", "periods-0-end": "2026-06-01"}))
    assert response.status_code == 422
    assert "already claimed for this loan contract" in response.get_data(as_text=True)
    assert count(LoanApplication) == 1


def test_approval_reserves_the_discount_in_the_ledger_and_notifies_the_enterprise(client, app, sme, officer, programme,
                                                                                  login):
    login(sme)
    app_id = create(client, programme)
    submit(client, app_id)
    login(officer)
    page = client.get(f"/subsidies/loans/{app_id}", headers=EN).get_data(as_text=True)
    assert 'data-figure="approval_amount" data-value="40000.00"' in page
    response = client.post(f"/subsidies/loans/{app_id}/approve", headers=EN)
    assert response.status_code == 302
    entry = db.session.scalar(select(FundLedgerEntry).where(FundLedgerEntry.source_type == "loan_application",
                                                            FundLedgerEntry.source_id == app_id))
    assert entry.kind == "reserve" and entry.funding_kind == "loan_discount"
    assert entry.amount == Decimal("40000.00")
    assert entry.enterprise_id == sme.organisation_id and entry.provider_id is None
    application = fresh(LoanApplication, app_id)
    assert application.status == "approved" and application.approved_amount == Decimal("40000.00")
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == sme.id, Notification.message.like("%was approved%"))) == 1
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "loan_application",
                                                                      AuditEvent.object_id == str(app_id))
                                      .order_by(AuditEvent.id)))  # PostgreSQL keeps no order unasked
    # Created with the form's checklist materials (one audited attach each), then submitted and approved.
    assert actions[0] == "loan_application.created" and actions[-2:] == ["loan_application.submit",
                                                                         "loan_application.approve"]
    assert set(actions[1:-2]) == {"loan_application.attach"} and len(actions) == 3 + len(LOAN_MATERIALS)


def test_approval_refused_with_the_figures_when_the_budget_is_short(client, sme, officer, login, lpr):
    programme = build_programme(budget="30000.00")
    login(sme)
    app_id = create(client, programme)
    submit(client, app_id)
    login(officer)
    response = client.post(f"/subsidies/loans/{app_id}/approve", headers=EN)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "available budget is ¥30,000.00, less than the ¥40,000.00 requested" in page
    assert fresh(LoanApplication, app_id).status == "submitted"
    assert count(FundLedgerEntry) == 0


def test_reject_needs_a_reason_and_tells_the_enterprise(client, sme, officer, programme, login):
    login(sme)
    app_id = create(client, programme)
    submit(client, app_id)
    login(officer)
    response = client.post(f"/subsidies/loans/{app_id}/reject", data={"reason": "  "}, headers=EN)
    assert response.status_code == 422
    assert fresh(LoanApplication, app_id).status == "submitted"
    response = client.post(f"/subsidies/loans/{app_id}/reject", data={"reason": "The plan is not a digital one."},
                           headers=EN)
    assert response.status_code == 302
    app = fresh(LoanApplication, app_id)
    assert app.status == "rejected" and app.decision_reason == "The plan is not a digital one."
    note = db.session.scalar(select(Notification).where(Notification.user_id == sme.id))
    assert note.params["reason"] == "The plan is not a digital one."


def test_returned_application_is_revised_and_submitted_again(client, sme, officer, programme, login):
    login(sme)
    app_id = create(client, programme)
    submit(client, app_id)
    login(officer)
    assert client.post(f"/subsidies/loans/{app_id}/return", data={"reason": "Attach the signed plan."}).status_code == 302
    login(sme)
    page = client.get(f"/subsidies/loans/{app_id}/edit", headers=EN)
    assert page.status_code == 200 and 'value="8000000.00"' in page.get_data(as_text=True)
    data = loan_form(programme, **{"periods-0-interest_paid": "30000.00"}, plan_file=None, statement_file=None)
    response = client.post(f"/subsidies/loans/{app_id}/edit", data=data, headers=EN, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    app = fresh(LoanApplication, app_id)
    assert app.computed_discount == Decimal("30000.00")  # capped at the interest paid
    assert app.plan_file_id is not None and app.periods[0].capped_by_interest_paid
    submit(client, app_id)
    assert fresh(LoanApplication, app_id).status == "submitted"


def test_withdrawn_from_draft(client, sme, programme, login):
    login(sme)
    app_id = create(client, programme)
    assert client.post(f"/subsidies/loans/{app_id}/withdraw").status_code == 302
    assert fresh(LoanApplication, app_id).status == "withdrawn"
    # Nothing more can happen to it.
    assert client.post(f"/subsidies/loans/{app_id}/submit", headers=EN).status_code == 409


def test_uploads_are_checked_by_content(client, sme, programme, login):
    login(sme)
    app_id = create(client, programme, plan_file=(pdf()[0].__class__(PNG), "plan.png"))
    app = fresh(LoanApplication, app_id)
    stored = db.session.get(StoredFile, app.plan_file_id)
    assert stored.content_type == "image/png" and stored.owner_type == "loan_application" and stored.owner_id == app_id


def test_sme_list_shows_plain_status_and_next_step(client, sme, programme, login):
    login(sme)
    app_id = create(client, programme)
    submit(client, app_id)
    page = client.get("/subsidies/loans", headers=EN).get_data(as_text=True)
    assert "Waiting for the bureau&#39;s review" in page or "Waiting for the bureau's review" in page
    assert "the bureau is reviewing your application" in page
