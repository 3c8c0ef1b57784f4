"""Who may see and do what with an application: enforced by the server (403), not only hidden."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.applications.conftest import token
from voucher.applications import services
from voucher.applications.models import TrialApplication
from voucher.extensions import db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture()
def other_sme(make_org, make_user):
    return make_user("sme", make_org("enterprise"))


@pytest.fixture()
def draft_with_file(sme, file_application, app):
    application = file_application(sme, submit=False)
    stored = services.add_attachment(sme.actor(), application.id, io.BytesIO(PDF), "quote.pdf",
                                     max_bytes=1024 * 1024)
    return application, stored


def test_sme_cannot_read_or_change_another_enterprises_application_or_download_its_files(
        client, login, other_sme, draft_with_file):
    application, stored = draft_with_file
    login(other_sme)
    base = f"/applications/{application.id}"
    assert client.get(base).status_code == 403
    assert client.get(f"{base}/edit").status_code == 403
    assert client.post(f"{base}/edit", data={"requested_amount": "1.00"}).status_code == 403
    assert client.post(f"{base}/submit").status_code == 403
    assert client.post(f"{base}/withdraw").status_code == 403
    assert client.post(f"{base}/attachments", data={"material_other": (io.BytesIO(PDF), "x.pdf")},
                       content_type="multipart/form-data").status_code == 403
    assert client.get(f"{base}/attachments/{stored.id}").status_code == 403
    db.session.refresh(application)
    assert application.status == "draft" and application.requested_amount == Decimal("100000.00")
    assert len(services.attachments(application.id)) == 1
    # Nor is it on the other enterprise's list.
    assert f"/applications/{application.id}\"" not in client.get("/applications/mine").get_data(as_text=True)


def test_sme_cannot_approve_reject_return_or_cancel_anything(client, login, sme, officer, file_application):
    submitted = file_application(sme)
    approved = file_application(sme, "20000.00")
    services.approve(officer.actor(), approved.id)
    login(sme)
    for action in ("approve", "reject", "return"):
        assert client.post(f"/applications/{submitted.id}/{action}",
                           data={f"{action}-reason": "x", f"{action}-comment": "x"}).status_code == 403
    assert client.post(f"/applications/{approved.id}/cancel", data={"cancel-reason": "x"}).status_code == 403
    assert client.get("/applications/review").status_code == 403
    db.session.refresh(submitted)
    db.session.refresh(approved)
    assert (submitted.status, approved.status) == ("submitted", "approved")


def test_officer_cannot_edit_submit_or_upload_to_the_smes_application(client, login, officer, draft_with_file):
    application, _ = draft_with_file
    login(officer)
    base = f"/applications/{application.id}"
    assert client.get(base).status_code == 200  # reads it
    assert client.get(f"{base}/edit").status_code == 403
    changed = {"requested_amount": "1.00", "need_statement": "changed"}
    assert client.post(f"{base}/edit", data=changed).status_code == 403
    assert client.post(f"{base}/submit").status_code == 403
    assert client.post(f"{base}/withdraw").status_code == 403
    assert client.post(f"{base}/attachments", data={"material_other": (io.BytesIO(PDF), "x.pdf")},
                       content_type="multipart/form-data").status_code == 403
    db.session.refresh(application)
    assert application.need_statement != "changed" and application.status == "draft"


def test_provider_cannot_create_edit_or_read_an_application(client, login, make_user, provider_org, programme,
                                                            solution, sme, file_application):
    provider = make_user("provider", provider_org)
    application = file_application(sme, submit=False)
    login(provider)
    assert client.get(f"/applications/new?solution_id={solution.id}").status_code == 403
    response = client.post(f"/applications/new?solution_id={solution.id}",
                           data={"token": token(), "solution_id": solution.id, "programme_id": programme.id,
                                 "requested_amount": "1000", "need_statement": "for them",
                                 "contract_date": "2099-01-01", "trial_start_date": "2099-01-02",
                                 "baseline_defect_rate": "1"})
    assert response.status_code == 403
    assert client.get(f"/applications/{application.id}").status_code == 403
    assert client.post(f"/applications/{application.id}/edit", data={}).status_code == 403
    assert client.post(f"/applications/{application.id}/submit").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(TrialApplication)) == 1


def test_auditor_reads_the_queue_and_applications_but_cannot_decide(client, login, make_user, sme,
                                                                     file_application):
    application = file_application(sme)
    login(make_user("auditor"))
    assert client.get("/applications/review").status_code == 200
    page = client.get(f"/applications/{application.id}")
    assert page.status_code == 200 and f"/applications/{application.id}/approve" not in page.get_data(as_text=True)
    assert client.post(f"/applications/{application.id}/approve").status_code == 403
    db.session.refresh(application)
    assert application.status == "submitted"


def test_evaluator_and_anonymous_are_kept_out(client, login, make_user, sme, file_application):
    application = file_application(sme)
    assert client.get("/applications/review").status_code == 302  # to the login page
    assert client.get(f"/applications/{application.id}").status_code == 302
    login(make_user("evaluator"))
    assert client.get("/applications/review").status_code == 403
    assert client.get(f"/applications/{application.id}").status_code == 403


def test_actions_are_post_only_and_need_the_csrf_token(app, client, login, sme, file_application, monkeypatch):
    application = file_application(sme, submit=False)
    login(sme)
    assert client.get(f"/applications/{application.id}/submit").status_code == 405
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post(f"/applications/{application.id}/submit").status_code in (400, 422)
    db.session.refresh(application)
    assert application.status == "draft"


def test_bureau_reader_page_for_finance_has_no_decision_buttons(client, login, make_user, sme, file_application):
    application = file_application(sme)
    login(make_user("finance"))
    html = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "/approve" not in html and "/reject" not in html
    services_state = db.session.get(TrialApplication, application.id).status
    assert services_state == "submitted"
