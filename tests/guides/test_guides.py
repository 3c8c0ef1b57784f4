"""The programme guide (办事指南): public in both languages, maintained by officers as versions
(each save a new version, audited), the materials checklist readable by other domains, the time
limits the very figures the deadlines count with, and linked from the pages enterprises start on."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import build_programme, do_login, set_rule_parameters
from voucher.audit.models import AuditEvent
from voucher.deadlines import payment_deadline, review_deadline
from voucher.errors import Conflict, Forbidden, ValidationFailed
from voucher.extensions import db
from voucher.guides import queries, services
from voucher.guides.defaults import default_content
from voucher.guides.forms import GuideForm
from voucher.guides.models import GuideMaterial, GuideVersion, ProgrammeGuide

EN = {"Accept-Language": "en"}
KINDS = ("trial_voucher", "loan_discount", "robot_subsidy")


@pytest.fixture()
def programme(db_conn):
    return build_programme()


def form_data(content, base_version: int, change_note: str = "") -> dict:
    """The edit form as a browser posts it (checkboxes only when ticked)."""
    form = GuideForm.for_content(content, base_version)
    data: dict[str, object] = {"base_version": str(base_version), "change_note": change_note}
    for name in ("eligibility_zh", "eligibility_en", "enterprise_pays_zh", "enterprise_pays_en", "contact_phone",
                 "contact_hours_zh", "contact_hours_en"):
        data[name] = getattr(form, name).data
    for rows in (form.materials, form.basis, form.faq):
        for entry in rows.entries:
            for f in entry.form:
                if f.type == "BooleanField":
                    if f.data:
                        data[f.name] = "y"
                elif f.type == "SelectMultipleField":
                    data[f.name] = list(f.data or [])
                else:
                    data[f.name] = f.data or ""
    return data


def _figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}" data-value="([^"]*)"', html).group(1)


# --- the public page ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_the_guide_is_public_in_chinese_and_in_english(client, programme, kind):
    zh = client.get(f"/guide/{programme.id}/{kind}")
    assert zh.status_code == 200
    page = zh.get_data(as_text=True)
    for heading in ("受理条件", "材料清单", "办理流程", "承诺时限", "设定依据", "企业自付", "咨询电话", "常见问题"):
        assert heading in page, heading
    assert "营业执照（副本）" in page and "工信部联企业〔2011〕300号" in page and "Business licence" not in page
    assert "公示" in page and "审核" in page
    en = client.get(f"/guide/{programme.id}/{kind}", headers=EN).get_data(as_text=True)
    for heading in ("Who is eligible", "Required materials", "How it is handled", "Time limits we commit to",
                    "Legal basis", "What the enterprise pays itself", "Enquiries", "Frequently asked questions"):
        assert heading in en, heading
    assert "Business licence (copy)" in en and "营业执照" not in en and "受理条件" not in en


def test_the_trial_voucher_steps_run_from_application_to_payment(client, programme):
    html = client.get(f"/guide/{programme.id}/trial_voucher", headers=EN).get_data(as_text=True)
    flow = html[html.index('class="guide-flow"'):html.index("</ol>", html.index('class="guide-flow"'))]
    steps = re.findall(r'<span class="step-name">([^<]+)</span>', flow)
    assert steps == ["Application", "Review", "Trial", "Evaluation", "Acceptance", "Public notice", "Disbursement"]
    zh = client.get(f"/guide/{programme.id}/trial_voucher").get_data(as_text=True)
    flow = zh[zh.index('class="guide-flow"'):zh.index("</ol>", zh.index('class="guide-flow"'))]
    assert re.findall(r'<span class="step-name">([^<]+)</span>', flow) == [
        "申请", "审核", "试用", "效果评价", "验收", "公示", "资金拨付"]
    loan = client.get(f"/guide/{programme.id}/loan_discount", headers=EN).get_data(as_text=True)
    flow = loan[loan.index('class="guide-flow"'):loan.index("</ol>", loan.index('class="guide-flow"'))]
    assert re.findall(r'<span class="step-name">([^<]+)</span>', flow) == [
        "Application", "Review", "Public notice", "Disbursement"]


def test_a_kind_the_programme_does_not_fund_has_no_guide(client, db_conn):
    programme = build_programme(funds_robot_subsidy=False)
    assert client.get(f"/guide/{programme.id}/robot_subsidy").status_code == 404
    assert client.get(f"/guide/{programme.id}/trial_voucher").status_code == 200
    assert client.get("/guide/999999/trial_voucher").status_code == 404
    assert client.get(f"/guide/{programme.id}/trial_voucher?version=abc").status_code == 404
    assert client.get(f"/guide/{programme.id}/trial_voucher?version=3").status_code == 404
    assert queries.required_materials(programme.id, "robot_subsidy") == []


# --- the time limits are the deadlines' figures ------------------------------------------------------

def test_the_time_limits_are_the_figures_the_deadlines_count_with(app, client, db_conn, monkeypatch):
    monkeypatch.setitem(app.config, "REVIEW_DEADLINE_WORKING_DAYS", 7)
    monkeypatch.setitem(app.config, "PAYMENT_DEADLINE_WORKING_DAYS", 4)
    programme = build_programme(publicity_working_days=6)
    html = client.get(f"/guide/{programme.id}/trial_voucher").get_data(as_text=True)
    with app.test_request_context():
        # The deadlines of a submission and of a payable item count these very numbers of days.
        review = review_deadline(date(2026, 3, 2), today=date(2026, 3, 2))
        payment = payment_deadline(date(2026, 3, 2), today=date(2026, 3, 2))
    assert int(_figure(html, "review_days")) == review.days == 7
    assert int(_figure(html, "payment_days")) == payment.days == 4
    assert int(_figure(html, "notice_days")) == programme.publicity_working_days == 6
    assert "7 个工作日内" in html and "公示期满后 4 个工作日内" in html
    # Change the parameter: the page follows (computed, not typed).
    set_rule_parameters(programme, publicity_working_days=8)
    db.session.flush()
    html = client.get(f"/guide/{programme.id}/loan_discount").get_data(as_text=True)
    assert int(_figure(html, "notice_days")) == 8


def test_the_support_figures_come_from_the_programme(client, db_conn):
    programme = build_programme(trial_cap_per_enterprise=Decimal("150000.00"), robot_domestic_rate=Decimal("16"))
    trial = client.get(f"/guide/{programme.id}/trial_voucher", headers=EN).get_data(as_text=True)
    assert "at most ¥150,000.00 per enterprise" in trial
    robot = client.get(f"/guide/{programme.id}/robot_subsidy", headers=EN).get_data(as_text=True)
    assert "16% for domestic-brand robots" in robot


# --- officers edit: versions and the audit trail ------------------------------------------------------

def test_an_officer_edit_makes_a_version_and_an_audit_event(client, make_user, programme):
    officer = make_user("officer")
    do_login(client, officer)
    assert client.get(f"/guide/{programme.id}/trial_voucher/edit").status_code == 200
    content = default_content(programme, "trial_voucher", "0577-88960000")
    data = form_data(content, 0, "首次发布")
    data["eligibility_zh"] += "\n新增条件：企业近三年无重大安全事故。"
    data["eligibility_en"] += "\nNew condition: no serious safety accident in the last three years."
    r = client.post(f"/guide/{programme.id}/trial_voucher/edit", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    guide = db.session.scalar(select(ProgrammeGuide).where(ProgrammeGuide.programme_id == programme.id))
    assert guide.current_version == 1
    v1 = db.session.scalar(select(GuideVersion).where(GuideVersion.guide_id == guide.id))
    assert v1.version == 1 and v1.saved_by == officer.id and v1.change_note == "首次发布"
    assert [m.code for m in v1.materials][:2] == ["business_licence", "trial_plan"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "programme_guide.saved"))
    assert event.actor_id == officer.id and event.object_id == str(guide.id)
    assert event.before is None and event.after["version"] == 1 and "新增条件" in event.after["eligibility_zh"]

    # A second save: version 2; version 1 stays readable as it was.
    data2 = form_data(queries.guide_page(programme, "trial_voucher").content, 1, "更改咨询电话")
    data2["contact_phone"] = "0577-88961234"
    assert client.post(f"/guide/{programme.id}/trial_voucher/edit", data=data2).status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgrammeGuide, guide.id).current_version == 2
    assert "0577-88961234" in client.get(f"/guide/{programme.id}/trial_voucher").get_data(as_text=True)
    old = client.get(f"/guide/{programme.id}/trial_voucher?version=1").get_data(as_text=True)
    assert "0577-88960000" in old and "0577-88961234" not in old and "已被新版本取代" in old
    versions = client.get(f"/guide/{programme.id}/trial_voucher/versions").get_data(as_text=True)
    assert 'data-version="2"' in versions and 'data-version="1"' in versions and "更改咨询电话" in versions
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "programme_guide.saved")
                                     .order_by(AuditEvent.id)))
    assert len(events) == 2
    assert events[1].before["version"] == 1 and events[1].before["contact_phone"] == "0577-88960000"
    assert events[1].after["contact_phone"] == "0577-88961234"

    # Saving the same content again makes no version and no event.
    data3 = form_data(queries.guide_page(programme, "trial_voucher").content, 2)
    r = client.post(f"/guide/{programme.id}/trial_voucher/edit", data=data3, follow_redirects=True)
    assert "内容没有变化" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(GuideVersion)) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "programme_guide.saved")) == 2


def test_a_stale_form_is_refused_with_a_message_not_saved_over(client, make_user, programme):
    officer = make_user("officer")
    services.save_guide(officer.actor(), programme.id, "loan_discount",
                        default_content(programme, "loan_discount"), base_version=0)
    do_login(client, officer)
    data = form_data(default_content(programme, "loan_discount"), 0)  # started before version 1
    data["contact_phone"] = "0577-1"
    r = client.post(f"/guide/{programme.id}/loan_discount/edit", data=data)
    assert r.status_code == 422
    assert "另一位经办人" in r.get_data(as_text=True)
    assert queries.guide_page(programme, "loan_discount").content.contact_phone == "12345"


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(eligibility_en=""), "请用英文填写受理条件。"),
    (lambda d: d.update(contact_phone="call us"), "请填写咨询电话"),
    (lambda d: d.pop("materials-0-formats"), "第 1 行：请至少勾选一种接受的格式"),
    (lambda d: d.update({"materials-1-name_en": ""}), "第 2 行：请填写材料的英文名称。"),
    (lambda d: d.update({"faq-0-answer_zh": ""}), "第 1 行：请填写中文回答。"),
    (lambda d: d.update(eligibility_zh="条" * 4001), "受理条件（中文）最多 4000 个字符（现为 4001 个）。"),
    (lambda d: [d.update({k: ""}) if not k.endswith("formats") else d.pop(k) for k in list(d)
                if k.startswith("materials-")], "请至少列出一项材料。"),
])
def test_bad_input_is_refused_naming_the_field_and_the_limit(client, make_user, programme, change, message):
    do_login(client, make_user("officer"))
    data = form_data(default_content(programme, "trial_voucher"), 0)
    change(data)
    r = client.post(f"/guide/{programme.id}/trial_voucher/edit", data=data)
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(GuideVersion)) == 0


def test_a_blank_row_is_dropped_and_a_new_material_gets_a_code(client, make_user, programme):
    officer = make_user("officer")
    do_login(client, officer)
    data = form_data(default_content(programme, "robot_subsidy"), 0)
    n = max(int(k.split("-")[1]) for k in data if k.startswith("materials-")) + 1
    data.update({f"materials-{n}-name_zh": "安装现场照片", f"materials-{n}-name_en": "Photos of the installation",
                 f"materials-{n}-formats": ["jpeg", "png"], f"materials-{n}-code": ""})
    data.update({"materials-0-name_zh": "", "materials-0-name_en": "", "materials-0-note_zh": "",
                 "materials-0-note_en": ""})  # the licence row emptied: removed
    assert client.post(f"/guide/{programme.id}/robot_subsidy/edit", data=data).status_code == 302
    rows = queries.required_materials(programme.id, "robot_subsidy")
    assert "business_licence" not in [r.code for r in rows]
    last = rows[-1]
    assert (last.code, last.name_en, last.required, last.formats) == ("material_1", "Photos of the installation",
                                                                      False, ("jpeg", "png"))
    assert last.mime_types == ("image/jpeg", "image/png")


# --- only officers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "finance", "auditor", "admin"])
def test_only_officers_edit_a_guide(client, make_user, programme, role):
    user = make_user(role)
    do_login(client, user)
    url = f"/guide/{programme.id}/trial_voucher/edit"
    assert client.get(url).status_code == 403
    assert client.post(url, data=form_data(default_content(programme, "trial_voucher"), 0)).status_code == 403
    assert "/edit" not in client.get(f"/guide/{programme.id}/trial_voucher").get_data(as_text=True)
    with pytest.raises(Forbidden):
        services.save_guide(user.actor(), programme.id, "trial_voucher", default_content(programme, "trial_voucher"),
                            base_version=0)
    assert db.session.scalar(select(func.count()).select_from(GuideVersion)) == 0


def test_a_visitor_is_sent_to_log_in_to_edit(client, programme):
    r = client.get(f"/guide/{programme.id}/trial_voucher/edit")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_service_checks_what_it_saves(ctx, make_user, programme):
    actor = make_user("officer").actor()
    content = default_content(programme, "trial_voucher")
    from dataclasses import replace

    with pytest.raises(ValidationFailed) as err:
        services.save_guide(actor, programme.id, "trial_voucher",
                            replace(content, materials=tuple(replace(m, required=False) for m in content.materials)),
                            base_version=0)
    assert err.value.field == "materials"
    services.save_guide(actor, programme.id, "trial_voucher", content, base_version=0)
    with pytest.raises(Conflict):
        services.save_guide(actor, programme.id, "trial_voucher", replace(content, contact_phone="110"),
                            base_version=0)


# --- the checklist other domains read ----------------------------------------------------------------

def test_required_materials_gives_the_checklist_in_force(ctx, make_user, programme):
    rows = queries.required_materials(programme.id, "loan_discount")  # no version yet: the defaults
    assert [r.code for r in rows] == ["business_licence", "loan_contract", "transformation_plan",
                                      "interest_statement", "bank_account", "credit_declaration", "other"]
    assert all(r.required for r in rows[:-1]) and not rows[-1].required
    assert rows[1].formats == ("pdf",) and rows[1].name_zh == "借款合同"
    assert rows[3].formats == ("pdf", "ofd", "jpeg", "png", "xlsx", "xls")  # Excel and OFD besides PDF/JPEG/PNG
    assert [r.position for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    trial = queries.required_materials(programme.id, "trial_voucher")
    assert [r.code for r in trial if not r.required] == ["baseline_evidence", "park_certificate", "other"]

    from dataclasses import replace

    content = default_content(programme, "loan_discount")
    changed = replace(content, materials=content.materials[:2] + (replace(content.materials[2], required=False),))
    services.save_guide(make_user("officer").actor(), programme.id, "loan_discount", changed, base_version=0)
    rows = queries.required_materials(programme.id, "loan_discount")
    assert [(r.code, r.required) for r in rows] == [("business_licence", True), ("loan_contract", True),
                                                    ("transformation_plan", False)]
    assert db.session.scalar(select(func.count()).select_from(GuideMaterial)) == 3


# --- the links -----------------------------------------------------------------------------------------

def test_the_landing_page_links_every_guide_and_the_notices(client, programme):
    html = client.get("/").get_data(as_text=True)
    for kind in KINDS:
        assert f'href="/guide/{kind}"' in html
    assert 'href="/notices"' in html
    r = client.get("/guide/trial_voucher")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/guide/{programme.id}/trial_voucher")
    index = client.get("/guide/").get_data(as_text=True)
    assert f'href="/guide/{programme.id}/robot_subsidy"' in index


def test_the_catalogue_links_the_trial_voucher_guide(client, programme):
    html = client.get("/catalogue/").get_data(as_text=True)
    assert 'data-guide-link="trial_voucher" href="/guide/trial_voucher"' in html


@pytest.mark.parametrize("role", ["sme", "provider", "evaluator", "officer", "finance", "auditor", "admin"])
def test_the_menu_has_the_guides_and_the_public_notices(client, make_user, role):
    do_login(client, make_user(role))
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'class="(nav-link|dropdown-item)[^"]*" (aria-current="page" )?href="/guide/"', html)
    notices = "/payments/notices" if role in ("officer", "finance", "auditor") else "/notices"
    assert re.search(rf'class="(nav-link|dropdown-item)[^"]*" (aria-current="page" )?href="{notices}"', html), notices


def test_every_application_form_links_its_guide(client, make_org, make_user, programme):
    from tests.applications.conftest import build_solution

    sme = make_user("sme", make_org("enterprise", industry="pumps_valves"))
    solution = build_solution(make_org("provider"))
    do_login(client, sme)
    trial = client.get(f"/applications/new?solution_id={solution.id}").get_data(as_text=True)
    assert 'data-guide-link="trial_voucher"' in trial
    loan = client.get("/subsidies/loans/new").get_data(as_text=True)
    assert 'data-guide-link="loan_discount" href="/guide/loan_discount"' in loan
    robot = client.get("/subsidies/robots/new").get_data(as_text=True)
    assert 'data-guide-link="robot_subsidy" href="/guide/robot_subsidy"' in robot
