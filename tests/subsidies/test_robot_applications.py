"""Robot purchase-subsidy applications: invoices claimed once system-wide (naming the line), the
per-enterprise cap applied and shown, review and the ledger path."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.subsidies.conftest import EN, count, fresh, robot_form, robot_line
from voucher.audit.services import Actor
from voucher.documents.models import StoredFile
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry
from voucher.subsidies.models import RobotApplication, RobotLineItem

SYSTEM = Actor(user_id=None, role="officer", organisation_id=None, label="test")


def counts():
    return count(RobotApplication), count(RobotLineItem), count(StoredFile)


def post_new(client, data):
    return client.post("/subsidies/robots/new", data=data, headers=EN, content_type="multipart/form-data")


def create(client, programme, *lines):
    response = post_new(client, robot_form(programme, *lines))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_worked_example_as_an_application(client, sme, programme, login):
    login(sme)
    app_id = create(client, programme, robot_line(0, invoice="3300261109-00000101"),
                    robot_line(1, model="KR10", manufacturer="KUKA", domestic=False, quantity="1", price="400000.00"))
    app = fresh(RobotApplication, app_id)
    assert app.pilot_industry is True  # pumps and valves is a pilot industry of the programme
    assert app.computed_subsidy == Decimal("100000.00") and not app.cap_applied
    assert [(x.rate, x.subsidy) for x in app.lines] == [(Decimal("20.00"), Decimal("60000.00")),
                                                        (Decimal("10.00"), Decimal("40000.00"))]
    assert all(x.invoice_file_id for x in app.lines)
    page = client.get(f"/subsidies/robots/{app_id}", headers=EN).get_data(as_text=True)
    assert 'data-figure="total_subsidy" data-value="100000.00"' in page
    assert "Line 1: cost = 2 × 150000.00 = 300000.00; subsidy = 300000.00 × 20% = 60000.00" in page


def test_not_a_pilot_industry_gets_the_domestic_rate(client, other_sme, programme, login):
    login(other_sme)  # clothing is not among the programme's pilot industries
    app = fresh(RobotApplication, create(client, programme, robot_line(0)))
    assert app.pilot_industry is False and app.lines[0].rate == Decimal("15.00")


def test_an_invoice_claimed_in_another_application_is_refused_naming_the_line(client, sme, other_sme, programme, login):
    login(other_sme)
    create(client, programme, robot_line(0, invoice="330026110900420042"))
    login(sme)
    before = counts()
    response = post_new(client, robot_form(programme, robot_line(0), robot_line(1, invoice=" 3300261109 0042 0042 ")))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Line 2: invoice 3300261109 0042 0042 is already claimed in another application." in page
    assert counts() == before


def test_an_invoice_claimed_in_own_earlier_application_names_it(client, sme, programme, login):
    login(sme)
    first = create(client, programme, robot_line(0, invoice="330026110900000007"))
    response = post_new(client, robot_form(programme, robot_line(0, invoice="330026110900000007")))
    assert response.status_code == 422
    number = db.session.get(RobotApplication, first).number
    assert f"Line 1: invoice 330026110900000007 is already claimed in your application no. {number}." in response.get_data(as_text=True)


def test_the_same_invoice_twice_in_one_application_is_refused_naming_the_line(client, sme, programme, login):
    login(sme)
    before = counts()
    response = post_new(client, robot_form(programme, robot_line(0, invoice="12345678901200000001"), robot_line(1, invoice="123456789012-00000001")))
    assert response.status_code == 422
    assert "Line 2 repeats the invoice number of line 1" in response.get_data(as_text=True)
    assert counts() == before


def test_the_invoice_key_is_unique_in_the_database(sme, programme, ctx):
    from voucher.calc import invoice_key

    apps = []
    for _ in range(2):
        app = RobotApplication(programme_id=programme.id, enterprise_id=sme.organisation_id, industry="pumps_valves",
                               already_granted=Decimal(0), uncapped_total=Decimal(1), computed_subsidy=Decimal(1))
        db.session.add(app)
        apps.append(app)
    db.session.flush()
    line = dict(position=0, model="M", manufacturer="X", domestic=True, quantity=1, unit_price_excl_vat=Decimal("10.00"),
                invoice_no="3300261109-00000001", invoice_key=invoice_key(" 3300261109 00000001 "), invoice_date=programme.opens_on,
                rate=Decimal("15.00"), eligible_cost=Decimal("10.00"), subsidy=Decimal("1.50"), granted=Decimal("1.50"))
    db.session.add(RobotLineItem(application_id=apps[0].id, **line))
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(RobotLineItem(application_id=apps[1].id, **{**line, "invoice_no": "330026110900000001"}))
            db.session.flush()


def test_the_enterprise_cap_is_applied_and_shown(client, sme, programme, login, ctx):
    # 1,950,000 of the 2,000,000 cap is already reserved for the enterprise's robot subsidies.
    ledger.reserve(SYSTEM, programme.id, funding_kind="robot_subsidy", amount=Decimal("1950000.00"),
                   enterprise_id=sme.organisation_id, source_type="robot_application", source_id=999999)
    login(sme)
    form = client.get("/subsidies/robots/new", headers=EN).get_data(as_text=True)
    assert 'data-figure="cap_remaining" data-value="50000.00"' in form
    app_id = create(client, programme, robot_line(0))  # 2 × 150,000 × 20% = 60,000
    app = fresh(RobotApplication, app_id)
    assert app.uncapped_total == Decimal("60000.00")
    assert app.computed_subsidy == Decimal("50000.00") and app.cap_applied
    assert app.already_granted == Decimal("1950000.00")
    page = client.get(f"/subsidies/robots/{app_id}", headers=EN).get_data(as_text=True)
    assert 'data-figure="cap_applied" data-value="true"' in page
    assert "the lines&#39; ¥60,000.00 is cut to ¥50,000.00" in page or "the lines' ¥60,000.00 is cut to ¥50,000.00" in page
    assert "granted 50000.00 of 60000.00 (reduced by 10000.00)" in page


def test_approval_reserves_the_subsidy_for_the_enterprise(client, sme, officer, programme, login):
    login(sme)
    app_id = create(client, programme, robot_line(0))
    assert client.post(f"/subsidies/robots/{app_id}/submit").status_code == 302
    login(officer)
    assert client.post(f"/subsidies/robots/{app_id}/approve", headers=EN).status_code == 302
    entry = db.session.scalar(select(FundLedgerEntry).where(FundLedgerEntry.source_type == "robot_application",
                                                            FundLedgerEntry.source_id == app_id))
    assert (entry.funding_kind, entry.amount, entry.enterprise_id, entry.provider_id) == (
        "robot_subsidy", Decimal("60000.00"), sme.organisation_id, None)
    assert entry.enterprise_cap == programme.robot_enterprise_cap
    assert fresh(RobotApplication, app_id).status == "approved"


def test_approval_is_cut_to_what_remains_of_the_cap_since_computed(client, sme, officer, programme, login, ctx):
    login(sme)
    app_id = create(client, programme, robot_line(0))  # 60,000 computed with nothing committed yet
    assert client.post(f"/subsidies/robots/{app_id}/submit").status_code == 302
    ledger.reserve(SYSTEM, programme.id, funding_kind="robot_subsidy", amount=Decimal("1975000.00"),
                   enterprise_id=sme.organisation_id, source_type="robot_application", source_id=999998)
    login(officer)
    page = client.get(f"/subsidies/robots/{app_id}", headers=EN).get_data(as_text=True)
    assert 'data-figure="approval_amount" data-value="25000.00"' in page
    assert client.post(f"/subsidies/robots/{app_id}/approve", headers=EN).status_code == 302
    assert fresh(RobotApplication, app_id).approved_amount == Decimal("25000.00")
    assert ledger.enterprise_committed(programme.id, sme.organisation_id, "robot_subsidy") == Decimal("2000000.00")


def test_approval_refused_when_the_cap_is_used_up(client, sme, officer, programme, login, ctx):
    login(sme)
    app_id = create(client, programme, robot_line(0))
    client.post(f"/subsidies/robots/{app_id}/submit")
    ledger.reserve(SYSTEM, programme.id, funding_kind="robot_subsidy", amount=Decimal("2000000.00"),
                   enterprise_id=sme.organisation_id, source_type="robot_application", source_id=999997)
    login(officer)
    response = client.post(f"/subsidies/robots/{app_id}/approve", headers=EN)
    assert response.status_code == 422
    assert "cap of ¥2,000,000.00 in this programme is used up" in response.get_data(as_text=True)
    assert fresh(RobotApplication, app_id).status == "submitted"


def test_withdrawing_gives_the_invoices_back(client, sme, programme, login):
    login(sme)
    app_id = create(client, programme, robot_line(0, invoice="330026110900000021"))
    assert client.post(f"/subsidies/robots/{app_id}/withdraw").status_code == 302
    assert fresh(RobotApplication, app_id).lines[0].invoice_key is None
    create(client, programme, robot_line(0, invoice="330026110900000021"))


def test_bad_lines_get_a_message_per_field_and_nothing_is_saved(client, sme, programme, login):
    login(sme)
    before = counts()
    bad = robot_line(0, quantity="0", price="12.345", invoice_date="2026-02-30")
    bad.update(robot_line(1, model="", manufacturer="", with_file=False))
    response = post_new(client, robot_form(programme, bad))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Must be at least 1." in page
    assert "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)." in page
    assert "Enter a date as YYYY-MM-DD." in page
    assert "Enter the robot model." in page
    assert counts() == before
    # A line without its invoice scan, or with a file that is not a PDF/JPEG/PNG.
    response = post_new(client, robot_form(programme, robot_line(0, with_file=False)))
    assert response.status_code == 422
    assert "Attach the file (PDF, OFD, JPEG, PNG)." in response.get_data(as_text=True)
    assert counts() == before


def test_edit_keeps_invoice_files_of_unchanged_invoices(client, sme, officer, programme, login):
    login(sme)
    app_id = create(client, programme, robot_line(0, invoice="330026110900000031"))
    file_id = fresh(RobotApplication, app_id).lines[0].invoice_file_id
    page = client.get(f"/subsidies/robots/{app_id}/edit", headers=EN).get_data(as_text=True)
    assert 'value="330026110900000031"' in page
    data = robot_form(programme, robot_line(0, invoice="330026110900000031", quantity="3", with_file=False))
    response = client.post(f"/subsidies/robots/{app_id}/edit", data=data, headers=EN, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    app = fresh(RobotApplication, app_id)
    assert app.computed_subsidy == Decimal("90000.00") and app.lines[0].invoice_file_id == file_id
