"""The materials checklist of every application form is the programme guide's 材料清单 (one source):
what an officer adds to the guide is asked for and enforced, what is removed is no longer required;
the loan-discount and robot-subsidy forms have the trial form's checklist panel (several files at
once, Word/Excel/OFD checked by content, removing before submission, refused submission naming every
missing material, add and replace after a return); another enterprise gets 403."""
from __future__ import annotations

import io
from dataclasses import replace

import pytest

from tests.applications.test_materials_and_input import DOC, DOCX, OFD, XLS, XLSX
from tests.factories import attach_required_materials
from tests.subsidies.conftest import EN, LOAN_MATERIALS, PDF, fresh, loan_form, pdf, robot_form, robot_line
from voucher.audit.queries import events_for
from voucher.errors import Forbidden
from voucher.extensions import db
from voucher.guides import services as guides
from voucher.guides.content import Material as GuideMaterial
from voucher.guides.defaults import default_content
from voucher.materials import MaterialsMissing, checklist_for
from voucher.subsidies import services
from voucher.subsidies.models import LoanApplication, RobotApplication

ZH = {"Accept-Language": "zh-CN"}


def _new_loan(client, programme, **kw) -> int:
    r = client.post("/subsidies/loans/new", data=loan_form(programme, **kw), content_type="multipart/form-data",
                    headers=EN)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    return int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _new_robot(client, programme, **kw) -> int:
    r = client.post("/subsidies/robots/new", data=robot_form(programme, robot_line(0), **kw),
                    content_type="multipart/form-data", headers=EN)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    return int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _upload(client, kind_path, app_id, files: dict):
    data = {f"material_{code}": [(io.BytesIO(content), name) for name, content in items]
            for code, items in files.items()}
    return client.post(f"/subsidies/{kind_path}/{app_id}/materials", data=data, content_type="multipart/form-data",
                       headers=EN)


def _save_guide(officer, programme, kind, change):
    content = default_content(programme, kind)
    guides.save_guide(officer.actor(), programme.id, kind, replace(content, materials=change(content.materials)),
                      base_version=0)


# --- one source: the guide ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,path,new", [("loan_discount", "loans", _new_loan), ("robot_subsidy", "robots", _new_robot)])
def test_a_material_the_officer_adds_to_the_guide_is_shown_and_enforced_one_removed_is_not(
        client, login, sme, officer, programme, kind, path, new):
    added = GuideMaterial("环境影响评价批复", "Environmental impact approval", True, ("pdf", "docx"),
                          "环评批复文件", "The approval of the environmental impact assessment")
    # The officer adds a required material and drops the declaration of good faith.
    _save_guide(officer, programme, kind,
                lambda rows: tuple(r for r in rows if r.code != "credit_declaration") + (added,))
    code = next(m.code for m in checklist_for(programme.id, kind) if m.hint and m.hint.en.startswith("The approval"))
    login(sme)
    for headers, name, formats in ((EN, "Environmental impact approval", "PDF, Word (.docx)"),
                                   (ZH, "环境影响评价批复", "PDF, Word (.docx)")):
        page = client.get(f"/subsidies/{path}/new", headers=headers).get_data(as_text=True)
        assert name in page and f'name="material_{code}"' in page and formats in page
        assert 'name="material_credit_declaration"' not in page
    app_id = new(client, programme)  # the form's materials: without the added one
    refused = client.post(f"/subsidies/{path}/{app_id}/submit", headers=EN)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Some required materials are missing" in html
    assert "Environmental impact approval" in html and "Declaration of good faith" not in html
    assert _upload(client, path, app_id, {code: [("eia.docx", DOCX)]}).status_code == 303
    assert client.post(f"/subsidies/{path}/{app_id}/submit", headers=EN).status_code == 302
    model = LoanApplication if path == "loans" else RobotApplication
    assert fresh(model, app_id).status == "submitted"


def test_the_trial_form_reads_the_guide_too(client, login, officer, programme, make_user, make_org):
    added = GuideMaterial("安全生产承诺书", "Work-safety pledge", True, ("pdf",))
    _save_guide(officer, programme, "trial_voucher",
                lambda rows: tuple(r for r in rows if r.code != "financial_statements") + (added,))
    items = checklist_for(programme.id, "trial_voucher")
    assert "financial_statements" not in {m.code for m in items}
    pledge = next(m for m in items if m.label.en == "Work-safety pledge")
    assert pledge.required and pledge.formats == ("pdf",) and items[0].code == "business_licence"
    # Required ones first; the codes the forms and stored files use.
    assert [m.code for m in items if m.required][:3] == ["business_licence", "trial_plan", "quotation"]


def test_without_a_programme_the_checklist_is_the_guides_default():
    items = checklist_for(None, "loan_discount")
    assert [m.code for m in items if m.required] == ["business_licence", "loan_contract", "transformation_plan",
                                                     "interest_statement", "bank_account", "credit_declaration"]
    assert {"docx", "doc", "ofd"} <= set(next(m for m in items if m.code == "transformation_plan").formats)


# --- the loan and robot forms' checklist panel ---------------------------------------------------------------

@pytest.mark.parametrize("headers,words", [(EN, ("Materials", "Required", "Optional", "Business licence (copy)",
                                                  "Word (.docx)", "Excel (.xlsx)", "OFD")),
                                           (ZH, ("申报材料", "营业执照（副本）", "借款合同", "选交"))])
def test_the_loan_form_and_page_show_the_checklist_in_both_languages(client, login, sme, programme, headers, words):
    login(sme)
    form = client.get("/subsidies/loans/new", headers=headers).get_data(as_text=True)
    for code in LOAN_MATERIALS:
        assert f'type="file" multiple id="material_{code}"' in form
    app_id = _new_loan(client, programme)
    page = client.get(f"/subsidies/loans/{app_id}", headers=headers).get_data(as_text=True)
    for word in words:
        assert word in page, word
    assert f'action="/subsidies/loans/{app_id}/materials"' in page and 'id="materials"' in page


def test_submitting_without_materials_names_every_missing_one_at_once(client, login, sme, programme):
    login(sme)
    app_id = _new_loan(client, programme, with_materials=False)
    response = client.post(f"/subsidies/loans/{app_id}/submit", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("Business licence (copy)", "Loan contract", "The enterprise&#39;s bank account",
                 "Declaration of good faith"):
        assert name in html, name
    # The plan and the statement came with the form: not missing.
    assert "Digital-transformation plan;" not in html and "interest statement;" not in html
    assert fresh(LoanApplication, app_id).status == "draft"
    with pytest.raises(MaterialsMissing) as err:
        services.act(sme.actor(), "loan", app_id, "submit")
    assert [m.code for m in err.value.missing] == ["business_licence", "loan_contract", "bank_account",
                                                   "credit_declaration"]


def test_several_files_at_once_word_excel_ofd_and_removing_before_submission(client, login, sme, programme):
    login(sme)
    app_id = _new_robot(client, programme, with_materials=False)
    response = _upload(client, "robots", app_id, {
        "business_licence": [("licence.ofd", OFD)],
        "purchase_contract": [("contract.pdf", PDF)],
        "acceptance_report": [("report.pdf", PDF), ("photos.pdf", PDF)],
        "bank_account": [("account.pdf", PDF)],
        "credit_declaration": [("pledge.pdf", PDF)],
        "other": [("brochure.docx", DOCX), ("prices.xlsx", XLSX), ("old.doc", DOC), ("old.xls", XLS)]})
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    grouped = services.materials_by_code("robot", app_id)
    assert sorted(f.original_name for f in grouped["acceptance_report"]) == ["photos.pdf", "report.pdf"]
    assert grouped["business_licence"][0].content_type == "application/ofd"
    assert len(grouped["other"]) == 4 and len(grouped["vat_invoice"]) == 1  # the line's invoice counts
    removed = grouped["acceptance_report"][0]
    assert client.post(f"/subsidies/robots/{app_id}/files/{removed.id}/remove", headers=EN).status_code == 303
    assert [f.id for f in services.materials_by_code("robot", app_id)["acceptance_report"]] != [removed.id]
    actions = [e.action for e in events_for("robot_application", app_id)]
    assert actions.count("robot_application.attach") == 10 and "robot_application.detach" in actions
    # A line's invoice is replaced on its line, not removed from the panel.
    invoice = grouped["vat_invoice"][0]
    refused = client.post(f"/subsidies/robots/{app_id}/files/{invoice.id}/remove", headers=EN)
    assert refused.status_code == 409 and "robot line 1" in refused.get_data(as_text=True)
    assert client.post(f"/subsidies/robots/{app_id}/submit", headers=EN).status_code == 302
    # Once submitted, nothing is added or removed.
    assert _upload(client, "robots", app_id, {"other": [("late.pdf", PDF)]}).status_code == 409
    other = services.materials_by_code("robot", app_id)["other"][0]
    assert client.post(f"/subsidies/robots/{app_id}/files/{other.id}/remove", headers=EN).status_code == 409


def test_a_file_of_the_wrong_format_keeps_none_and_names_its_material(client, login, sme, programme):
    login(sme)
    app_id = _new_loan(client, programme, with_materials=False)
    response = _upload(client, "loans", app_id, {"loan_contract": [("contract.docx", DOCX)],
                                                  "business_licence": [("licence.pdf", PDF)]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="material_loan_contract-err"' in html
    assert "Only these formats are accepted here: PDF" in html
    assert "business_licence" not in services.materials_by_code("loan", app_id)
    # The same refusal on the application form: nothing is saved.
    before = db.session.query(LoanApplication).count()
    data = loan_form(programme, with_materials=False, contract_no="WZ-2025-0099")
    data["material_loan_contract"] = (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 100), "contract.pdf")
    r = client.post("/subsidies/loans/new", data=data, content_type="multipart/form-data", headers=EN)
    assert r.status_code == 422 and 'id="material_loan_contract-err"' in r.get_data(as_text=True)
    assert db.session.query(LoanApplication).count() == before


def test_after_a_return_the_sme_adds_and_replaces_materials(client, login, sme, officer, programme):
    login(sme)
    app_id = _new_loan(client, programme)
    assert client.post(f"/subsidies/loans/{app_id}/submit", headers=EN).status_code == 302
    login(officer)
    assert client.post(f"/subsidies/loans/{app_id}/return", data={"reason": "The licence scan is unreadable."},
                       headers=EN).status_code == 302
    login(sme)
    old = services.materials_by_code("loan", app_id)["business_licence"][0]
    page = client.get(f"/subsidies/loans/{app_id}", headers=EN).get_data(as_text=True)
    assert f'form="remove-file-{old.id}"' in page and f'action="/subsidies/loans/{app_id}/files/{old.id}/remove"' in page
    assert client.post(f"/subsidies/loans/{app_id}/files/{old.id}/remove", headers=EN).status_code == 303
    assert "Business licence (copy)" in client.post(f"/subsidies/loans/{app_id}/submit",
                                                    headers=EN).get_data(as_text=True)
    assert _upload(client, "loans", app_id, {"business_licence": [("licence-clear.pdf", PDF)],
                                             "other": [("note.docx", DOCX)]}).status_code == 303
    # The plan removed too (the form asks for it again, the submission names it), then replaced in the form.
    loan = fresh(LoanApplication, app_id)
    plan_id = loan.plan_file_id
    assert client.post(f"/subsidies/loans/{app_id}/files/{plan_id}/remove", headers=EN).status_code == 303
    assert fresh(LoanApplication, app_id).plan_file_id is None
    assert "Digital-transformation plan" in client.post(f"/subsidies/loans/{app_id}/submit",
                                                        headers=EN).get_data(as_text=True)
    data = loan_form(programme, with_materials=False, plan_file=pdf("plan-v2.pdf"), statement_file=None)
    assert client.post(f"/subsidies/loans/{app_id}/edit", data=data, content_type="multipart/form-data",
                       headers=EN).status_code == 302
    assert client.post(f"/subsidies/loans/{app_id}/submit", headers=EN).status_code == 302
    loan = fresh(LoanApplication, app_id)
    assert loan.status == "submitted" and loan.plan_file_id not in (None, plan_id)
    names = {f.original_name for files in services.materials_by_code("loan", app_id).values() for f in files}
    assert {"licence-clear.pdf", "note.docx", "plan-v2.pdf"} <= names and old.original_name not in names


# --- access: server-side, per object ----------------------------------------------------------------------------

def test_another_enterprise_may_not_download_add_or_remove_a_material(client, login, sme, other_sme, programme):
    login(sme)
    loan_id = _new_loan(client, programme)
    robot_id = _new_robot(client, programme)
    loan_file = services.materials_by_code("loan", loan_id)["business_licence"][0]
    robot_file = services.materials_by_code("robot", robot_id)["business_licence"][0]
    login(other_sme)
    for path, app_id, f in (("loans", loan_id, loan_file), ("robots", robot_id, robot_file)):
        assert client.get(f"/subsidies/{path}/{app_id}/files/{f.id}").status_code == 403
        assert client.post(f"/subsidies/{path}/{app_id}/files/{f.id}/remove").status_code == 403
        assert _upload(client, path, app_id, {"other": [("x.pdf", PDF)]}).status_code == 403
    kind_files = (("loan", loan_id, loan_file), ("robot", robot_id, robot_file))
    for kind, app_id, f in kind_files:
        with pytest.raises(Forbidden):
            services.remove_material(other_sme.actor(), kind, app_id, f.id)
        assert f.owner_type == services.KINDS[kind].source_type  # still attached
    # The owner downloads it; a file of one application is not found through another.
    login(sme)
    assert client.get(f"/subsidies/loans/{loan_id}/files/{loan_file.id}").status_code == 200
    assert client.post(f"/subsidies/loans/{loan_id}/files/{robot_file.id}/remove").status_code == 404


def test_attach_required_materials_covers_loan_and_robot(ctx, sme, programme):
    loan = services.save_loan_application(
        sme.actor(), services.LoanInput(programme.id, "Bank", "WZ-F-1", *_loan_figures()),
        plan=services.Upload(io.BytesIO(PDF), "p.pdf"), statement=services.Upload(io.BytesIO(PDF), "s.pdf"),
        max_bytes=10**7)
    rows = attach_required_materials(loan)
    assert {r.material for r in rows} == set(LOAN_MATERIALS) and all(r.owner_type == "loan_application" for r in rows)
    assert services.act(sme.actor(), "loan", loan.id, "submit").status == "submitted"


def _loan_figures():
    from datetime import date
    from decimal import Decimal

    return (date(2025, 12, 15), Decimal("8000000.00"), Decimal("2.40"), date(2025, 12, 20), date(2027, 12, 19),
            (services.PeriodInput(date(2026, 1, 1), date(2026, 4, 1), Decimal("8000000.00"), Decimal("48000.00")),))

