"""Every self-assessment page × every role, from the access table (``voucher/maturity/access.py``): the
roles the table allows get the page, the others 403; an enterprise's user gets 403 on another
enterprise's assessment; no login → the login page."""
from __future__ import annotations

import pytest

from tests.factories import build_org, fresh_user
from tests.maturity.conftest import answers_at
from voucher import access
from voucher.maturity import services

ROLES = ("sme", "other_sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")


def _allowed(action: str, own_only: bool = True) -> set[str]:
    roles = access.roles_for(action)
    return {r for r in ROLES if r.removeprefix("other_") in roles and not (own_only and r.startswith("other_"))}


@pytest.mark.parametrize("method, path, action, ok", [
    ("GET", "/maturity/", "maturity.take", 200),
    ("GET", "/maturity/take", "maturity.take", 200),
    ("POST", "/maturity/take", "maturity.take", 422),   # nothing answered: refused, 422
    ("GET", "/maturity/{a}", "maturity.read", 200),
    ("GET", "/maturity/overview", "maturity.overview", 200),
    ("GET", "/maturity/overview?format=csv", "maturity.overview", 200),
    ("GET", "/maturity/questionnaire", "maturity.questionnaire", 200),
    ("POST", "/maturity/questionnaire", "maturity.publish", 422),   # no content: refused, 422
])
def test_role_by_endpoint(db_conn, client, login, method, path, action, ok):
    sme = fresh_user("sme", build_org("enterprise"))
    users = {"sme": sme, "other_sme": fresh_user("sme", build_org("enterprise")), "provider": fresh_user("provider"),
             "evaluator": fresh_user("evaluator"), "officer": fresh_user("officer"), "finance": fresh_user("finance"),
             "auditor": fresh_user("auditor"), "admin": fresh_user("admin")}
    assessment = services.take_assessment(sme.actor(), answers_at(3))
    url = path.format(a=assessment.id)
    # The other enterprise may take its own assessment but never read this one.
    allowed = _allowed(action, own_only="{a}" in path)
    client.post("/logout")
    anon = client.open(url, method=method)
    assert anon.status_code in (302, 401, 403) and (anon.status_code != 302 or "/login" in anon.location)
    for role in ROLES:
        response = login(users[role]).open(url, method=method, data={})
        expected = ok if role in allowed else 403
        assert response.status_code == expected, (role, url, response.status_code)
    assert services.current_questionnaire().version == 1
