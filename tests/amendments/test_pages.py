"""The amendment pages: the SME asks on its grant's page, the officer decides with before and after side by
side and a confirmation; bad input gets a field message naming the limit; everyone else 403; the
application page shows the original decision and the amendment ("amended on … from X to Y")."""
from __future__ import annotations

from decimal import Decimal

from tests.factories import build_org, fresh_user
from voucher.amendments.models import GrantAmendment
from voucher.extensions import db
from voucher.programmes import services as ledger

D = Decimal
ST = "trial_application"


def _new_url(trial):
    return f"/amendments/new/{ST}/{trial.application_id}"


def test_the_sme_asks_the_officer_approves_and_the_page_shows_the_change(world, login_as):
    trial = world.trial("200000.00")
    sme = world.smes[trial.id]
    client = login_as(sme)
    page = client.get(f"/applications/{trial.application_id}").get_data(as_text=True)
    assert _new_url(trial) in page
    response = client.post(_new_url(trial), data={"requested_amount": "150,000.50", "reason": "=1+1"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    a = db.session.query(GrantAmendment).one()
    assert a.changes["requested_amount"] == {"before": "200000.00", "after": "150000.50"}
    client = login_as(world.officer)
    queue = client.get("/amendments/?q=" + a.application_number.lower()).get_data(as_text=True)
    assert a.application_number in queue and "¥150,000.50" in queue
    detail = client.get(f"/amendments/{a.id}").get_data(as_text=True)
    assert "¥200,000.00" in detail and "¥150,000.50" in detail and "=1+1" in detail
    # no confirmation ticked: refused, nothing moves
    response = client.post(f"/amendments/{a.id}/approve", data={"approve-comment": "ok"})
    assert response.status_code == 422 and "Tick the box" in response.get_data(as_text=True)
    assert ledger.source_outstanding(ST, trial.application_id) == D("200000.00")
    response = client.post(f"/amendments/{a.id}/approve", data={"approve-confirm": "y"})
    assert response.status_code == 303
    assert ledger.source_outstanding(ST, trial.application_id) == D("150000.50")
    again = client.post(f"/amendments/{a.id}/approve", data={"approve-confirm": "y"})  # a repeated click
    assert again.status_code == 422 and "already decided" in again.get_data(as_text=True)
    client = login_as(sme)
    page = client.get(f"/applications/{trial.application_id}").get_data(as_text=True)
    assert "Amended on" in page and "¥200,000.00" in page and "¥150,000.50" in page
    zh = login_as(sme, lang="zh_Hans_CN").get(f"/applications/{trial.application_id}").get_data(as_text=True)
    assert "变更" in zh


def test_bad_input_gets_a_message_on_its_field(world, login_as):
    trial = world.trial("200000.00")
    client = login_as(world.smes[trial.id])
    for raw in ("99999999999999999", "1.005", "-5", "abc"):
        response = client.post(_new_url(trial), data={"requested_amount": raw, "reason": "Smaller line."})
        assert response.status_code == 422, raw
        assert "invalid-feedback" in response.get_data(as_text=True), raw
    response = client.post(_new_url(trial), data={"requested_amount": "250000.01", "reason": "Bigger."})
    assert response.status_code == 422 and "trial price" in response.get_data(as_text=True)
    assert db.session.query(GrantAmendment).count() == 0


def test_everyone_else_is_refused(world, login_as):
    trial = world.trial("200000.00")
    stranger = fresh_user("sme", build_org("enterprise"))
    for who in (stranger, world.provider, world.finance_a, fresh_user("auditor"), world.officer):
        response = login_as(who).post(_new_url(trial), data={"requested_amount": "100000", "reason": "x"})
        assert response.status_code == 403, who.role
    client = login_as(world.smes[trial.id])
    client.post(_new_url(trial), data={"requested_amount": "150000", "reason": "Smaller."})
    a = db.session.query(GrantAmendment).one()
    for who in (world.smes[trial.id], world.provider, world.finance_a, fresh_user("auditor")):
        response = login_as(who).post(f"/amendments/{a.id}/approve", data={"approve-confirm": "y"})
        assert response.status_code == 403, who.role
    for who in (world.smes[trial.id], world.provider, world.finance_a, fresh_user("auditor"), stranger):
        assert login_as(who).get("/amendments/").status_code == 403, who.role
    assert login_as(stranger).get(f"/amendments/{a.id}").status_code == 403
    assert a.status == "requested"


def test_a_grant_that_cannot_change_offers_no_form_and_says_why(world, login_as):
    """With a payment of the grant under way the page has no "Request a change" and the form page says why
    instead of showing a form that would be refused after it is filled in."""
    trial = world.kick_off(world.trial("200000.00"))
    client = login_as(world.smes[trial.id])
    assert _new_url(trial) in client.get(f"/applications/{trial.application_id}").get_data(as_text=True)
    world.announce()
    d = world.approved(ST, trial.application_id, "advance")
    page = client.get(f"/applications/{trial.application_id}").get_data(as_text=True)
    assert _new_url(trial) not in page
    form = client.get(_new_url(trial)).get_data(as_text=True)
    assert 'id="amendment-refused"' in form and d.reference in form and 'name="reason"' not in form
    response = client.post(_new_url(trial), data={"requested_amount": "150000.00", "reason": "Smaller."})
    assert response.status_code == 422 and d.reference in response.get_data(as_text=True)
    assert db.session.query(GrantAmendment).count() == 0
