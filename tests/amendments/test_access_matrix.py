"""Every amendment page × every role, from the access table (``voucher/amendments/access.py``): the roles
the table allows get the page (or the business rule's answer), the others 403, an enterprise's user
403 on another enterprise's grant, no login → the login page.  A repeated POST never changes state
for a refused role."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import build_org, fresh_user
from voucher import access
from voucher.amendments import services as amendments
from voucher.amendments.models import GrantAmendment
from voucher.applications.services import local_today
from voucher.extensions import db

ROLES = ("sme", "other_sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")


def _users(world, trial):
    return {"sme": world.smes[trial.id], "other_sme": fresh_user("sme", build_org("enterprise")),
            "provider": world.provider, "evaluator": fresh_user("evaluator"), "officer": world.officer,
            "finance": world.finance_a, "auditor": fresh_user("auditor"), "admin": fresh_user("admin")}


def _allowed(action: str, own_only: bool = True) -> set[str]:
    roles = access.roles_for(action)
    return {r for r in ROLES if r.removeprefix("other_") in roles and not (own_only and r.startswith("other_"))}


@pytest.mark.parametrize("method, path, action, ok", [
    ("GET", "/amendments/new/trial_application/{app}", "amendments.request", 200),
    ("GET", "/amendments/", "amendments.queue", 200),
    ("GET", "/amendments/{am}", "amendments.read", 200),
    ("POST", "/amendments/{am}/approve", "amendments.decide", 422),  # no confirmation ticked: refused, 422
    ("POST", "/amendments/{am}/refuse", "amendments.decide", 422),  # no reason: refused, 422
])
def test_role_by_endpoint(world, login_as, client, method, path, action, ok):
    trial = world.trial("200000.00")
    users = _users(world, trial)
    a = amendments.request_amendment(users["sme"].actor(), "trial_application", trial.application_id,
                                     {"requested_amount": Decimal("150000.00")}, "Smaller.",
                                     local_today())
    url = path.format(app=trial.application_id, am=a.id)
    allowed = _allowed(action)
    client.post("/logout")
    anon = client.open(url, method=method)
    assert anon.status_code in (302, 401, 403) and (anon.status_code != 302 or "/login" in anon.location)
    for role in ROLES:
        response = login_as(users[role]).open(url, method=method, data={})
        expected = ok if role in allowed else 403
        assert response.status_code == expected, (role, url, response.status_code)
    assert db.session.get(GrantAmendment, a.id).status == "requested"
