"""Issue #16 parts 2 and 5: the materials checklist (several files per material, Word/Excel/OFD by
content, refusal naming what is missing, replacing after a return) and input as people write it
(amounts and rates in many spellings, every error in one round, the industry warning)."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.applications.test_pages import PDF, _apps, _form
from tests.factories import attach_required_materials, valid_uscc
from voucher.applications import services
from voucher.audit.queries import events_for
from voucher.extensions import db
from voucher.materials import checklist_for
from voucher.numbers import NumberError, parse_number
from voucher.storage import detect_format

# --- parsing --------------------------------------------------------------------------------------

ACCEPTED = [
    ("3500万", "money", "35000000.00"), ("800万元", "money", "8000000.00"), ("1.5亿", "money", "150000000.00"),
    ("３５００", "money", "3500.00"), ("１２３", "money", "123.00"), ("1,234,567.89", "money", "1234567.89"),
    ("¥1,000", "money", "1000.00"), ("￥２，０００．５０", "money", "2000.50"), (" 150000 ", "money", "150000.00"),
    ("150000.5", "money", "150000.50"), ("0.01万", "money", "100.00"), ("1.2345万", "money", "12345.00"),
    ("3500万 元", "money", "35000000.00"), ("-5", "money", "-5.00"), ("-0", "money", "0.00"),
    ("3.2%", "rate", "3.20"), ("３．２％", "rate", "3.20"), ("2.40", "rate", "2.40"), (".5", "rate", "0.50"),
]
REFUSED = [
    ("1e9", "money", "format"), ("1E9", "money", "format"), ("∞", "money", "format"), ("NaN", "money", "format"),
    ("Infinity", "money", "format"), ("3,50", "money", "format"), ("1,23,456", "money", "format"),
    ("万万", "money", "format"), ("3万万", "money", "format"), ("万", "money", "format"), ("²", "money", "format"),
    ("٣", "money", "format"), ("1.2.3", "money", "format"), ("0x10", "money", "format"), ("--5", "money", "format"),
    ("1.234", "money", "decimals"), ("1.2345678万", "money", "decimals"), ("9" * 30, "money", "too_long"),
    ("1" + "0" * 50, "money", "too_long"), ("3.2万", "rate", "format"), ("3.2%%", "rate", "format"),
    ("3.2%", "money", "format"), ("1/2", "money", "format"), ("３５００万亿", "money", "format"),
]


@pytest.mark.parametrize("raw,kind,expected", ACCEPTED)
def test_amounts_and_rates_as_people_write_them_are_read_exactly(raw, kind, expected):
    parsed = parse_number(raw, kind=kind)
    assert parsed.value == Decimal(expected) and str(parsed.value) == expected


@pytest.mark.parametrize("raw,kind,code", REFUSED)
def test_odd_spellings_and_attacks_are_refused_with_a_reason(raw, kind, code):
    with pytest.raises(NumberError) as err:
        parse_number(raw, kind=kind)
    assert err.value.code == code


def test_empty_is_none():
    assert parse_number("  ", kind="money") is None and parse_number(None) is None


@pytest.fixture()
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _field_error(html: str, name: str) -> str | None:
    m = re.search(rf'id="{name}-err">([^<]*)<', html)
    return m.group(1) if m else None


def test_the_form_takes_wan_and_shows_back_what_it_understood(en, login, sme, programme, solution):
    login(sme)
    # Refused for another field (a date before today): the amount is shown back on the re-render.
    yesterday = (services.local_today() - timedelta(days=1)).isoformat()
    html = en.post(f"/applications/new?solution_id={solution.id}",
                   data=_form(solution, programme, amount="１０万", contract_date=yesterday)).get_data(as_text=True)
    assert "= ¥100,000.00" in html
    assert 'inputmode="decimal"' in html and 'data-amount="money"' in html
    assert "js/amounts.js" in html
    response = en.post(f"/applications/new?solution_id={solution.id}", data=_form(solution, programme, amount="10万"))
    assert response.status_code == 303
    assert _apps(sme.organisation_id)[0].requested_amount == Decimal("100000.00")


@pytest.mark.parametrize("amount,message", [
    ("9" * 30, "Must be at most ¥999,999,999,999.99."),
    ("1e9", "Enter an amount in yuan such as 150000"),
    ("NaN", "Enter an amount in yuan such as 150000"),
    ("万万", "Enter an amount in yuan such as 150000"),
    ("3,50", "Enter an amount in yuan such as 150000"),
    ("-100", "Must be more than ¥0.00."),
    ("99999999999999", "Must be at most ¥999,999,999,999.99."),
])
def test_huge_and_odd_amounts_give_a_message_on_the_field_never_500(en, login, sme, programme, solution, amount,
                                                                     message):
    login(sme)
    response = en.post(f"/applications/new?solution_id={solution.id}", data=_form(solution, programme, amount=amount))
    assert response.status_code == 422
    assert message in (_field_error(response.get_data(as_text=True), "requested_amount") or "")


def test_every_field_error_of_the_trial_form_in_one_round(en, login, sme, programme, solution):
    login(sme)
    yesterday = (services.local_today() - timedelta(days=1)).isoformat()
    response = en.post(f"/applications/new?solution_id={solution.id}", data=_form(
        solution, programme, amount="abc", contract_date=yesterday, need_statement="",
        baseline_production_efficiency="1e5", baseline_defect_rate=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in ("requested_amount", "contract_date", "need_statement", "baseline_production_efficiency"):
        assert _field_error(html, name), name
    assert "Please correct the" in html


def test_over_the_price_is_reported_with_the_other_field_errors(en, login, sme, programme, solution):
    """The amount parses but is above the trial price (a service rule): it is shown with the date error."""
    login(sme)
    yesterday = (services.local_today() - timedelta(days=1)).isoformat()
    html = en.post(f"/applications/new?solution_id={solution.id}", data=_form(
        solution, programme, amount="900000", contract_date=yesterday)).get_data(as_text=True)
    assert "above the solution" in (_field_error(html, "requested_amount") or "")
    assert "before the submission date" in (_field_error(html, "contract_date") or "")


def test_enterprise_registration_reports_revenue_and_uscc_check_digit_together(client, login, make_user):
    from tests.enterprises.conftest import form_data

    login(make_user("sme"))
    good = valid_uscc(9001)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.post("/enterprise", data=form_data(uscc=bad_check, annual_revenue="lots", employees="x",
                                                       contact_phone="abc")).get_data(as_text=True)
    assert "check digit" in (_field_error(html, "uscc") or "")
    assert _field_error(html, "annual_revenue") and _field_error(html, "employees")
    assert _field_error(html, "contact_phone")


def test_enterprise_revenue_in_wan(client, login, make_user):
    from tests.enterprises.conftest import form_data
    from voucher.enterprises.models import Enterprise

    login(make_user("sme"))
    response = client.post("/enterprise", data=form_data(annual_revenue="１，５００万元"))
    assert response.status_code == 302
    assert db.session.query(Enterprise).one().annual_revenue == Decimal("15000000.00")


def test_industry_mismatch_is_a_warning_not_a_refusal(en, login, sme, programme, make_solution):
    other = make_solution()
    other.target_industries = ["clothing"]
    db.session.flush()
    login(sme)
    html = en.get(f"/applications/new?solution_id={other.id}").get_data(as_text=True)
    assert 'id="industry-warning"' in html and "not among the industries" in html
    assert en.post(f"/applications/new?solution_id={other.id}", data=_form(other, programme)).status_code == 303


def test_no_warning_when_the_industry_matches(en, login, sme, programme, solution):
    login(sme)
    assert 'id="industry-warning"' not in en.get(f"/applications/new?solution_id={solution.id}").get_data(as_text=True)


# --- materials ------------------------------------------------------------------------------------

def _zip(names) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in names:
            # A fixed time: the bytes are test ids, and every xdist worker must build the same ones.
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), "<x/>")
    return buf.getvalue()


DOCX = _zip(["[Content_Types].xml", "word/document.xml"])
XLSX = _zip(["[Content_Types].xml", "xl/workbook.xml"])
OFD = _zip(["OFD.xml", "Doc_0/Document.xml"])
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500
DOC = OLE + "WordDocument".encode("utf-16-le") + b"\x00" * 100
XLS = OLE + "Workbook".encode("utf-16-le") + b"\x00" * 100


@pytest.mark.parametrize("data,fmt", [(PDF, "pdf"), (DOCX, "docx"), (XLSX, "xlsx"), (OFD, "ofd"), (DOC, "doc"),
                                      (XLS, "xls"), (_zip(["a.txt"]), None), (OLE, None), (b"PK\x03\x04junk", None),
                                      (b"MZ\x90\x00", None), (b"<html>", None)])
def test_formats_are_told_by_content(data, fmt):
    assert detect_format(data) == fmt


def _post_materials(client, app_id, files: dict):
    data = {}
    for code, items in files.items():
        data[f"material_{code}"] = [(io.BytesIO(content), name) for name, content in items]
    return client.post(f"/applications/{app_id}/attachments", data=data, content_type="multipart/form-data")


def test_form_shows_the_checklist_with_formats_and_multiple_inputs(en, login, sme, programme, solution):
    login(sme)
    html = en.get(f"/applications/new?solution_id={solution.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    with en.application.test_request_context(headers={"Accept-Language": "en"}):
        labels = [(item.code, str(item.label)) for item in checklist_for(programme.id, "trial_voucher")]
    for code, label in labels:
        assert label.replace("'", "&#39;") in html or label.replace("'", "&#x27;") in html or label in html
        assert re.search(rf'type="file" multiple id="material_{code}"', html)
    assert "Word (.docx)" in html and "OFD" in html and "Required" in html and "Optional" in html


def test_submit_without_required_materials_is_refused_naming_each_missing_one(en, login, sme, file_application):
    application = file_application(sme, submit=False)
    login(sme)
    response = en.post(f"/applications/{application.id}/submit", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Some required materials are missing" in html
    for name in ("Business licence (copy)", "Digital-transformation need and trial plan",
                 "Provider&#39;s quotation or draft service contract",
                 "Last year&#39;s financial statements or tax certificate", "Declaration of good faith"):
        assert name in html
    db.session.refresh(application)
    assert application.status == "draft"
    # Only the plan is still missing: the message names only it.
    _post_materials(en, application.id, {"business_licence": [("licence.pdf", PDF)],
                                         "quotation": [("quote.xlsx", XLSX)],
                                         "financial_statements": [("accounts.xlsx", XLSX)],
                                         "credit_declaration": [("pledge.pdf", PDF)]})
    html = en.post(f"/applications/{application.id}/submit").get_data(as_text=True)
    assert "Digital-transformation need and trial plan" in html and "Business licence (copy);" not in html
    assert "Declaration of good faith;" not in html and "Declaration of good faith. Attach" not in html


def test_several_files_per_material_at_once_in_word_excel_and_ofd(app, en, login, sme, file_application):
    application = file_application(sme, submit=False)
    login(sme)
    response = _post_materials(en, application.id, {
        "business_licence": [("licence.ofd", OFD)],
        "trial_plan": [("plan.docx", DOCX), ("plan-annex.doc", DOC)],
        "quotation": [("quote.pdf", PDF), ("prices.xlsx", XLSX)],
        "baseline_evidence": [("records.xls", XLS)],
        "financial_statements": [("accounts.xls", XLS)],
        "credit_declaration": [("pledge.pdf", PDF)]})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    grouped = services.materials_by_code(application.id)
    assert sorted(f.original_name for f in grouped["trial_plan"]) == ["plan-annex.doc", "plan.docx"]
    assert {f.content_type for f in grouped["quotation"]} == {
        "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert grouped["business_licence"][0].content_type == "application/ofd"
    assert len(events_for("trial_application", application.id)) >= 8
    assert en.post(f"/applications/{application.id}/submit").status_code == 303


def test_one_refused_file_keeps_none_and_names_its_material(app, en, login, sme, file_application):
    application = file_application(sme, submit=False)
    login(sme)
    response = _post_materials(en, application.id, {"business_licence": [("licence.pdf", PDF), ("licence.docx", DOCX)],
                                                    "trial_plan": [("plan.pdf", PDF)]})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Only these formats are accepted here: PDF, OFD, JPEG, PNG" in (_field_error(html, "material_business_licence")
                                                                           or "")
    assert services.attachments(application.id) == []


def test_a_renamed_executable_is_refused_whatever_its_name(en, login, sme, file_application):
    application = file_application(sme, submit=False)
    login(sme)
    response = _post_materials(en, application.id, {"other": [("report.docx", b"MZ\x90\x00" + b"\x00" * 100)]})
    assert response.status_code == 422 and services.attachments(application.id) == []


def test_files_on_the_new_application_form_are_kept_with_the_draft(en, login, sme, programme, solution):
    login(sme)
    data = _form(solution, programme)
    data["material_business_licence"] = [(io.BytesIO(PDF), "licence.pdf"), (io.BytesIO(PDF), "licence-2.pdf")]
    response = en.post(f"/applications/new?solution_id={solution.id}", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    app = _apps(sme.organisation_id)[0]
    assert len(services.materials_by_code(app.id)["business_licence"]) == 2


def test_after_a_return_the_sme_replaces_a_material_audited(en, login, sme, officer, file_application):
    application = file_application(sme)  # submitted with the required materials
    services.return_for_revision(officer.actor(), application.id, "The licence scan is unreadable.")
    login(sme)
    old = services.materials_by_code(application.id)["business_licence"][0]
    page = en.get(f"/applications/{application.id}").get_data(as_text=True)
    assert f'form="remove-file-{old.id}"' in page
    assert en.post(f"/applications/{application.id}/attachments/{old.id}/remove").status_code == 303
    assert "business_licence" not in services.materials_by_code(application.id)
    assert "Business licence" in en.post(f"/applications/{application.id}/submit").get_data(as_text=True)
    assert _post_materials(en, application.id, {"business_licence": [("licence-clear.pdf", PDF)]}).status_code == 303
    assert en.post(f"/applications/{application.id}/submit").status_code == 303
    db.session.refresh(application)
    assert application.status == "submitted"
    actions = [(e.action, (e.before or {}).get("name"), (e.after or {}).get("name"))
               for e in events_for("trial_application", application.id)]
    assert ("trial_application.detach", old.original_name, None) in actions
    assert ("trial_application.attach", None, "licence-clear.pdf") in actions
    # Once submitted, nothing can be removed.
    new = services.materials_by_code(application.id)["business_licence"][0]
    assert en.post(f"/applications/{application.id}/attachments/{new.id}/remove").status_code == 422


def test_another_enterprise_cannot_remove_a_file(en, login, sme, make_org, make_user, file_application):
    application = file_application(sme, submit=False)
    attach_required_materials(application)
    stored = services.attachments(application.id)[0]
    login(make_user("sme", make_org("enterprise")))
    assert en.post(f"/applications/{application.id}/attachments/{stored.id}/remove").status_code == 403


@pytest.mark.parametrize("field", ["need_statement", "requested_amount", "contract_date"])
def test_a_nul_in_an_application_form_field_is_named_on_the_field_and_nothing_is_saved(en, login, sme, programme,
                                                                                      solution, field):
    login(sme)
    data = _form(solution, programme)
    data[field] = data[field][:3] + "\x00" + data[field][3:]
    response = en.post(f"/applications/new?solution_id={solution.id}", data=data)
    assert response.status_code == 422
    assert "contains a character that is not allowed (NUL)" in (_field_error(response.get_data(as_text=True), field)
                                                                or "")
    assert _apps(sme.organisation_id) == []
