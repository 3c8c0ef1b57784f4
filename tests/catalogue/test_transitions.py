"""Every catalogue transition, allowed and forbidden per role (service and HTTP), and the
provider's own-organisation rule."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from voucher.audit.models import AuditEvent
from voucher.catalogue import queries, services
from voucher.catalogue.models import Solution
from voucher.errors import Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db

ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")
ELIGIBLE = [Decimal("90")] * 3


def _rubric(decision):
    return services.ScreeningInput(maturity=80, references_score=75, price_reasonableness=70, service_capability=85,
                                   data_security=90, decision=decision, reasons="Checked references and a site visit.")


# name, source state, the one role allowed, target state, audited action, service call
TRANSITIONS = [
    ("submit", "draft", "provider", "submitted", "submit", lambda a, sid: services.submit(a, sid)),
    ("start_screening", "submitted", "evaluator", "screening", "start_screening",
     lambda a, sid: services.start_screening(a, sid)),
    ("screen_list", "screening", "evaluator", "listed", "list", lambda a, sid: services.screen(a, sid, _rubric("list"))),
    ("screen_reject", "screening", "evaluator", "rejected", "reject",
     lambda a, sid: services.screen(a, sid, _rubric("reject"))),
    ("recommend", "listed", "officer", "recommended", "recommend",
     lambda a, sid: services.promote_to_recommended(a, sid, stats_provider=lambda _id: ELIGIBLE)),
    ("delist_listed", "listed", "officer", "delisted", "delist", lambda a, sid: services.delist(a, sid, "Complaints")),
    ("delist_recommended", "recommended", "officer", "delisted", "delist",
     lambda a, sid: services.delist(a, sid, "Complaints")),
    ("revise", "rejected", "provider", "draft", "revise", lambda a, sid: services.revise(a, sid)),
    ("relist", "delisted", "officer", "listed", "relist", lambda a, sid: services.relist(a, sid, "Resolved")),
]


def _setup(make_user, make_org, make_solution, role, source):
    user = make_user(role)
    provider = user.organisation if role == "provider" else make_org("provider")
    return user, make_solution(provider, status=source)


def _events(solution_id, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "solution",
                                                       AuditEvent.object_id == str(solution_id),
                                                       AuditEvent.action == f"solution.{action}")).all()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,source,allowed,target,action,call", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_transition_allowed_only_to_its_role(ctx, make_user, make_org, make_solution, name, source, allowed,
                                             target, action, call, role):
    user, solution = _setup(make_user, make_org, make_solution, role, source)
    if role == allowed:
        call(user.actor(), solution.id)
        assert solution.status == target
        events = _events(solution.id, action)
        assert len(events) == 1
        assert events[0].before == {"status": source} and events[0].after["status"] == target
        assert events[0].actor_id == user.id
    else:
        with pytest.raises(Forbidden):
            call(user.actor(), solution.id)
        assert solution.status == source
        assert _events(solution.id, action) == []


@pytest.mark.parametrize("name,source,allowed,target,action,call", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_provider_of_another_organisation_is_forbidden_every_transition(ctx, make_user, make_org, make_solution, name,
                                                                        source, allowed, target, action, call):
    other_provider = make_user("provider")
    solution = make_solution(make_org("provider"), status=source)
    with pytest.raises(Forbidden):
        call(other_provider.actor(), solution.id)
    assert solution.status == source


@pytest.mark.parametrize("name,source,allowed,target,action,call", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_transition_from_a_wrong_state_is_refused_without_change(ctx, make_user, make_org, make_solution, name,
                                                                 source, allowed, target, action, call):
    user = make_user(allowed)
    provider = user.organisation if allowed == "provider" else make_org("provider")
    wrong = "delisted" if source != "delisted" else "draft"
    solution = make_solution(provider, status=wrong)
    with pytest.raises(TransitionNotAllowed):
        call(user.actor(), solution.id)
    assert solution.status == wrong


def test_delist_and_relist_require_a_reason(ctx, make_user, make_org, make_solution):
    officer = make_user("officer")
    solution = make_solution(make_org("provider"), status="listed")
    with pytest.raises(ValidationFailed) as err:
        services.delist(officer.actor(), solution.id, "   ")
    assert "reason" in err.value.fields
    assert solution.status == "listed"
    services.delist(officer.actor(), solution.id, "Provider stopped the service")
    with pytest.raises(ValidationFailed):
        services.relist(officer.actor(), solution.id, "")
    assert solution.status == "delisted"
    assert _events(solution.id, "delist")[0].reason == "Provider stopped the service"


# --- the same table over HTTP: allowed roles succeed, every other role gets 403 ----------------

def _rubric_form(decision):
    return {"maturity": "80", "references_score": "75", "price_reasonableness": "70", "service_capability": "85",
            "data_security": "90", "decision": decision, "reasons": "Checked references and a site visit."}


HTTP = {
    "submit": ("/catalogue/mine/%d/submit", {}),
    "start_screening": ("/catalogue/screening/%d/start", {}),
    "screen_list": ("/catalogue/screening/%d", _rubric_form("list")),
    "screen_reject": ("/catalogue/screening/%d", _rubric_form("reject")),
    "recommend": ("/catalogue/solutions/%d/recommend", {}),
    "delist_listed": ("/catalogue/solutions/%d/delist", {"reason": "Complaints"}),
    "delist_recommended": ("/catalogue/solutions/%d/delist", {"reason": "Complaints"}),
    "revise": ("/catalogue/mine/%d/revise", {}),
    "relist": ("/catalogue/solutions/%d/relist", {"reason": "Resolved"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,source,allowed,target,action,call", TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_transition_over_http_allowed_only_to_its_role(client, login, make_user, make_org, make_solution,
                                                       monkeypatch, name, source, allowed, target, action, call, role):
    monkeypatch.setattr(queries, "passed_evaluation_scores", lambda _id: ELIGIBLE)
    user, solution = _setup(make_user, make_org, make_solution, role, source)
    login(user)
    path, data = HTTP[name]
    response = client.post(path % solution.id, data=data)
    db.session.expire_all()
    status = db.session.get(Solution, solution.id).status
    if role == allowed:
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        assert status == target
    else:
        assert response.status_code == 403
        assert status == source


@pytest.mark.parametrize("name", ["submit", "revise"])
def test_provider_of_another_organisation_gets_403_over_http(client, login, make_user, make_org, make_solution, name):
    source = {"submit": "draft", "revise": "rejected"}[name]
    solution = make_solution(make_org("provider"), status=source)
    login(make_user("provider"))
    path, data = HTTP[name]
    assert client.post(path % solution.id, data=data).status_code == 403
    db.session.expire_all()
    assert db.session.get(Solution, solution.id).status == source


def test_wrong_state_over_http_is_409(client, login, make_user, make_solution):
    provider = make_user("provider")
    solution = make_solution(provider.organisation, status="listed")
    login(provider)
    response = client.post(f"/catalogue/mine/{solution.id}/submit")
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Solution, solution.id).status == "listed"
