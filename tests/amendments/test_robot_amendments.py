"""A replaced invoice on an approved robot purchase subsidy: the line rules and "an invoice is claimed
once" apply, the subsidy is recomputed by the same calc function, the ledger moves by the difference."""
from __future__ import annotations

import io
import secrets
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import fresh_user
from voucher.amendments import services as amendments
from voucher.calc import RobotLine, invoice_key, robot_subsidy
from voucher.errors import Conflict, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.subsidies import services as subsidies
from voucher.subsidies.common import Upload
from voucher.subsidies.models import RobotLineItem

D = Decimal
ST = "robot_application"
TODAY = date(2026, 11, 20)
NEW_INVOICE = "24332000000012345678"  # a fully digital invoice (数电票) number
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _pdf():
    return Upload(io.BytesIO(PDF), "invoice.pdf")


def _invoice() -> str:
    return f"2433200000{secrets.randbelow(10 ** 10):010d}"


def _lines():
    return [RobotLine("ER20", "埃斯顿", True, 2, D("150000.00"), _invoice(), date(2026, 3, 1)),
            RobotLine("KR16", "KUKA", False, 1, D("400000.00"), _invoice(), date(2026, 3, 2))]


def _robot_with_lines(world):
    """World.robot() (100,000.00 reserved) with its lines stored as the form stores them."""
    app = world.robot()
    _loan, params = subsidies.params_for(world.programme)
    lines = _lines()
    result = robot_subsidy(lines, True, D("0"), params)
    assert result.total_subsidy == app.approved_amount == D("100000.00")
    for i, (line, r) in enumerate(zip(lines, result.lines), start=1):
        db.session.add(RobotLineItem(application_id=app.id, position=i, model=line.model,
                                     manufacturer=line.manufacturer, domestic=line.domestic, quantity=line.quantity,
                                     unit_price_excl_vat=line.unit_price_excl_vat, invoice_no=line.invoice_no,
                                     invoice_key=invoice_key(line.invoice_no), invoice_date=line.invoice_date,
                                     rate=r.rate, eligible_cost=r.eligible_cost, subsidy=r.subsidy, granted=r.granted))
    db.session.flush()
    db.session.refresh(app)
    return app, fresh_user("sme", app.enterprise), params, lines


def test_a_cheaper_replaced_invoice_lowers_the_subsidy_and_releases_the_difference(world):
    app, sme, params, lines = _robot_with_lines(world)
    before = ledger.balances(world.programme)
    a = amendments.request_amendment(sme.actor(), ST, app.id, {"line": 2, "invoice_no": NEW_INVOICE,
                                                               "unit_price_excl_vat": D("300000.00"),
                                                               "invoice_file": _pdf()},
                                     "The supplier re-issued the invoice at the agreed discount.", TODAY)
    new_lines = [lines[0], RobotLine("KR16", "KUKA", False, 1, D("300000.00"), NEW_INVOICE, date(2026, 3, 2))]
    expected = robot_subsidy(new_lines, True, D("0"), params).total_subsidy
    assert expected < D("100000.00")
    assert a.changes["approved_amount"] == {"before": "100000.00", "after": str(expected)}
    amendments.approve(world.officer.actor(), a.id)
    assert app.approved_amount == app.computed_subsidy == expected
    assert ledger.source_outstanding(ST, app.id) == expected
    assert ledger.balances(world.programme).available == before.available + (D("100000.00") - expected)
    assert app.lines[1].invoice_no == NEW_INVOICE and app.lines[1].invoice_key == invoice_key(NEW_INVOICE)
    assert app.lines[1].invoice_file_id == int(a.changes["invoice_file"]["after"])
    assert a.ledger_difference == expected - D("100000.00")


def test_a_replaced_invoice_needs_its_file_checked_by_content(world):
    app, sme, _params, _lines = _robot_with_lines(world)
    for upload, words in ((None, "Attach the file"), (Upload(io.BytesIO(b"=1+1,hello"), "invoice.pdf"), "accepted"),
                          (Upload(io.BytesIO(b""), "invoice.pdf"), "empty")):
        with pytest.raises(ValidationFailed) as err:
            amendments.request_amendment(sme.actor(), ST, app.id, {"line": 1, "invoice_no": NEW_INVOICE,
                                                                   "invoice_file": upload}, "Replaced.", TODAY)
        assert err.value.field == "invoice_file" and words in err.value.render()
    # the price alone (same invoice number) needs no new file
    a = amendments.request_amendment(sme.actor(), ST, app.id, {"line": 1, "unit_price_excl_vat": D("140000.00")},
                                     "Price corrected.", TODAY)
    assert "invoice_file" not in a.changes


@pytest.mark.parametrize("asked, field", [
    ({"line": 3, "invoice_no": NEW_INVOICE}, "line"),
    ({"line": 1, "invoice_no": "=1+1"}, "invoice_no"),
    ({"line": 1, "invoice_no": NEW_INVOICE, "invoice_date": date(2026, 12, 1)}, "invoice_date"),
    ({"line": 1, "invoice_no": NEW_INVOICE, "unit_price_excl_vat": D("1.001")}, "unit_price_excl_vat"),
    ({"line": 1, "invoice_no": NEW_INVOICE, "unit_price_excl_vat": D("-1")}, "unit_price_excl_vat"),
    ({"line": 1, "invoice_no": NEW_INVOICE, "unit_price_excl_vat": D("1e20")}, "unit_price_excl_vat"),
])
def test_bad_replacements_are_refused_naming_the_field(world, asked, field):
    app, sme, _params, _lines = _robot_with_lines(world)
    with pytest.raises(ValidationFailed) as err:
        amendments.request_amendment(sme.actor(), ST, app.id, asked, "Replaced.", TODAY)
    assert field in err.value.fields


def test_an_invoice_claimed_elsewhere_is_refused(world):
    app, sme, _params, _lines = _robot_with_lines(world)
    other, other_sme, _p, other_lines = _robot_with_lines(world)
    with pytest.raises(ValidationFailed) as err:
        amendments.request_amendment(sme.actor(), ST, app.id, {"line": 1, "invoice_no": other_lines[0].invoice_no},
                                     "Replaced.", TODAY)
    assert "already claimed" in err.value.render()


def test_no_amendment_while_a_payment_is_under_way(world):
    app, sme, _params, _lines = _robot_with_lines(world)
    world.announce()
    d = world.prepare(ST, app.id, "full")
    with pytest.raises(Conflict) as err:
        amendments.request_amendment(sme.actor(), ST, app.id, {"line": 1, "invoice_no": NEW_INVOICE},
                                     "Replaced.", TODAY)
    assert d.reference in err.value.render()


def test_the_robot_page_offers_the_change_and_the_form_names_the_bad_field(world, login_as):
    app, sme, _params, _lines = _robot_with_lines(world)
    client = login_as(sme)
    assert f"/amendments/new/{ST}/{app.id}" in client.get(f"/subsidies/robots/{app.id}").get_data(as_text=True)
    bad = client.post(f"/amendments/new/{ST}/{app.id}", data={"line": "1", "invoice_no": "=1+1", "reason": "x"})
    assert bad.status_code == 422 and "not a VAT invoice number" in bad.get_data(as_text=True)
    ok = client.post(f"/amendments/new/{ST}/{app.id}", data={"line": "2", "invoice_no": NEW_INVOICE,
                                                             "unit_price_excl_vat": "300,000", "reason": "Re-issued.",
                                                             "invoice_file": (io.BytesIO(PDF), "invoice.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 303
    detail = login_as(world.officer).get(ok.location).get_data(as_text=True)
    assert NEW_INVOICE in detail and "¥300,000.00" in detail and "¥400,000.00" in detail
