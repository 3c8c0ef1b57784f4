"""Pages: the public check page, downloads only for those allowed, job status with errors and
retry for finance/admin, revoking."""
from __future__ import annotations

import hashlib

import pytest

from tests.documents.conftest import make_document
from voucher.documents import services
from voucher.documents.builders import register_download_rule
from voucher.documents.jobs import display_code
from voucher.documents.models import Document, JobRecord
from voucher.extensions import db


def failed_job(requested_by: int | None, message: str = "ConnectionError: bank data service timed out") -> JobRecord:
    record = JobRecord(kind="payment_order", subject_type="disbursement", subject_id=7, lang="zh",
                       requested_by=requested_by, status="failed", progress=10, attempts=4, message=message,
                       rq_job_id="voucher-doc-test-gone")
    db.session.add(record)
    db.session.flush()
    return record


# --- public verification page -----------------------------------------------------------------

def test_verify_page_shows_sha256_status_and_issue_time_for_a_valid_code(client, ctx):
    document = make_document(subject_id=12, subject_label="DSB-2026-000012", data=b"%PDF-1.4 the real order")
    response = client.get(f"/verify/{document.verification_code}")  # no login
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert hashlib.sha256(b"%PDF-1.4 the real order").hexdigest() in page
    assert document.sha256 in page and "DSB-2026-000012" in page
    assert 'id="verify-result"' in page and "bg-success" in page


def test_verify_page_never_shows_other_data(client, ctx):
    document = make_document(subject_id=12, subject_label="DSB-2026-000012")
    page = client.get(f"/verify/{document.verification_code}").get_data(as_text=True)
    assert "/download" not in page and document.stored_file.original_name not in page
    assert document.stored_file.relative_path not in page


def test_verify_page_says_unknown_code_clearly(client, ctx):
    make_document()
    response = client.get("/verify/ZZZZZ22222")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'id="verify-unknown"' in page and "ZZZZZ22222" in page
    assert 'id="verify-result"' not in page


def test_verify_form_accepts_a_typed_code_with_hyphen_and_lower_case(client, ctx):
    document = make_document()
    typed = display_code(document.verification_code).lower()
    response = client.get("/verify", query_string={"code": f" {typed} "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{document.verification_code}")
    assert client.get("/verify").status_code == 200  # the empty form


def english(client):
    client.post("/lang", data={"lang": "en"})
    return client


def test_verify_page_shows_superseded_status(client, ctx):
    old = make_document(subject_id=5, status="superseded")
    english(client)
    page = client.get(f"/verify/{old.verification_code}").get_data(as_text=True)
    assert "newer version" in page and old.sha256 in page


# --- downloads --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "admin"])
def test_downloads_are_refused_to_roles_without_access(client, ctx, make_user, login, role):
    document = make_document()
    login(make_user(role))
    assert client.get(f"/documents/{document.id}/download").status_code == 403
    assert client.get(f"/documents/disbursement/{document.subject_id}").status_code == 403


@pytest.mark.parametrize("role", ["finance", "officer", "auditor"])
def test_bureau_roles_download_the_exact_stored_bytes(client, ctx, make_user, login, role):
    document = make_document(data=b"%PDF-1.4 exact bytes")
    login(make_user(role))
    response = client.get(f"/documents/{document.id}/download")
    assert response.status_code == 200 and response.data == b"%PDF-1.4 exact bytes"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]


def test_a_registered_download_rule_lets_in_its_own_users_only(client, ctx, make_user, make_org, login,
                                                               test_builders):
    provider_org = make_org("provider")
    document = make_document(subject_type="payment_batch", subject_id=provider_org.id, kind="bank_file")
    register_download_rule("payment_batch", lambda actor, subject_id, kind:
                           actor.role == "finance" or actor.organisation_id == subject_id)
    login(make_user("provider", provider_org))
    assert client.get(f"/documents/{document.id}/download").status_code == 200
    client.post("/logout")
    login(make_user("provider"))  # another provider
    assert client.get(f"/documents/{document.id}/download").status_code == 403
    client.post("/logout")
    login(make_user("auditor"))  # the rule replaces the default: bureau readers not listed are out
    assert client.get(f"/documents/{document.id}/download").status_code == 403


def test_a_file_altered_on_disk_is_not_served(client, ctx, make_user, login, app):
    from voucher.storage import backend

    document = make_document(data=b"%PDF-1.4 original")
    backend().put(document.stored_file.relative_path, b"%PDF-1.4 tampered", "application/pdf")
    login(make_user("finance"))
    assert client.get(f"/documents/{document.id}/download").status_code == 409


def test_subject_page_lists_versions_with_codes(client, ctx, make_user, login):
    v1 = make_document(subject_id=9, status="superseded", version=1)
    v2 = make_document(subject_id=9, version=2)
    login(make_user("finance"))
    page = client.get("/documents/disbursement/9").get_data(as_text=True)
    assert display_code(v1.verification_code) in page and display_code(v2.verification_code) in page
    assert f"/documents/{v2.id}/download" in page


# --- job page, errors and retry ---------------------------------------------------------------

@pytest.mark.parametrize("role", ["finance", "admin"])
def test_failed_job_shows_its_error_and_a_retry_button_to_finance_and_admin(client, ctx, make_user, login, role):
    record = failed_job(None)
    login(make_user(role))
    page = client.get(f"/jobs/{record.id}").get_data(as_text=True)
    assert "bank data service timed out" in page
    assert f'action="/jobs/{record.id}/retry"' in page and "data-confirm" in page


@pytest.mark.parametrize("role", ["officer", "auditor"])
def test_other_bureau_roles_see_that_it_failed_but_not_the_error(client, ctx, make_user, login, role):
    record = failed_job(None)
    login(make_user(role))
    page = english(client).get(f"/jobs/{record.id}").get_data(as_text=True)
    assert "bank data service timed out" not in page and "/retry" not in page
    assert "A finance officer can see the reason" in page
    assert client.post(f"/jobs/{record.id}/retry").status_code == 403


def test_a_job_is_hidden_from_other_organisations_users(client, ctx, make_user, login):
    record = failed_job(None)
    login(make_user("sme"))
    assert client.get(f"/jobs/{record.id}").status_code == 403
    assert client.get(f"/jobs/{record.id}/progress").status_code == 403


def test_retry_button_requeues_the_failed_job(client, ctx, make_user, login):
    record = failed_job(None)
    login(make_user("finance"))
    response = client.post(f"/jobs/{record.id}/retry")
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.status == "queued" and record.rq_job_id != "voucher-doc-test-gone" and record.message is None


def test_retry_of_a_job_already_done_is_refused_with_422(client, ctx, make_user, login):
    record = failed_job(None)
    document = make_document(subject_id=7)
    record.status, record.result_document_id, record.message = "succeeded", document.id, None
    db.session.flush()
    login(make_user("finance"))
    response = english(client).post(f"/jobs/{record.id}/retry")
    assert response.status_code == 422 and "already succeeded" in response.get_data(as_text=True)


def test_retry_needs_the_csrf_token(client, ctx, make_user, login, app):
    record = failed_job(None)
    login(make_user("finance"))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/jobs/{record.id}/retry")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code in (400, 422)
    db.session.refresh(record)
    assert record.status == "failed"


def test_progress_partial_polls_until_the_job_is_finished(client, ctx, make_user, login):
    user = make_user("finance")
    record = JobRecord(kind="payment_order", subject_type="disbursement", subject_id=3, requested_by=user.id,
                       status="running", progress=70, rq_job_id="x")
    db.session.add(record)
    db.session.flush()
    login(user)
    body = client.get(f"/jobs/{record.id}/progress").get_data(as_text=True)
    assert 'aria-valuenow="70"' in body and f'hx-get="/jobs/{record.id}/progress"' in body
    record.status, record.progress = "failed", 70
    db.session.flush()
    response = client.get(f"/jobs/{record.id}/progress", headers={"HX-Request": "true"})
    assert "hx-get" not in response.get_data(as_text=True) and response.headers["HX-Refresh"] == "true"


def test_jobs_list_filters_by_status(client, ctx, make_user, login):
    failed = failed_job(None)
    ok = JobRecord(kind="payment_order", subject_type="disbursement", subject_id=8, status="succeeded",
                   progress=100)
    db.session.add(ok)
    db.session.flush()
    login(make_user("finance"))
    page = client.get("/jobs", query_string={"status": "failed"}).get_data(as_text=True)
    assert f'href="/jobs/{failed.id}"' in page and f'href="/jobs/{ok.id}"' not in page


# --- requesting and revoking ------------------------------------------------------------------

def test_request_button_asks_for_the_document_and_opens_its_job(client, ctx, make_user, login, test_builders):
    user = make_user("finance")
    login(user)
    response = client.post("/documents/request", data={"kind": "payment_order", "subject_type": "disbursement",
                                                      "subject_id": "4", "lang": "en"})
    assert response.status_code == 302
    record = db.session.query(JobRecord).filter_by(subject_id=4).one()
    assert response.headers["Location"].endswith(f"/jobs/{record.id}")
    assert (record.status, record.lang, record.requested_by) == ("queued", "en", user.id)


def test_only_the_kinds_roles_may_request_it(client, ctx, make_user, login, test_builders):
    login(make_user("auditor"))
    response = client.post("/documents/request", data={"kind": "payment_order", "subject_type": "disbursement",
                                                      "subject_id": "4"})
    assert response.status_code == 403
    assert db.session.query(JobRecord).count() == 0


def test_a_request_without_a_job_queue_is_refused(ctx, make_user, app, test_builders):
    from voucher.errors import Conflict

    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    try:
        with pytest.raises(Conflict):
            services.request_document(make_user("finance").actor(), "payment_order", "disbursement", 1)
    finally:
        app.config["REDIS_URL"] = saved


def test_revoking_needs_a_reason_and_shows_on_the_check_page(client, ctx, make_user, login):
    document = make_document(subject_id=11)
    login(make_user("finance"))
    response = client.post(f"/documents/{document.id}/revoke", data={"reason": ""})
    assert response.status_code == 422
    db.session.refresh(document)
    assert document.status == "valid"
    response = client.post(f"/documents/{document.id}/revoke", data={"reason": "Wrong bank account"})
    assert response.status_code == 302
    db.session.refresh(document)
    assert document.status == "revoked" and document.status_reason == "Wrong bank account"
    page = client.get(f"/verify/{document.verification_code}").get_data(as_text=True)
    assert "bg-danger" in page and document.sha256 in page


def test_an_auditor_may_not_revoke_a_payment_order(client, ctx, make_user, login):
    document = make_document(subject_id=11)
    login(make_user("auditor"))
    assert client.post(f"/documents/{document.id}/revoke", data={"reason": "x"}).status_code == 403
    assert db.session.get(Document, document.id).status == "valid"


def test_subject_page_offers_the_kinds_the_role_may_request(client, ctx, make_user, login, test_builders):
    make_document(subject_id=9)
    login(make_user("finance"))
    response = client.get("/documents/disbursement/9")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'action="/documents/request"' in page and 'name="kind" value="payment_order"' in page


def test_a_subjects_documents_export_as_listed_and_only_to_those_who_may_see_them(client, ctx, make_user, login):
    from tests.dashboard.conftest import read_csv, read_xlsx, table_rows

    first = make_document(subject_id=31, status="superseded")
    second = make_document(subject_id=31, version=2)
    login(make_user("finance"))
    english(client)
    page = client.get("/documents/disbursement/31").get_data(as_text=True)
    assert 'data-export="csv"' in page
    shown = table_rows(page)
    rows = read_csv(client.get("/documents/disbursement/31?format=csv"))
    assert rows[0] == ["Document", "Version", "Status", "Reason", "Issued", "Verification code", "SHA-256"]
    assert [r[0:3] for r in rows[1:]] == [r[0:3] for r in shown]  # kind, version, status as the page lists them
    assert [r[1] for r in rows[1:]] == ["2", "1"]
    assert [r[5] for r in rows[1:]] == [display_code(second.verification_code), display_code(first.verification_code)]
    assert [r[6] for r in rows[1:]] == [second.sha256, first.sha256]  # the whole hash, not the page's prefix
    assert len(read_xlsx(client.get("/documents/disbursement/31?format=xlsx"))) == 3
    login(make_user("sme"))
    assert client.get("/documents/disbursement/31?format=csv").status_code == 403


@pytest.mark.parametrize("path", ["/documents/nonsense/1", "/documents/trial_application/999999",
                                  "/documents/application/999999", "/documents/application/0",
                                  "/documents/disbursement/999999", "/documents/recovery_order/999999",
                                  "/documents/nonsense/1?format=csv"])
def test_a_subject_that_does_not_exist_is_not_found(client, ctx, make_user, login, path):
    login(make_user("officer"))
    assert client.get(path).status_code == 404
