"""The application pages as users meet them: the SME's form and list, the officer's queue and
decisions, documents, timeline, start-page panels."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from tests.applications.conftest import build_programme, build_solution, content, token
from tests.factories import attach_required_materials
from voucher.applications import services
from voucher.applications.models import TrialApplication
from voucher.documents.models import StoredFile
from voucher.extensions import db
from voucher.programmes import services as ledger

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture()
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _form(solution, programme, amount="100000.00", tok=None, **overrides):
    today = services.local_today()
    data = {"token": tok or token(), "solution_id": str(solution.id), "programme_id": str(programme.id),
            "requested_amount": amount, "need_statement": "Orders get lost between workshops.",
            "contract_date": (today + timedelta(days=2)).isoformat(),
            "trial_start_date": (today + timedelta(days=7)).isoformat(),
            "baseline_production_efficiency": "40.5", "baseline_defect_rate": "2.75"}
    data.update(overrides)
    return data


def _apps(enterprise_id):
    return db.session.scalars(select(TrialApplication).where(TrialApplication.enterprise_id == enterprise_id)).all()


def test_new_form_shows_trial_price_and_remaining_quota_before_submitting(en, login, sme, officer, programme,
                                                                          solution, file_application):
    approved = file_application(sme, "150000.00")
    services.approve(officer.actor(), approved.id)
    login(sme)
    page = en.get(f"/applications/new?solution_id={solution.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "¥250,000.00" in html  # the trial price
    assert "¥50,000.00" in html  # remaining quota
    token_input = re.search(r'<input[^>]*name="token"[^>]*>', html)
    assert token_input and re.search(r'value="[^"]{20,}"', token_input.group(0))  # the idempotency token


def test_solution_picker_lists_only_catalogue_solutions_with_search(en, login, sme, programme, provider_org):
    listed = build_solution(provider_org, title="Warehouse scanner")
    build_solution(provider_org, status="submitted", title="Secret prototype")
    build_solution(provider_org, status="recommended", title="Quality trace")
    login(sme)
    html = en.get("/applications/new").get_data(as_text=True)
    assert "Warehouse scanner" in html and "Quality trace" in html and "Secret prototype" not in html
    html = en.get("/applications/new?q=scanner").get_data(as_text=True)
    assert "Warehouse scanner" in html and "Quality trace" not in html
    assert f"/applications/new?solution_id={listed.id}" in html


def test_the_same_form_posted_twice_creates_one_application(en, login, sme, programme, solution):
    login(sme)
    data = _form(solution, programme)
    first = en.post(f"/applications/new?solution_id={solution.id}", data=data)
    second = en.post(f"/applications/new?solution_id={solution.id}", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    apps = _apps(sme.organisation_id)
    assert len(apps) == 1 and apps[0].status == "draft"
    assert apps[0].baselines["defect_rate"] == Decimal("2.75")


def test_form_refuses_contract_and_start_dates_before_the_submission_date_on_the_fields(en, login, sme, programme,
                                                                                        solution):
    login(sme)
    yesterday = (services.local_today() - timedelta(days=1)).isoformat()
    response = en.post(f"/applications/new?solution_id={solution.id}",
                       data=_form(solution, programme, contract_date=yesterday, trial_start_date=yesterday))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for name in ("contract_date", "trial_start_date"):
        m = re.search(rf'<div class="invalid-feedback" id="{name}-err">([^<]*)</div>', html)
        assert m, name
        assert "before the submission date" in m.group(1) and "not eligible" in m.group(1)
    assert _apps(sme.organisation_id) == []


def test_form_refuses_amount_over_remaining_quota_on_the_amount_field(en, login, sme, officer, programme, solution,
                                                                      file_application):
    services.approve(officer.actor(), file_application(sme, "150000.00").id)
    login(sme)
    response = en.post(f"/applications/new?solution_id={solution.id}", data=_form(solution, programme, "60000"))
    assert response.status_code == 422
    m = re.search(r'id="requested_amount-err">([^<]*)<', response.get_data(as_text=True))
    assert m and "¥200,000.00" in m.group(1) and "¥50,000.00" in m.group(1)
    assert len(_apps(sme.organisation_id)) == 1


def test_sme_flow_submit_then_plain_status_and_next_step_on_the_list(en, login, sme, programme, solution):
    login(sme)
    en.post(f"/applications/new?solution_id={solution.id}", data=_form(solution, programme))
    app = _apps(sme.organisation_id)[0]
    assert "Draft (not sent yet)" in en.get("/applications/mine").get_data(as_text=True)
    attach_required_materials(app)
    response = en.post(f"/applications/{app.id}/submit")
    assert response.status_code == 303
    db.session.refresh(app)
    assert app.status == "submitted" and app.submitted_at is not None
    html = en.get("/applications/mine").get_data(as_text=True)
    assert re.search(r"Waiting for the bureau(&#39;|')s review", html)
    assert "submitted" not in re.sub(r"<[^>]+>", "", html).split()  # no internal state names
    assert "¥200,000.00" in html  # quota shown on the SME home for applications


def test_sme_list_in_chinese_shows_plain_status(client, login, sme, file_application):
    file_application(sme)
    login(sme)
    html = client.get("/applications/mine").get_data(as_text=True)
    assert "等待经信局审核" in html


def test_edit_returned_application_and_resubmit(en, login, sme, officer, file_application):
    app = file_application(sme)
    services.return_for_revision(officer.actor(), app.id, "Please attach the quotation.")
    login(sme)
    page = en.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "Returned: please revise" in page and "Please attach the quotation." in page
    data = {k: v for k, v in _form(app.solution, app.programme, "90000.00").items()
            if k not in ("token", "solution_id", "programme_id")}
    assert en.post(f"/applications/{app.id}/edit", data=data).status_code == 303
    db.session.refresh(app)
    assert app.status == "draft" and app.requested_amount == Decimal("90000.00")
    assert en.post(f"/applications/{app.id}/submit").status_code == 303
    db.session.refresh(app)
    assert app.status == "submitted"


def test_withdraw_needs_the_form_and_frees_nothing_reserved(en, login, sme, file_application):
    app = file_application(sme)
    login(sme)
    assert en.get(f"/applications/{app.id}/withdraw").status_code == 405  # no state change on GET
    response = en.post(f"/applications/{app.id}/withdraw", data={"withdraw-reason": "Found another way."})
    assert response.status_code == 303
    db.session.refresh(app)
    assert app.status == "withdrawn"


def test_officer_queue_filters_sorts_and_paginates(en, login, officer, make_org, make_user, programme, solution):
    amounts = {"lucheng": ["10000.00", "30000.00"], "ouhai": ["20000.00"]}
    for district, values in amounts.items():
        for value in values:
            user = make_user("sme", make_org("enterprise", district=district))
            services.create_application(user.actor(), token=token(), programme_id=programme.id,
                                        solution_id=solution.id, content=content(value))
            attach_required_materials(_apps(user.organisation_id)[0])
            services.submit(user.actor(), _apps(user.organisation_id)[0].id)
    draft_owner = make_user("sme", make_org("enterprise", name="Drafty Ltd"))
    services.create_application(draft_owner.actor(), token=token(), programme_id=programme.id,
                                solution_id=solution.id, content=content())
    login(officer)
    html = en.get("/applications/review").get_data(as_text=True)
    assert html.count("¥10,000.00") == 1 and "¥20,000.00" in html and "Drafty Ltd" not in html
    html = en.get("/applications/review?status=submitted&district=lucheng&sort=amount_desc").get_data(as_text=True)
    assert "¥20,000.00" not in html
    assert html.index("¥30,000.00") < html.index("¥10,000.00")
    html = en.get("/applications/review?sort=amount_asc").get_data(as_text=True)
    assert html.index("¥10,000.00") < html.index("¥20,000.00") < html.index("¥30,000.00")
    assert "3 in total" in html


def _count_queries(conn, fn):
    statements = []

    def listener(conn_, cursor, statement, *args):
        statements.append(statement)

    event.listen(conn, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(conn, "before_cursor_execute", listener)
    return len(statements)


def test_officer_queue_and_sme_list_have_no_n_plus_one(en, login, db_conn, officer, make_org, make_user, programme,
                                                       provider_org):
    sme_user = make_user("sme", make_org("enterprise"))

    def add(n):
        for _ in range(n):
            user = make_user("sme", make_org("enterprise"))
            sol = build_solution(provider_org, trial_price="20000.00")
            for owner in (user, sme_user):
                app, _ = services.create_application(owner.actor(), token=token(), programme_id=programme.id,
                                                     solution_id=sol.id, content=content("1000.00"))
                attach_required_materials(app)
                services.submit(owner.actor(), app.id)

    add(2)
    login(officer)
    few = _count_queries(db_conn, lambda: en.get("/applications/review"))
    add(10)
    many = _count_queries(db_conn, lambda: en.get("/applications/review"))
    assert many == few
    en.post("/logout")
    login(sme_user)
    few = _count_queries(db_conn, lambda: en.get("/applications/mine"))
    add(3)
    assert _count_queries(db_conn, lambda: en.get("/applications/mine")) == few


def test_officer_page_shows_what_the_review_needs(en, login, officer, sme, file_application, programme):
    app = file_application(sme, "75000.00")
    login(officer)
    html = en.get(f"/applications/{app.id}").get_data(as_text=True)
    for expected in (sme.organisation.name, "Small", "Lucheng", "Pumps and valves", "¥75,000.00",
                     "¥200,000.00",  # quota limit and remaining
                     "¥50,000,000.00",  # programme budget / available
                     app.solution.title, app.provider.name, app.need_statement, "42.50", "3.20",
                     "Submitted to the bureau", "Approve and reserve ¥75,000.00", "Return for revision",
                     "data-confirm"):
        assert expected in html, expected


def test_officer_approves_through_the_page_and_budget_shortage_is_shown_with_figures(en, login, officer, sme,
                                                                                     make_org, make_user, solution):
    small = build_programme(budget="100000.00")
    a = services.create_application(sme.actor(), token=token(), programme_id=small.id, solution_id=solution.id,
                                    content=content("80000.00"))[0]
    attach_required_materials(a)
    services.submit(sme.actor(), a.id)
    other = make_user("sme", make_org("enterprise"))
    b = services.create_application(other.actor(), token=token(), programme_id=small.id, solution_id=solution.id,
                                    content=content("30000.00"))[0]
    attach_required_materials(b)
    services.submit(other.actor(), b.id)
    login(officer)
    assert en.post(f"/applications/{a.id}/approve", data={"approve-comment": "ok"}).status_code == 303
    response = en.post(f"/applications/{b.id}/approve", data={})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "¥20,000.00" in html and "¥30,000.00" in html and "¥100,000.00" in html
    db.session.refresh(b)
    assert b.status == "submitted"
    assert ledger.balances(small).reserved == Decimal("80000.00")


def test_reject_without_reason_is_refused_on_the_field(en, login, officer, sme, file_application):
    app = file_application(sme)
    login(officer)
    response = en.post(f"/applications/{app.id}/reject", data={"reject-reason": ""})
    assert response.status_code == 422
    assert re.search(r'id="reject-reason-err">A reason is required', response.get_data(as_text=True))
    assert en.post(f"/applications/{app.id}/reject", data={"reject-reason": "Not a fit."}).status_code == 303
    db.session.refresh(app)
    assert app.status == "rejected" and app.decision_reason == "Not a fit."


def test_cancel_through_the_page_releases_the_reservation(en, login, officer, sme, file_application, programme):
    app = file_application(sme, "50000.00")
    services.approve(officer.actor(), app.id)
    login(officer)
    assert en.post(f"/applications/{app.id}/cancel", data={"cancel-reason": "Duplicate."}).status_code == 303
    assert ledger.balances(programme).reserved == Decimal("0.00")


def _storage_files(app) -> set:
    root = Path(app.config["STORAGE_DIR"]) / "trial_application"
    return set(root.glob("*")) if root.exists() else set()


def _upload(client, app_id, data: bytes, name: str):
    return client.post(f"/applications/{app_id}/attachments", data={"material_other": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("payload,name,message", [
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "invoice.pdf", "Only these formats are accepted here"),
    (b"", "empty.pdf", "The file is empty"),
    (PDF + b"0" * 2048, "big.pdf", "larger than the limit"),
])
def test_upload_refuses_renamed_exe_empty_and_oversized_files_and_stores_nothing(app, en, login, sme,
                                                                                 file_application, monkeypatch,
                                                                                 payload, name, message):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024)
    application = file_application(sme, submit=False)
    login(sme)
    before = _storage_files(app)
    response = _upload(en, application.id, payload, name)
    assert response.status_code == 422
    m = re.search(r'id="material_other-err">([^<]*)<', response.get_data(as_text=True))
    assert m and message in m.group(1)
    assert _storage_files(app) == before
    assert db.session.scalar(select(func.count()).select_from(StoredFile)
                             .where(StoredFile.owner_id == application.id)) == 0


def test_upload_and_download_by_those_allowed_only(app, en, login, sme, officer, make_org, make_user,
                                                   file_application):
    application = file_application(sme, submit=False)
    login(sme)
    assert _upload(en, application.id, PDF, "quote.pdf").status_code == 303
    stored = services.attachments(application.id)[0]
    assert stored.owner_type == "trial_application" and stored.content_type == "application/pdf"
    page = en.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "quote.pdf" in page and "Document attached" in page
    url = f"/applications/{application.id}/attachments/{stored.id}"
    assert en.get(url).data == PDF
    en.post("/logout")
    login(officer)
    assert en.get(url).status_code == 200
    en.post("/logout")
    login(make_user("sme", make_org("enterprise")))
    assert en.get(url).status_code == 403
    en.post("/logout")
    login(make_user("provider", application.provider))
    assert en.get(url).status_code == 403
    # Not reachable through another application's id either.
    en.post("/logout")
    login(sme)
    other = file_application(sme, submit=False)
    assert en.get(f"/applications/{other.id}/attachments/{stored.id}").status_code == 404


def test_upload_closed_once_submitted(en, login, sme, file_application):
    application = file_application(sme)
    login(sme)
    before = len(services.attachments(application.id))
    response = _upload(en, application.id, PDF, "late.pdf")
    assert response.status_code == 422
    assert len(services.attachments(application.id)) == before


def test_start_page_panels_for_sme_and_officer(en, login, sme, officer, file_application):
    file_application(sme)
    file_application(sme, "20000.00", submit=False)
    login(sme)
    html = en.get("/").get_data(as_text=True)
    assert "Quota remaining" in html and "Applications needing your action" in html
    en.post("/logout")
    login(officer)
    html = en.get("/").get_data(as_text=True)
    assert "Waiting for review" in html and "/applications/review" in html


def test_a_double_clicked_approval_reserves_once(en, login, officer, sme, file_application, programme):
    app = file_application(sme, "40000.00")
    login(officer)
    first = en.post(f"/applications/{app.id}/approve", data={})
    second = en.post(f"/applications/{app.id}/approve", data={})
    assert first.status_code == second.status_code == 303
    assert "already recorded" in en.get(second.headers["Location"]).get_data(as_text=True)
    assert ledger.balances(programme).reserved == Decimal("40000.00")


def test_form_without_an_open_programme_says_so(en, login, sme, make_solution, programme):
    programme.closes_on = services.local_today() - timedelta(days=1)
    db.session.flush()
    solution = make_solution()
    login(sme)
    html = en.get(f"/applications/new?solution_id={solution.id}").get_data(as_text=True)
    assert "No programme is accepting trial-voucher applications" in html and "Save the draft" not in html


def test_form_for_a_solution_no_longer_listed_shows_why(en, login, sme, programme, make_solution):
    solution = make_solution(status="delisted")
    login(sme)
    response = en.post(f"/applications/new?solution_id={solution.id}", data=_form(solution, programme))
    assert response.status_code == 422
    assert "not in the catalogue" in response.get_data(as_text=True)
    page = en.get(f"/applications/new?solution_id={solution.id}", follow_redirects=True).get_data(as_text=True)
    assert "not in the catalogue" in page and "choose a solution" in page
