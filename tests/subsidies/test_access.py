"""Who may see and do what: an SME only its own enterprise's applications and files, providers
never apply, only officers decide — refused by the server (403), not only hidden."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.subsidies.conftest import loan_form, robot_form, robot_line
from voucher.extensions import db
from voucher.subsidies.models import LoanApplication, RobotApplication

EN = {"Accept-Language": "en"}


@pytest.fixture()
def filed(client, sme, programme, login):
    """A submitted loan and a submitted robot application of ``sme``'s enterprise."""
    login(sme)
    r = client.post("/subsidies/loans/new", data=loan_form(programme), content_type="multipart/form-data")
    loan_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = client.post("/subsidies/robots/new", data=robot_form(programme, robot_line(0)), content_type="multipart/form-data")
    robot_id = int(r.headers["Location"].rsplit("/", 1)[1])
    for path in (f"/subsidies/loans/{loan_id}/submit", f"/subsidies/robots/{robot_id}/submit"):
        assert client.post(path).status_code == 302
    db.session.expire_all()
    loan = db.session.get(LoanApplication, loan_id)
    robot = db.session.get(RobotApplication, robot_id)
    return {"loan": (loan_id, loan.plan_file_id), "robot": (robot_id, robot.lines[0].invoice_file_id)}


def urls(filed):
    loan_id, loan_file = filed["loan"]
    robot_id, robot_file = filed["robot"]
    return [f"/subsidies/loans/{loan_id}", f"/subsidies/loans/{loan_id}/files/{loan_file}",
            f"/subsidies/robots/{robot_id}", f"/subsidies/robots/{robot_id}/files/{robot_file}"]


def test_owner_and_bureau_readers_see_the_applications_and_files(client, filed, sme, make_user, login):
    for user in (sme, make_user("officer"), make_user("auditor"), make_user("finance")):
        login(user)
        for url in urls(filed):
            response = client.get(url)
            assert response.status_code == 200, (user.role, url)
            if "/files/" in url:
                assert response.data.startswith(b"%PDF") and "attachment" in response.headers["Content-Disposition"]


def test_another_enterprise_cannot_see_the_applications_or_their_files(client, filed, other_sme, login):
    login(other_sme)
    for url in urls(filed):
        assert client.get(url).status_code == 403, url
    loan_id = filed["loan"][0]
    assert client.get(f"/subsidies/loans/{loan_id}/edit").status_code == 403
    assert client.post(f"/subsidies/loans/{loan_id}/withdraw").status_code == 403
    db.session.expire_all()
    assert db.session.get(LoanApplication, loan_id).status == "submitted"


@pytest.mark.parametrize("role", ["provider", "evaluator"])
def test_providers_and_evaluators_see_nothing(client, filed, make_user, login, role):
    login(make_user(role))
    for url in urls(filed):
        assert client.get(url).status_code == 403, url


def test_a_file_of_another_application_is_not_found_through_this_one(client, filed, sme, login):
    login(sme)
    loan_id, _ = filed["loan"]
    _, robot_file = filed["robot"]
    assert client.get(f"/subsidies/loans/{loan_id}/files/{robot_file}").status_code == 404


@pytest.mark.parametrize("path", ["/subsidies/loans/new", "/subsidies/robots/new", "/subsidies/loans", "/subsidies/robots"])
def test_a_provider_cannot_apply(client, make_user, login, programme, path):
    login(make_user("provider"))
    assert client.get(path).status_code == 403
    assert client.post(path, data=loan_form(programme), content_type="multipart/form-data").status_code in (403, 405)
    assert db.session.scalar(select(LoanApplication.id)) is None


def test_the_services_refuse_a_provider_too(ctx, make_user, programme):
    from voucher.errors import Forbidden
    from voucher.subsidies import services

    provider = make_user("provider")
    with pytest.raises(Forbidden):
        services.enterprise_of(provider.actor())


@pytest.mark.parametrize("role", ["sme", "auditor", "finance", "provider"])
def test_only_officers_approve(client, filed, make_user, sme, login, role):
    login(sme if role == "sme" else make_user(role))
    for kind in ("loans", "robots"):
        app_id = filed["loan" if kind == "loans" else "robot"][0]
        assert client.post(f"/subsidies/{kind}/{app_id}/approve").status_code == 403
        assert client.post(f"/subsidies/{kind}/{app_id}/reject", data={"reason": "no"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(LoanApplication, filed["loan"][0]).status == "submitted"
    assert db.session.get(RobotApplication, filed["robot"][0]).status == "submitted"


def test_officers_do_not_file_for_an_enterprise(client, make_user, login):
    login(make_user("officer"))
    assert client.get("/subsidies/loans/new").status_code == 403


def test_review_queue_lists_both_kinds_with_filters(client, filed, make_user, login):
    login(make_user("officer"))
    page = client.get("/subsidies/review?status=submitted", headers=EN).get_data(as_text=True)
    assert f'data-row-kind="loan" data-row-id="{filed["loan"][0]}"' in page
    assert f'data-row-kind="robot" data-row-id="{filed["robot"][0]}"' in page
    page = client.get("/subsidies/review?kind=robot", headers=EN).get_data(as_text=True)
    assert 'data-row-kind="loan"' not in page and 'data-row-kind="robot"' in page
    page = client.get("/subsidies/review?status=approved", headers=EN).get_data(as_text=True)
    assert "No applications match." in page
    assert client.get("/subsidies/review?q=no-such-enterprise", headers=EN).status_code == 200


def test_review_queue_paginates(client, sme, programme, make_user, login, app):
    login(sme)
    for i in range(3):
        data = loan_form(programme, contract_no=f"C-{i}")
        r = client.post("/subsidies/loans/new", data=data, content_type="multipart/form-data")
        client.post(r.headers["Location"] + "/submit")
    login(make_user("officer"))
    app.config["PAGE_SIZE"], size = 2, app.config["PAGE_SIZE"]
    try:
        first = client.get("/subsidies/review", headers=EN).get_data(as_text=True)
        # keyset pages: the Next link carries the last row's cursor
        next_link = html.unescape(re.search(r'<a class="page-link" rel="next" href="([^"]+)"', first).group(1))
        second = client.get(next_link, headers=EN).get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = size
    assert first.count("data-row-id=") == 2 and second.count("data-row-id=") == 1
    assert "3 in total" in first and 'rel="next"' not in second and 'rel="prev"' in second


def test_sme_and_anonymous_cannot_open_the_review_queue(client, sme, login):
    assert client.get("/subsidies/review").status_code == 302  # to the login page
    login(sme)
    assert client.get("/subsidies/review").status_code == 403


def test_an_sme_cannot_reject_its_own_application_even_without_a_reason(client, filed, sme, login):
    login(sme)
    loan_id = filed["loan"][0]
    assert client.post(f"/subsidies/loans/{loan_id}/reject", data={"reason": ""}).status_code == 403
    assert client.post(f"/subsidies/loans/{loan_id}/no-such-action").status_code == 404
