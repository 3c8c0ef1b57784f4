"""The open signals on the officer's review page of a loan and on finance's approval page of its
disbursement (the panel), never on the enterprise's own page."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from tests.factories import fresh_user
from tests.payments.conftest import login_as, world  # noqa: F401 (fixtures)
from voucher.extensions import db
from voucher.risk import services
from voucher.risk.models import RiskSignal


def test_a_duplicate_contract_shows_on_the_review_and_approval_pages(world, login_as):  # noqa: F811
    first, second = world.loan(), world.loan()
    second.contract_no = first.contract_no.lower()   # another spelling of the same loan contract
    db.session.flush()
    services.scan()
    [signal] = db.session.scalars(select(RiskSignal).where(RiskSignal.kind == "duplicate_contract")).all()
    assert {signal.org_a_id, signal.org_b_id} == {first.enterprise_id, second.enterprise_id}
    world.announce()
    d = world.prepare("loan_application", second.id, "full")
    client = login_as(world.officer)
    detail = url_for("subsidies.loan_detail", application_id=second.id)
    page = client.get(detail).get_data(as_text=True)
    assert "data-risk-panel" in page and first.number in page
    client = login_as(world.finance_b)
    page = client.get(f"/payments/disbursements/{d.id}/decide").get_data(as_text=True)
    assert "data-risk-panel" in page and "Contract seen elsewhere" in page and first.number in page
    own = login_as(fresh_user("sme", second.enterprise)).get(detail)
    assert own.status_code == 200 and "data-risk-panel" not in own.get_data(as_text=True)
