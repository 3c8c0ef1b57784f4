"""The recovery pages: the officer records a breach from the robot subsidy's page (evidence, a
confirmation), the order's page shows the working; finance records a partial repayment; the
enterprise sees its own order (in Chinese by default words), another enterprise gets 403; the list
searches and exports; every page × role from the access table."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest

from tests.factories import build_org, fresh_user
from tests.recovery.conftest import PDF, pay_robot
from voucher import access
from voucher.extensions import db
from voucher.recovery import services as recovery
from voucher.recovery.models import RecoveryOrder

D = Decimal
ST = "robot_application"


def _breach_form(**over):
    data = {"obligation": "robot_in_use", "breach_on": "2026-11-20", "reason": "Sold the robots.",
            "method": "pro_rata", "deadline_working_days": "15", "confirm": "y",
            "evidence": (io.BytesIO(PDF), "photo.pdf")}
    data.update(over)
    return data


def test_officer_records_a_breach_finance_records_a_repayment_the_enterprise_reads_it(world, login_as):
    app = pay_robot(world)
    client = login_as(world.officer)
    page = client.get(f"/subsidies/robots/{app.id}").get_data(as_text=True)
    assert f"/recovery/new/{ST}/{app.id}" in page and "2028-11-20" in page
    form = client.get(f"/recovery/new/{ST}/{app.id}").get_data(as_text=True)
    assert "¥100,000.00" in form
    refused = client.post(f"/recovery/new/{ST}/{app.id}", data=_breach_form(confirm="", evidence=None),
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and db.session.query(RecoveryOrder).count() == 0
    response = client.post(f"/recovery/new/{ST}/{app.id}", data=_breach_form(), content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    order = db.session.query(RecoveryOrder).one()
    detail = client.get(f"/recovery/{order.id}").get_data(as_text=True)
    assert "¥66,697.08" in detail and "100000.00 × 731 ÷ 1096 = 66697.08" in detail
    assert order.reference in client.get("/recovery/?q=" + order.reference.lower()).get_data(as_text=True)
    export = client.get("/recovery/?format=csv")
    assert export.status_code == 200 and order.reference in export.get_data(as_text=True)

    client = login_as(world.finance_a)
    too_much = client.post(f"/recovery/{order.id}/repay", data={
        "repay-amount": "70000.00", "repay-paid_on": "2026-11-20", "repay-bank_reference": "CR-9", "repay-confirm": "y"})
    assert too_much.status_code == 422 and "66,697.08" in too_much.get_data(as_text=True)
    done = client.post(f"/recovery/{order.id}/repay", data={
        "repay-amount": "1,000.00", "repay-paid_on": "2026-11-20", "repay-bank_reference": "CR-9", "repay-confirm": "y"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(RecoveryOrder, order.id).status == "partly_settled"
    ledger_page = client.get(f"/programmes/{world.programme.id}").get_data(as_text=True)
    assert "Recovered" in ledger_page  # the ledger names the recover entry

    sme = fresh_user("sme", app.enterprise)
    mine = login_as(sme).get("/recovery/").get_data(as_text=True)
    assert order.reference in mine
    page = login_as(sme).get(f"/recovery/{order.id}").get_data(as_text=True)
    assert "¥65,697.08" in page and "CR-9" in page
    zh = login_as(sme, lang="zh_Hans_CN").get(f"/recovery/{order.id}").get_data(as_text=True)
    assert "追回" in zh
    other = fresh_user("sme", build_org("enterprise"))
    assert login_as(other).get(f"/recovery/{order.id}").status_code == 403
    assert order.reference not in login_as(other).get("/recovery/").get_data(as_text=True)


ROLES = ("sme", "other_sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")


@pytest.mark.parametrize("method, path, action, ok", [
    ("GET", "/recovery/new/robot_application/{app}", "recovery.record", 200),
    ("GET", "/recovery/", "recovery.read", 200),
    ("GET", "/recovery/{order}", "recovery.read", 200),
    ("POST", "/recovery/{order}/repay", "recovery.settle", 422),  # nothing sent: refused, 422
    ("POST", "/recovery/{order}/cancel", "recovery.record", 422),  # no reason: refused, 422
])
def test_role_by_endpoint(world, login_as, client, method, path, action, ok):
    app = pay_robot(world)
    order = recovery.record_breach(world.officer.actor(), ST, app.id, obligation_code="robot_in_use",
                                   breach_on=recovery_today(), reason="Sold.", evidence=_upload(),
                                   method="whole", today=recovery_today())
    users = {"sme": fresh_user("sme", app.enterprise), "other_sme": fresh_user("sme", build_org("enterprise")),
             "provider": world.provider, "evaluator": fresh_user("evaluator"), "officer": world.officer,
             "finance": world.finance_a, "auditor": fresh_user("auditor"), "admin": fresh_user("admin")}
    roles = access.roles_for(action)
    own_only = "{order}" in path
    allowed = {r for r in ROLES if r.removeprefix("other_") in roles and not (own_only and r.startswith("other_"))}
    if own_only:
        allowed.discard("provider")  # a provider's user is not the debtor of a robot subsidy's order
    url = path.format(app=app.id, order=order.id)
    client.post("/logout")
    anon = client.open(url, method=method)
    assert anon.status_code in (302, 401, 403) and (anon.status_code != 302 or "/login" in anon.location)
    for role in ROLES:
        response = login_as(users[role]).open(url, method=method, data={})
        expected = ok if role in allowed else 403
        assert response.status_code == expected, (role, url, response.status_code)
    assert db.session.get(RecoveryOrder, order.id).status == "open"


def recovery_today():
    from datetime import date

    return date(2026, 11, 20)


def _upload():
    from tests.recovery.conftest import evidence

    return evidence()


@pytest.mark.parametrize("path", ["/recovery/new/trial_application/999999", f"/recovery/new/{ST}/999999",
                                  f"/recovery/new/{ST}/0", "/recovery/new/nonsense/1"])
def test_recording_a_breach_of_a_grant_that_does_not_exist_is_not_found(world, login_as, path):
    client = login_as(world.officer)
    assert client.get(path).status_code == 404
    assert client.post(path, data=_breach_form(), content_type="multipart/form-data").status_code == 404
    assert db.session.query(RecoveryOrder).count() == 0
