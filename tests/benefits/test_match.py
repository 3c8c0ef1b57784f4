"""Matching candidates on seeded sources: the amounts equal an independent computation written here
from the rules in domain.md (§5 loan discount, §6 robot subsidy), exact to the fen, each with its
evidence rows; the blacklist excludes; matching again makes nothing new; the enterprise confirms
(the application the officer reviews) or declines; another enterprise gets 403."""
from __future__ import annotations

import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from tests.benefits.conftest import INVOICE_HEAD, TODAY
from tests.factories import attach_required_materials, fresh_user
from voucher.benefits import services
from voucher.benefits.matching import match_candidates
from voucher.benefits.models import BenefitCandidate, BenefitClaim, BenefitInvoice, BenefitLoanLine
from voucher.errors import Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.subsidies import review
from voucher.subsidies.common import Upload
from voucher.subsidies.models import RobotApplication

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FEN = Decimal("0.01")


# --- the independent computation (domain.md), not the product's functions ------------------------

def fen(x: Decimal) -> Decimal:
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


def robot_expected(lines, pilot: bool, cap=Decimal("2000000.00")) -> Decimal:
    """§6: per line cost × 10% (imported) / 15% (domestic) / 20% (domestic, pilot industry), each
    rounded to the fen half-up, summed, then the per-enterprise cap."""
    total = Decimal("0.00")
    for domestic, amount in lines:
        rate = Decimal("0.20") if domestic and pilot else Decimal("0.15") if domestic else Decimal("0.10")
        total += fen(Decimal(amount) * rate)
    return min(total, cap)


def loan_expected(lpr: Decimal, rate: Decimal, periods) -> Decimal | None:
    """§5: eligible when rate <= LPR × 80%; per period min(principal, 10,000,000) × 2% × days / 360,
    at most the interest paid, rounded to the fen half-up; the total is the sum."""
    if rate > lpr * Decimal("0.8"):
        return None
    total = Decimal("0.00")
    for start, end, principal, paid in periods:
        days = (end - start).days
        amount = fen(min(Decimal(principal), Decimal("10000000")) * Decimal("0.02") * days / 360)
        total += min(amount, Decimal(paid))
    return total


def _candidates(org, kind=None):
    stmt = select(BenefitCandidate).where(BenefitCandidate.enterprise_id == org.id)
    if kind:
        stmt = stmt.where(BenefitCandidate.kind == kind)
    return db.session.scalars(stmt).all()


def _evidence_ids(candidate, condition):
    return [e["row_id"] for e in candidate.evidence if e["condition"] == condition]


def test_candidates_equal_the_independent_computation_with_their_evidence_rows(seeded):
    counts = match_candidates(seeded.officer, TODAY)
    assert counts == {"robot": 4, "loan": 2, "excluded": 1}

    expected_robot = {
        seeded.a.id: robot_expected([(True, "300000.00"), (False, "400000.00"), (True, "123456.78")], pilot=True),
        seeded.b.id: robot_expected([(True, "99999.99"), (False, "33333.33")], pilot=False),
        seeded.d.id: robot_expected([(False, "88888.88")], pilot=False),
        seeded.f.id: robot_expected([(True, "14000000.00")], pilot=False),
    }
    assert expected_robot[seeded.a.id] == Decimal("124691.36")  # 60,000 + 40,000 + 24,691.356 → .36
    assert expected_robot[seeded.b.id] == Decimal("18333.33")   # 14,999.9985 → 15,000.00 + 3,333.33
    assert expected_robot[seeded.f.id] == Decimal("2000000.00")  # 2,100,000 over the cap
    for org in (seeded.a, seeded.b, seeded.d, seeded.f):
        (candidate,) = _candidates(org, "robot")
        assert candidate.status == "open"
        assert candidate.amount == expected_robot[org.id], org.name
        invoices = db.session.scalars(select(BenefitInvoice.id).where(BenefitInvoice.uscc == org.uscc)
                                      .order_by(BenefitInvoice.invoice_date)).all()
        assert _evidence_ids(candidate, "invoice") == invoices
        assert candidate.working, "the working is kept"

    a_loan = loan_expected(Decimal("3.00"), Decimal("2.40"), [
        (date(2026, 1, 1), date(2026, 4, 1), "8000000.00", "48000.00"),
        (date(2026, 4, 1), date(2026, 5, 1), "12000000.00", "10000.00")])
    assert a_loan == Decimal("50000.00")  # 40,000.00 + 16,666.67 capped at 10,000 paid
    b_ineligible = loan_expected(Decimal("3.00"), Decimal("2.50"), [])
    b_loan = loan_expected(Decimal("3.10"), Decimal("2.45"), [
        (date(2026, 2, 1), date(2026, 3, 3), "1234567.89", "5000.00")])
    assert b_ineligible is None and b_loan == Decimal("2057.61")
    for org, amount, contract in ((seeded.a, a_loan, "WZ-2025-0001"), (seeded.b, b_loan, "WZ-2025-0003")):
        (candidate,) = _candidates(org, "loan")
        assert candidate.amount == amount
        lines = db.session.scalars(select(BenefitLoanLine.id).where(BenefitLoanLine.contract_no == contract)
                                   .order_by(BenefitLoanLine.period_start)).all()
        assert _evidence_ids(candidate, "interest_period") == lines
        assert _evidence_ids(candidate, "rate_ceiling") == lines[:1]


def test_a_blacklisted_enterprise_is_excluded_with_the_listing_and_hidden_from_it(seeded):
    match_candidates(seeded.officer, TODAY)
    (excluded,) = _candidates(seeded.c)
    assert excluded.status == "excluded"
    assert excluded.exclusion_reason["values"]["listed_by"] == "信用中国"
    assert excluded.exclusion_reason["row_number"] == 2
    assert not excluded.claims  # its invoice stays free for when the listing ends
    user = fresh_user("sme", seeded.c)
    with pytest.raises(Exception) as hidden:
        services.get_candidate(user.actor(), excluded.id)
    assert getattr(hidden.value, "status", None) == 404


def test_only_an_officer_or_the_system_runs_the_match(seeded):
    for role in ("sme", "auditor", "finance"):
        with pytest.raises(Forbidden):
            match_candidates(fresh_user(role, seeded.a if role == "sme" else None).actor(), TODAY)


def test_matching_again_makes_no_second_candidate(seeded):
    match_candidates(seeded.officer, TODAY)
    before = db.session.scalar(select(func.count()).select_from(BenefitCandidate))
    claims = db.session.scalar(select(func.count()).select_from(BenefitClaim))
    assert match_candidates(seeded.officer, TODAY) == {"robot": 0, "loan": 0, "excluded": 0}
    assert db.session.scalar(select(func.count()).select_from(BenefitCandidate)) == before
    assert db.session.scalar(select(func.count()).select_from(BenefitClaim)) == claims
    # A second import carrying an invoice already in a candidate (another file) makes nothing new either.
    text = INVOICE_HEAD + f"{seeded.a.uscc},330026113000010001,ER-x,埃夫特,是,2,300000.00,2026-05-10\n"
    services.import_source(seeded.officer, "robot_invoice", filename="again.csv", data=text.encode())
    assert match_candidates(seeded.officer, TODAY)["robot"] == 0


def test_decline_with_a_reason_and_never_again(seeded):
    match_candidates(seeded.officer, TODAY)
    (candidate,) = _candidates(seeded.b, "robot")
    user = fresh_user("sme", seeded.b)
    with pytest.raises(ValidationFailed):
        services.decline(user.actor(), candidate.id, "  ")
    services.decline(user.actor(), candidate.id, "已通过其他渠道申报")
    assert candidate.status == "declined" and candidate.decline_reason == "已通过其他渠道申报"
    with pytest.raises(TransitionNotAllowed):
        services.decline(user.actor(), candidate.id, "again")
    assert match_candidates(seeded.officer, TODAY)["robot"] == 0


def test_another_enterprise_gets_403(seeded):
    match_candidates(seeded.officer, TODAY)
    (candidate,) = _candidates(seeded.a, "robot")
    stranger = fresh_user("sme", seeded.b).actor()
    with pytest.raises(Forbidden):
        services.get_candidate(stranger, candidate.id)
    with pytest.raises(Forbidden):
        services.decline(stranger, candidate.id, "not mine")
    with pytest.raises(Forbidden):
        services.confirm(stranger, candidate.id, declaration=True, account_confirmed=True, uploads={}, max_bytes=10**6)
    with pytest.raises(Forbidden):
        services.decline(seeded.officer, candidate.id, "the bureau does not answer for the enterprise")


def test_confirm_creates_the_application_the_officer_reviews(seeded):
    match_candidates(seeded.officer, TODAY)
    (candidate,) = _candidates(seeded.a, "robot")
    user = fresh_user("sme", seeded.a)
    with pytest.raises(ValidationFailed):
        services.confirm(user.actor(), candidate.id, declaration=False, account_confirmed=True, uploads={},
                         max_bytes=10**6)
    uploads = {f"lines.{i}.invoice_file": Upload(io.BytesIO(PDF), f"invoice-{i}.pdf") for i in range(3)}
    services.confirm(user.actor(), candidate.id, declaration=True, account_confirmed=True, uploads=uploads,
                     max_bytes=10**6, today=TODAY)
    assert candidate.status == "confirmed" and candidate.payee_account == seeded.a.bank_account
    app = db.session.get(RobotApplication, candidate.application_id)
    assert app.enterprise_id == seeded.a.id and app.computed_subsidy == Decimal("124691.36")
    assert sorted(line.invoice_no for line in app.lines) == ["3300261130-00010001", "3300261130-00010002",
                                                            "3300261130-00010003"]
    if app.status == "draft":  # the checklist's other materials (licence, contract ...) come from the enterprise
        attach_required_materials(app)
        review.act(user.actor(), "robot", app.id, "submit", today=TODAY)
    assert app.status == "submitted"
    review.act(seeded.officer, "robot", app.id, "approve", today=TODAY)
    assert app.status == "approved" and app.approved_amount == Decimal("124691.36")


def test_confirm_a_loan_candidate_creates_the_loan_application(seeded):
    from voucher.subsidies.models import LoanApplication

    match_candidates(seeded.officer, TODAY)
    (candidate,) = _candidates(seeded.a, "loan")
    user = fresh_user("sme", seeded.a)
    with pytest.raises(ValidationFailed):  # the plan and the statement are the loan form's own required uploads
        services.confirm(user.actor(), candidate.id, declaration=True, account_confirmed=True, uploads={},
                         max_bytes=10**6, today=TODAY)
    uploads = {"plan_file": Upload(io.BytesIO(PDF), "plan.pdf"), "statement_file": Upload(io.BytesIO(PDF), "s.pdf")}
    services.confirm(user.actor(), candidate.id, declaration=True, account_confirmed=True, uploads=uploads,
                     max_bytes=10**6, today=TODAY)
    app = db.session.get(LoanApplication, candidate.application_id)
    assert app.computed_discount == Decimal("50000.00") and len(app.periods) == 2
    assert app.status in ("draft", "submitted")


def test_the_cli_and_the_job_run_the_match(app, seeded):
    from voucher.benefits.jobs import nightly_match

    out = app.test_cli_runner().invoke(args=["voucher", "match"]).output
    assert "4 robot, 2 loan candidate(s); 1 excluded" in out
    assert nightly_match() == {"robot": 0, "loan": 0, "excluded": 0}


def test_the_enterprise_is_notified_of_a_new_candidate_once(seeded):
    from voucher.notifications.models import Notification

    user = fresh_user("sme", seeded.a)
    excluded_user = fresh_user("sme", seeded.c)
    match_candidates(seeded.officer, TODAY)
    match_candidates(seeded.officer, TODAY)
    links = db.session.scalars(select(Notification.link).where(Notification.user_id == user.id)).all()
    assert sorted(links) == sorted(f"/benefits/candidates/{c.id}" for c in _candidates(seeded.a))
    assert not db.session.scalars(select(Notification).where(Notification.user_id == excluded_user.id)).all()


def test_what_an_application_already_claims_is_no_candidate(seeded):
    """The subsidies' claim-once keys: an invoice in a robot application, a loan's days in a live loan
    application (contract numbers compared normalised) make no candidate; the free days still do."""
    from voucher.subsidies.loans import LoanInput, PeriodInput, save_loan_application
    from voucher.subsidies.robots import RobotInput, RobotLineInput, save_robot_application

    user = fresh_user("sme", seeded.a)
    save_robot_application(user.actor(), RobotInput(seeded.programme.id, (RobotLineInput(
        "ER-0", "埃夫特", True, 2, Decimal("150000.00"), "3300261130-00010001", date(2026, 5, 10),
        Upload(io.BytesIO(PDF), "i.pdf")),)), max_bytes=10**6, today=TODAY)
    save_loan_application(user.actor(), LoanInput(
        seeded.programme.id, "温州银行", "wz–2025–0001", date(2025, 6, 1), Decimal("8000000.00"), Decimal("2.40"),
        date(2026, 1, 1), date(2026, 4, 1),
        (PeriodInput(date(2026, 1, 1), date(2026, 4, 1), Decimal("8000000.00"), Decimal("48000.00")),)),
        plan=Upload(io.BytesIO(PDF), "p.pdf"), statement=Upload(io.BytesIO(PDF), "s.pdf"), max_bytes=10**6,
        today=TODAY)
    match_candidates(seeded.officer, TODAY)
    (robot,) = _candidates(seeded.a, "robot")
    assert [e["values"]["invoice_no"] for e in robot.evidence if e["condition"] == "invoice"] == \
        ["3300261130-00010002", "3300261130-00010003"]
    assert robot.amount == robot_expected([(False, "400000.00"), (True, "123456.78")], pilot=True)
    (loan,) = _candidates(seeded.a, "loan")
    assert [e["values"]["period_start"] for e in loan.evidence if e["condition"] == "interest_period"] == \
        ["2026-04-01"]
    assert loan.amount == loan_expected(Decimal("3.00"), Decimal("2.40"), [
        (date(2026, 4, 1), date(2026, 5, 1), "12000000.00", "10000.00")])


def test_a_claim_taken_meanwhile_skips_only_its_candidate(seeded, monkeypatch):
    """Another match committed a claim after this one read the claims: the batch's insert fails on the
    UNIQUE claim key and is redone one by one — that enterprise's candidate is left out, every other one
    is made, with its audit event, as when nothing clashed."""
    from voucher.audit.models import AuditEvent
    from voucher.benefits import matching

    first = db.session.scalars(select(BenefitInvoice).where(BenefitInvoice.uscc == seeded.b.uscc)
                               .order_by(BenefitInvoice.invoice_date)).first()
    other = BenefitCandidate(key="another-match", kind="robot", status="open", enterprise_id=seeded.b.id,
                             programme_id=seeded.programme.id, district="lucheng", industry="clothing",
                             amount=Decimal("1.00"))
    other.claims = [BenefitClaim(claim_key=f"invoice:{first.invoice_key}")]
    db.session.add(other)
    db.session.flush()
    monkeypatch.setattr(matching, "_taken_claims", lambda: set())  # read before the other match committed
    events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert match_candidates(seeded.officer, TODAY) == {"robot": 3, "loan": 2, "excluded": 1}
    assert [c.key for c in _candidates(seeded.b, "robot")] == ["another-match"]
    assert {o.id for o in (seeded.a, seeded.d, seeded.f)} <= {
        c.enterprise_id for c in db.session.scalars(select(BenefitCandidate).where(BenefitCandidate.kind == "robot"))}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before + 6
