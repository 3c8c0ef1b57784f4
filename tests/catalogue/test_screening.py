"""The evaluators' queue and screening form; the screening record on the solution page."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from voucher.catalogue.models import Solution, SolutionScreening
from voucher.extensions import db

RUBRIC = {"maturity": "80", "references_score": "75", "price_reasonableness": "70", "service_capability": "85",
          "data_security": "90"}


def test_queue_lists_submitted_and_in_screening_oldest_first(client, login, make_user, make_org, make_solution):
    provider = make_org("provider", name="Ouhai Digital Co")
    newer = make_solution(provider, status="submitted", title="Newer one", age_minutes=5)
    older = make_solution(provider, status="screening", title="Older one", age_minutes=50)
    make_solution(provider, status="draft", title="A draft")
    make_solution(provider, status="listed", title="Already listed")
    login(make_user("evaluator"))
    page = client.get("/catalogue/screening").get_data(as_text=True)
    assert page.index("Older one") < page.index("Newer one")
    assert "A draft" not in page and "Already listed" not in page
    assert "Ouhai Digital Co" in page
    assert newer.id and older.id


def test_queue_is_paginated(client, login, make_user, make_org, make_solution):
    provider = make_org("provider")
    for i in range(25):
        make_solution(provider, status="submitted", title=f"Queue item {i:02d}", age_minutes=100 - i)
    login(make_user("evaluator"))
    page1 = client.get("/catalogue/screening").get_data(as_text=True)
    page2 = client.get("/catalogue/screening?page=2").get_data(as_text=True)
    assert "Queue item 00" in page1 and "Queue item 19" in page1 and "Queue item 20" not in page1
    assert "Queue item 20" in page2 and "Queue item 24" in page2 and "Queue item 00" not in page2


def test_screening_stores_the_record_and_lists_the_solution(client, login, make_user, make_org, make_solution):
    solution = make_solution(make_org("provider"), status="submitted")
    evaluator = make_user("evaluator")
    login(evaluator)
    page = client.get(f"/catalogue/screening/{solution.id}").get_data(as_text=True)
    assert solution.title in page and "¥50,000.00" in page  # the facts
    assert client.post(f"/catalogue/screening/{solution.id}/start").status_code == 302
    assert 'name="maturity"' in client.get(f"/catalogue/screening/{solution.id}").get_data(as_text=True)
    response = client.post(f"/catalogue/screening/{solution.id}",
                           data={**RUBRIC, "decision": "list", "reasons": "Mature product, three references."})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Solution, solution.id).status == "listed"
    record = db.session.scalars(select(SolutionScreening).where(SolutionScreening.solution_id == solution.id)).one()
    assert (record.maturity, record.references_score, record.price_reasonableness, record.service_capability,
            record.data_security) == (80, 75, 70, 85, 90)
    assert record.decision == "list" and record.reasons == "Mature product, three references."
    assert record.evaluator_id == evaluator.id


@pytest.mark.parametrize("role", ["officer", "evaluator", "provider", "auditor"])
def test_screening_record_is_shown_on_the_solution_page(client, login, make_user, make_org, make_solution, role):
    user = make_user(role)
    provider = user.organisation if role == "provider" else make_org("provider")
    solution = make_solution(provider, status="rejected")
    db.session.add(SolutionScreening(solution_id=solution.id, evaluator_id=make_user("evaluator").id, maturity=40,
                                     references_score=30, price_reasonableness=50, service_capability=45,
                                     data_security=20, decision="reject", reasons="No data-security certification."))
    db.session.flush()
    login(user)
    page = client.get(f"/catalogue/solutions/{solution.id}").get_data(as_text=True)
    assert "No data-security certification." in page
    assert "37.0" in page  # the mean of the five scores


def test_screening_reasons_are_not_on_the_public_page(client, make_user, make_org, make_solution):
    solution = make_solution(make_org("provider"), status="listed")
    db.session.add(SolutionScreening(solution_id=solution.id, evaluator_id=make_user("evaluator").id, maturity=90,
                                     references_score=90, price_reasonableness=90, service_capability=90,
                                     data_security=90, decision="list", reasons="Internal remark XYZ."))
    db.session.flush()
    assert "Internal remark XYZ." not in client.get(f"/catalogue/{solution.id}").get_data(as_text=True)


def test_sme_cannot_screen(client, login, make_user, make_org, make_solution):
    solution = make_solution(make_org("provider"), status="screening")
    login(make_user("sme"))
    assert client.get(f"/catalogue/screening/{solution.id}").status_code == 403
    assert client.post(f"/catalogue/screening/{solution.id}",
                       data={**RUBRIC, "decision": "list", "reasons": "x"}).status_code == 403
    assert client.get("/catalogue/screening").status_code == 403
    assert client.get(f"/catalogue/solutions/{solution.id}").status_code == 403
    db.session.expire_all()
    assert db.session.get(Solution, solution.id).status == "screening"


@pytest.mark.parametrize("change,field,message", [
    ({"reasons": ""}, "reasons", "Give the reasons for the decision."),
    ({"reasons": "   "}, "reasons", "Give the reasons for the decision."),
    ({"maturity": "101"}, "maturity", "Must be at most 100."),
    ({"data_security": "-1"}, "data_security", "Must be at least 0."),
    ({"service_capability": "8.5"}, "service_capability", "Enter a whole number."),
    ({"references_score": ""}, "references_score", "Enter a score from 0 to 100."),
    ({"decision": ""}, "decision", "Choose to list or to reject the solution."),
    ({"decision": "maybe"}, "decision", "Choose to list or to reject the solution."),
])
def test_bad_screening_form_is_refused_and_nothing_recorded(client, login, make_user, make_org, make_solution,
                                                            change, field, message):
    solution = make_solution(make_org("provider"), status="screening")
    login(make_user("evaluator"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    data = {**RUBRIC, "decision": "reject", "reasons": "Weak references.", **change}
    response = client.post(f"/catalogue/screening/{solution.id}", data=data)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert message in page and f'id="{field}-err"' in page
    db.session.expire_all()
    assert db.session.get(Solution, solution.id).status == "screening"
    assert db.session.scalar(select(func.count()).select_from(SolutionScreening)) == 0


def test_screening_twice_is_refused(client, login, make_user, make_org, make_solution):
    solution = make_solution(make_org("provider"), status="screening")
    login(make_user("evaluator"))
    data = {**RUBRIC, "decision": "list", "reasons": "Fine."}
    assert client.post(f"/catalogue/screening/{solution.id}", data=data).status_code == 302
    assert client.post(f"/catalogue/screening/{solution.id}", data=data).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(SolutionScreening)) == 1


def test_rejected_solution_is_revised_and_resubmitted(client, login, provider_user, make_solution):
    solution = make_solution(provider_user.organisation, status="rejected")
    login(provider_user)
    assert client.post(f"/catalogue/mine/{solution.id}/revise").status_code == 302
    assert client.get(f"/catalogue/mine/{solution.id}/edit").status_code == 200
    assert client.post(f"/catalogue/mine/{solution.id}/submit").status_code == 302
    db.session.expire_all()
    assert db.session.get(Solution, solution.id).status == "submitted"
