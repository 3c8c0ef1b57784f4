"""Every catalogue page renders for the roles that may see it (in the default language, Chinese),
and refuses the others."""
from __future__ import annotations

import pytest

from voucher.catalogue.models import SolutionScreening
from voucher.extensions import db


@pytest.mark.parametrize("role,path,status", [
    ("provider", "/catalogue/mine", 200),
    ("provider", "/catalogue/mine/new", 200),
    ("evaluator", "/catalogue/screening", 200),
    ("officer", "/catalogue/solutions", 200),
    ("finance", "/catalogue/solutions", 200),
    ("auditor", "/catalogue/solutions", 200),
    ("sme", "/catalogue/", 200),
    ("admin", "/catalogue/", 200),
    ("sme", "/catalogue/mine", 403),
    ("evaluator", "/catalogue/mine/new", 403),
    ("provider", "/catalogue/screening", 403),
    ("provider", "/catalogue/solutions", 403),
    ("sme", "/catalogue/solutions", 403),
    ("admin", "/catalogue/solutions", 403),
])
def test_list_pages_by_role(client, login, make_user, role, path, status):
    login(make_user(role))
    assert client.get(path).status_code == status


def test_list_pages_redirect_anonymous_users_to_login(client):
    for path in ("/catalogue/mine", "/catalogue/screening", "/catalogue/solutions", "/catalogue/mine/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("status", ["draft", "submitted", "screening", "listed", "rejected", "recommended", "delisted"])
@pytest.mark.parametrize("role", ["provider", "evaluator", "officer", "finance", "auditor"])
def test_solution_page_renders_in_every_state_for_every_reader(client, login, make_user, make_org, make_solution,
                                                              role, status):
    user = make_user(role)
    provider = user.organisation if role == "provider" else make_org("provider")
    solution = make_solution(provider, status=status, title="Quality traceability cloud")
    if status in ("rejected", "listed"):
        db.session.add(SolutionScreening(solution_id=solution.id, evaluator_id=make_user("evaluator").id, maturity=70,
                                         references_score=70, price_reasonableness=70, service_capability=70,
                                         data_security=70, decision="reject" if status == "rejected" else "list",
                                         reasons="Reasoned."))
        db.session.flush()
    login(user)
    response = client.get(f"/catalogue/solutions/{solution.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Quality traceability cloud" in page and "方案信息" in page
    if role == "officer" and status in ("listed", "recommended"):
        assert f"/catalogue/solutions/{solution.id}/delist" in page
    if role == "officer" and status == "delisted":
        assert f"/catalogue/solutions/{solution.id}/relist" in page
    if role in ("finance", "auditor"):
        assert "/delist" not in page and "/relist" not in page and "/recommend" not in page


@pytest.mark.parametrize("role", ["sme", "admin"])
def test_solution_internal_page_is_refused_to_sme_and_admin(client, login, make_user, make_org, make_solution, role):
    solution = make_solution(make_org("provider"), status="listed")
    login(make_user(role))
    assert client.get(f"/catalogue/solutions/{solution.id}").status_code == 403


@pytest.mark.parametrize("status", ["submitted", "screening", "listed"])
def test_screen_page_renders_in_each_state(client, login, make_user, make_org, make_solution, status):
    solution = make_solution(make_org("provider"), status=status)
    login(make_user("evaluator"))
    page = client.get(f"/catalogue/screening/{solution.id}").get_data(as_text=True)
    assert ('name="maturity"' in page) == (status == "screening")
    assert (f"/catalogue/screening/{solution.id}/start" in page) == (status == "submitted")


def test_delist_without_reason_is_422_and_keeps_the_solution_listed(client, login, make_user, make_org, make_solution):
    solution = make_solution(make_org("provider"), status="listed")
    login(make_user("officer"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(f"/catalogue/solutions/{solution.id}/delist", data={"reason": "  "})
    assert response.status_code == 422
    assert "Give a reason." in response.get_data(as_text=True)
    assert client.get(f"/catalogue/{solution.id}").status_code == 200  # still public


def test_delisted_solution_leaves_the_public_catalogue_and_relist_brings_it_back(client, login, make_user, make_org,
                                                                                make_solution):
    solution = make_solution(make_org("provider"), status="listed", title="Round trip")
    login(make_user("officer"))
    assert client.post(f"/catalogue/solutions/{solution.id}/delist", data={"reason": "Complaints"}).status_code == 302
    assert "Round trip" not in client.get("/catalogue/").get_data(as_text=True)
    detail = client.get(f"/catalogue/solutions/{solution.id}").get_data(as_text=True)
    assert "Complaints" in detail  # the reason, in the history
    assert client.post(f"/catalogue/solutions/{solution.id}/relist", data={"reason": "Resolved"}).status_code == 302
    assert "Round trip" in client.get("/catalogue/").get_data(as_text=True)


def test_nav_shows_the_catalogue_entries_per_role(client, login, make_user):
    login(make_user("provider"))
    page = client.get("/").get_data(as_text=True)
    assert 'href="/catalogue/mine"' in page and 'href="/catalogue/"' in page
    assert 'href="/catalogue/screening"' not in page
