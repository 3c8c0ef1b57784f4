"""Editing an enterprise, the bureau's enterprise register, provider profiles, and who may see what."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.enterprises.conftest import counts, field_error, form_data
from tests.factories import valid_uscc
from voucher.audit.models import AuditEvent
from voucher.enterprises import services
from voucher.enterprises.models import Organisation
from voucher.errors import Forbidden
from voucher.extensions import db


def _events(action: str, object_id) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                            AuditEvent.object_id == str(object_id))
                                   .order_by(AuditEvent.id)))


def _edit_data(org, **overrides) -> dict:
    ent = org.enterprise
    data = {"name": org.name, "uscc": org.uscc, "district": ent.district, "industry": ent.industry,
            "employees": str(ent.employees), "annual_revenue": str(ent.annual_revenue),
            "industrial_park": ent.industrial_park or "", "contact_name": org.contact_name,
            "contact_phone": org.contact_phone, "bank_name": org.bank_name, "bank_account": org.bank_account,
            "bank_code": org.bank_code or ""}
    data.update(overrides)
    return data


# --- an SME edits its enterprise -------------------------------------------------------------------

def test_sme_edit_audits_exactly_the_changed_fields_and_rederives_the_size(ctx, make_org, make_user, login_en):
    org = make_org("enterprise", employees=120, annual_revenue=Decimal("15000000.00"), size_class="small")
    old_account = org.bank_account
    client = login_en(make_user("sme", organisation=org))
    edit_page = client.get("/enterprise/edit").get_data(as_text=True)
    assert f'value="{org.uscc}"' in edit_page and "Save changes" in edit_page
    response = client.post("/enterprise", data=_edit_data(org, employees="350", annual_revenue="25000000",
                                                          bank_account="6228 4800 1111 2222"))
    assert response.status_code == 302
    [event] = _events("enterprise.updated", org.id)
    assert set(event.before) == set(event.after) == {"employees", "annual_revenue", "size_class", "bank_account"}
    assert event.before["bank_account"] == old_account and event.after["bank_account"] == "6228480011112222"
    assert (event.before["size_class"], event.after["size_class"]) == ("small", "medium")
    assert (event.before["employees"], event.after["employees"]) == (120, 350)
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).enterprise.size_class == "medium"
    page = client.get("/enterprise").get_data(as_text=True)
    assert "Size class: Medium" in page and "6228480011112222" in page


def test_sme_edit_without_changes_writes_no_event(ctx, make_org, make_user, login_en):
    org = make_org("enterprise", employees=120, annual_revenue=Decimal("15000000.00"), size_class="small")
    client = login_en(make_user("sme", organisation=org))
    before = counts()
    response = client.post("/enterprise", data=_edit_data(org), follow_redirects=True)
    assert "Nothing was changed." in response.get_data(as_text=True)
    assert counts() == before


def test_sme_edit_to_another_registered_code_is_refused(ctx, make_org, make_user, login_en):
    org = make_org("enterprise")
    other = make_org("enterprise", name="别人家的公司")
    client = login_en(make_user("sme", organisation=org))
    before = counts()
    response = client.post("/enterprise", data=_edit_data(org, uscc=other.uscc))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "already registered" in field_error(page, "uscc") and "别人家的公司" not in page
    assert counts() == before


def test_sme_edit_with_negative_employees_is_refused_on_the_field(ctx, make_org, make_user, login_en):
    org = make_org("enterprise")
    client = login_en(make_user("sme", organisation=org))
    before = counts()
    response = client.post("/enterprise", data=_edit_data(org, employees="-1"))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "employees") == "Must be at least 0."
    assert counts() == before


def test_update_enterprise_service_refuses_another_organisation(ctx, make_org, make_user):
    mine, theirs = make_org("enterprise"), make_org("enterprise")
    user = make_user("sme", organisation=mine)
    data = services.enterprise_input_from(theirs)
    with pytest.raises(Forbidden):
        services.update_enterprise(user.actor(), theirs.id, data)


# --- reading enterprises ------------------------------------------------------------------------

def test_sme_cannot_see_another_enterprises_detail(ctx, make_org, make_user, login_en):
    mine, theirs = make_org("enterprise"), make_org("enterprise", name="隔壁企业")
    client = login_en(make_user("sme", organisation=mine))
    assert client.get(f"/enterprises/{mine.id}").status_code == 200
    response = client.get(f"/enterprises/{theirs.id}")
    assert response.status_code == 403
    assert "隔壁企业" not in response.get_data(as_text=True)
    assert client.get("/enterprises/").status_code == 403


@pytest.mark.parametrize("role", ["officer", "finance", "auditor"])
def test_bureau_roles_read_every_enterprise(ctx, make_org, make_user, login_en, role):
    org = make_org("enterprise", name="瓯海某企业")
    client = login_en(make_user(role))
    page = client.get(f"/enterprises/{org.id}").get_data(as_text=True)
    assert "瓯海某企业" in page and org.bank_account in page and "Size class" in page


@pytest.mark.parametrize("role", ["provider", "evaluator", "admin"])
def test_other_roles_cannot_read_enterprises(ctx, make_org, make_user, login_en, role):
    org = make_org("enterprise")
    client = login_en(make_user(role))
    assert client.get(f"/enterprises/{org.id}").status_code == 403
    assert client.get("/enterprises/").status_code == 403


def test_get_enterprise_service_refuses_a_provider(ctx, make_org, make_user):
    org = make_org("enterprise")
    with pytest.raises(Forbidden):
        services.get_enterprise(make_user("provider").actor(), org.id)


def test_enterprise_list_searches_filters_and_paginates(app, ctx, make_org, make_user, login_en):
    make_org("enterprise", name="龙湾泵阀甲", district="longwan", industry="pumps_valves")
    make_org("enterprise", name="龙湾服装乙", district="longwan", industry="clothing")
    big = make_org("enterprise", name="瑞安大厂丙", district="ruian", industry="auto_parts", employees=2000,
                   annual_revenue=Decimal("500000000"), size_class="large")
    client = login_en(make_user("officer"))
    page = client.get("/enterprises/", query_string={"q": "龙湾"}).get_data(as_text=True)
    assert "龙湾泵阀甲" in page and "龙湾服装乙" in page and "瑞安大厂丙" not in page
    page = client.get("/enterprises/", query_string={"q": big.uscc.lower()}).get_data(as_text=True)
    assert "瑞安大厂丙" in page and "龙湾泵阀甲" not in page
    page = client.get("/enterprises/", query_string={"district": "longwan", "industry": "clothing"}).get_data(as_text=True)
    assert "龙湾服装乙" in page and "龙湾泵阀甲" not in page
    page = client.get("/enterprises/", query_string={"size_class": "large"}).get_data(as_text=True)
    assert "瑞安大厂丙" in page and "龙湾泵阀甲" not in page
    per_page = app.config["PAGE_SIZE"]
    for i in range(per_page):
        make_org("enterprise", name=f"分页企业{i:02d}")
    first = client.get("/enterprises/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Next" in first
    second = client.get("/enterprises/", query_string={"page": 2}).get_data(as_text=True)
    assert "Page 2 of 2" in second


# --- provider profile ---------------------------------------------------------------------------

def _provider_data(org, **overrides) -> dict:
    data = {"name": org.name, "uscc": org.uscc, "description": org.description or "",
            "contact_name": org.contact_name, "contact_phone": org.contact_phone, "bank_name": org.bank_name,
            "bank_account": org.bank_account, "bank_code": org.bank_code or ""}
    data.update(overrides)
    return data


def test_provider_sees_its_profile_and_users_and_edits_with_audit(ctx, make_org, make_user, login_en):
    org = make_org("provider", name="温州智造云")
    user = make_user("provider", organisation=org)
    colleague = make_user("provider", organisation=org)
    old_account = org.bank_account
    client = login_en(user)
    page = client.get("/provider/profile").get_data(as_text=True)
    assert "温州智造云" in page and colleague.email in page and user.email in page
    response = client.post("/provider/profile", data=_provider_data(org, description="MES for small workshops",
                                                                    bank_account="6217000011112222"))
    assert response.status_code == 302
    [event] = _events("provider.profile_updated", org.id)
    assert set(event.after) == {"description", "bank_account"}
    assert event.before == {"description": None, "bank_account": old_account}
    assert event.after == {"description": "MES for small workshops", "bank_account": "6217000011112222"}


def test_provider_cannot_edit_another_providers_profile_by_passing_an_id(ctx, make_org, make_user, login_en):
    mine, theirs = make_org("provider", name="我方服务商"), make_org("provider", name="他方服务商")
    theirs_account = theirs.bank_account
    client = login_en(make_user("provider", organisation=mine))
    data = _provider_data(mine, bank_account="6217000099998888", organisation_id=str(theirs.id), id=str(theirs.id))
    response = client.post(f"/provider/profile?organisation_id={theirs.id}&id={theirs.id}", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, theirs.id).bank_account == theirs_account
    assert db.session.get(Organisation, mine.id).bank_account == "6217000099998888"
    page = client.get(f"/provider/profile?organisation_id={theirs.id}").get_data(as_text=True)
    assert "我方服务商" in page and "他方服务商" not in page
    assert client.get(f"/provider/profile/{theirs.id}").status_code == 404
    assert not _events("provider.profile_updated", theirs.id)


def test_provider_profile_bad_input_is_refused_on_the_field(ctx, make_org, make_user, login_en):
    org = make_org("provider")
    client = login_en(make_user("provider", organisation=org))
    before = counts()
    response = client.post("/provider/profile", data=_provider_data(org, uscc=valid_uscc(4300)[:-1] + "I"))
    assert response.status_code == 422
    assert "never used" in field_error(response.get_data(as_text=True), "uscc")
    assert counts() == before


@pytest.mark.parametrize("role", ["sme", "officer", "evaluator"])
def test_only_provider_users_have_a_provider_profile(ctx, make_user, login_en, role):
    client = login_en(make_user(role))
    assert client.get("/provider/profile").status_code == 403


def test_provider_dashboard_panel_asks_for_a_missing_description(ctx, make_org, make_user, login_en):
    org = make_org("provider")
    client = login_en(make_user("provider", organisation=org))
    page = client.get("/").get_data(as_text=True)
    assert "Complete your profile" in page and "/provider/profile" in page


def test_registration_form_data_fixture_is_valid(ctx, make_user, login_en):
    # Guards the other tests: the default form data registers (so a refusal there is the field's doing).
    client = login_en(make_user("sme"))
    assert client.post("/enterprise", data=form_data()).status_code == 302


def test_sme_linked_to_an_organisation_without_profile_completes_it(ctx, make_user, login_en):
    org = Organisation(kind="enterprise", name="待完善企业", uscc=valid_uscc(4400))
    db.session.add(org)
    db.session.flush()
    client = login_en(make_user("sme", organisation=org))
    page = client.get("/enterprise").get_data(as_text=True)
    assert 'value="待完善企业"' in page and "Save changes" in page
    response = client.post("/enterprise", data=form_data(name="待完善企业", uscc=org.uscc, employees="5",
                                                         annual_revenue="800000"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).enterprise.size_class == "micro"
    [event] = _events("enterprise.updated", org.id)
    assert event.before["size_class"] is None and event.after["size_class"] == "micro"


@pytest.mark.parametrize("code,saved", [("313333000017", "313333000017"), ("３１３３３３００００１７", "313333000017"),
                                        ("", None)])
def test_the_provider_enters_its_bank_code_of_12_digits(ctx, make_org, make_user, login_en, code, saved):
    org = make_org("provider", name="温州联行号测试")
    client = login_en(make_user("provider", organisation=org))
    response = client.post("/provider/profile", data=_provider_data(org, bank_code=code))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(org), org.id).bank_code == saved


def test_a_bank_code_that_is_not_12_digits_is_refused_on_the_form(ctx, make_org, make_user, login_en):
    org = make_org("provider", name="温州联行号测试二")
    old = org.bank_code
    client = login_en(make_user("provider", organisation=org))
    response = client.post("/provider/profile", data=_provider_data(org, bank_code="31333300001"))
    assert response.status_code == 422 and "12 digits" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(org), org.id).bank_code == old
