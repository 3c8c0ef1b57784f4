"""Enterprise registration by an SME user: credit code, derived size class, audit, refusals."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.enterprises.conftest import counts, field_error, form_data
from tests.factories import valid_uscc
from voucher.audit.models import AuditEvent
from voucher.auth.models import User
from voucher.enterprises import services
from voucher.enterprises.models import Organisation
from voucher.errors import Duplicate, ValidationFailed
from voucher.extensions import db


def _register(client, **overrides):
    return client.post("/enterprise", data=form_data(**overrides))


def _org_by_uscc(code: str) -> Organisation | None:
    db.session.expire_all()
    return db.session.scalar(select(Organisation).where(Organisation.uscc == code))


# --- the credit code ------------------------------------------------------------------------

def test_valid_uscc_registers_enterprise_links_user_and_audits(ctx, make_user, login_en):
    user = make_user("sme")
    client = login_en(user)
    code = valid_uscc(4242)
    before = counts()
    response = _register(client, uscc=code)
    assert response.status_code == 302
    org = _org_by_uscc(code)
    assert org is not None and org.kind == "enterprise" and org.enterprise.size_class == "small"
    assert org.bank_account == "6222000012345678"  # spaces dropped
    assert db.session.get(User, user.id).organisation_id == org.id
    after = counts()
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > 0)
                                     .order_by(AuditEvent.id.desc()).limit(2)))
    assert actions == {"enterprise.registered", "user.organisation_linked"}
    page = client.get("/enterprise").get_data(as_text=True)
    assert "Size class: Small" in page and org.name in page


def test_uscc_with_bad_check_digit_is_refused_on_the_field(ctx, make_user, login_en):
    client = login_en(make_user("sme"))
    good = valid_uscc(4243)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = counts()
    response = _register(client, uscc=bad)
    assert response.status_code == 422
    assert "check digit" in field_error(response.get_data(as_text=True), "uscc")
    assert counts() == before


def test_uscc_of_wrong_length_is_refused_with_the_length(ctx, make_user, login_en):
    client = login_en(make_user("sme"))
    before = counts()
    response = _register(client, uscc=valid_uscc(4244)[:17])
    assert response.status_code == 422
    message = field_error(response.get_data(as_text=True), "uscc")
    assert "exactly 18 characters" in message and "17" in message
    assert counts() == before


def test_lowercase_uscc_with_spaces_is_normalised_and_accepted(ctx, make_user, login_en):
    client = login_en(make_user("sme"))
    code = valid_uscc(4245)  # contains the letters "MA"
    typed = " " + code[:6].lower() + " " + code[6:12].lower() + "-" + code[12:].lower() + " "
    response = _register(client, uscc=typed)
    assert response.status_code == 302
    org = _org_by_uscc(code)
    assert org is not None and org.uscc == code and org.uscc.isupper()


def test_normalise_uscc_service_rules(ctx):
    code = valid_uscc(4246)
    assert services.normalise_uscc(code.lower()) == code
    for bad in ("", "123", code[:-1] + "I", "A" + code[1:]):
        with pytest.raises(ValidationFailed) as err:
            services.normalise_uscc(bad)
        assert err.value.field == "uscc"


def test_a_uscc_spelled_with_full_width_or_invisible_characters_is_the_same_code(ctx):
    code = valid_uscc(4247)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    for spelled in (full_width, code[:8] + "\u200b" + code[8:], code[:6] + "\u00a0" + code[6:].lower(),
                    code[:8] + "\u2013" + code[8:]):
        assert services.normalise_uscc(spelled) == code


def test_duplicate_uscc_is_refused_without_revealing_the_other_company(ctx, make_org, make_user, login_en):
    other = make_org("enterprise", name="瓯海秘密鞋业有限公司")
    client = login_en(make_user("sme"))
    before = counts()
    response = _register(client, uscc=other.uscc.lower(), name="我的公司")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = field_error(page, "uscc")
    assert "already registered" in message and "contact the bureau" in message
    for secret in (other.name, other.bank_account, other.contact_phone):
        assert secret not in page
    assert counts() == before


def test_duplicate_uscc_message_is_translated_into_chinese(ctx, make_org, make_user, login):
    other = make_org("enterprise")
    client = login(make_user("sme"))
    response = _register(client, uscc=other.uscc)
    assert response.status_code == 422
    assert "已被注册" in field_error(response.get_data(as_text=True), "uscc")


def test_a_user_with_an_enterprise_cannot_register_a_second(ctx, make_org, make_user):
    org = make_org("enterprise")
    user = make_user("sme", organisation=org)
    data = services.EnterpriseInput(name="Second", uscc=valid_uscc(4247), district="lucheng", industry="clothing",
                                    employees=5, annual_revenue=Decimal("100000"), industrial_park=None,
                                    contact_name="A", contact_phone="0577-1234567", bank_name="B",
                                    bank_account="62220000111122")
    with pytest.raises(Duplicate):
        services.register_enterprise(user.actor(), data)


# --- the size class ---------------------------------------------------------------------------

@pytest.mark.parametrize(("employees", "revenue", "expected", "label"), [
    ("19", "3000000", "micro", "Micro"),
    ("20", "3000000", "small", "Small"),
    ("20", "2999999.99", "micro", "Micro"),
    ("20", "3,000,000.00", "small", "Small"),
    ("999", "400000000", "medium", "Medium"),
    ("1000", "400000000", "large", "Large"),
])
def test_size_class_is_derived_at_each_boundary_and_shown(ctx, make_user, login_en, employees, revenue, expected,
                                                         label):
    client = login_en(make_user("sme"))
    code = valid_uscc(int(employees) * 10 + len(revenue))
    response = _register(client, uscc=code, employees=employees, annual_revenue=revenue,
                         size_class="micro")  # a typed size class is ignored
    assert response.status_code == 302
    assert _org_by_uscc(code).enterprise.size_class == expected
    page = client.get("/enterprise").get_data(as_text=True)
    assert f"Size class: {label}" in page


@pytest.mark.parametrize(("employees", "revenue", "label"), [
    ("19", "3000000", "Micro"), ("20", "3000000", "Small"), ("20", "2999999.99", "Micro"),
    ("999", "400000000", "Medium"), ("1000", "400000000", "Large"),
])
def test_size_preview_on_the_form_page_follows_the_rule(ctx, make_user, login_en, employees, revenue, label):
    client = login_en(make_user("sme"))
    page = client.get("/enterprise/size-preview",
                      query_string={"employees": employees, "annual_revenue": revenue}).get_data(as_text=True)
    assert f"Size class: {label}" in page
    assert ("cannot apply" in page) is (label == "Large")


def test_large_enterprise_may_register_but_is_told_it_cannot_apply(ctx, make_user, login_en):
    client = login_en(make_user("sme"))
    code = valid_uscc(4248)
    response = _register(client, uscc=code, employees="1000", annual_revenue="400000000")
    assert response.status_code == 302
    page = client.get("/enterprise").get_data(as_text=True)
    assert "Your enterprise cannot apply." in page
    assert "Only small, medium and micro enterprises may apply" in page
    home = client.get("/").get_data(as_text=True)
    assert "Large enterprises cannot apply" in home


def test_registration_form_re_rendered_with_bad_figures_previews_nothing_and_saves_nothing(ctx, make_user, login_en):
    client = login_en(make_user("sme"))
    before = counts()
    response = _register(client, employees="-5")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "employees") == "Must be at least 0."
    assert counts() == before


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("employees", "-5", "Must be at least 0."),
    ("employees", "12.5", "Enter a whole number."),
    ("annual_revenue", "abc", "Enter an amount in yuan"),
    ("annual_revenue", "-1", "Must be at least"),
    ("district", "atlantis", "Not a valid choice"),
    ("contact_phone", "call me", "Enter a phone number"),
    ("bank_account", "12-AB", "8 to 32 digits"),
    ("name", "", "This field is required."),
])
def test_bad_enterprise_input_gets_a_message_on_its_field_and_saves_nothing(ctx, make_user, login_en, field, value,
                                                                           expected):
    client = login_en(make_user("sme"))
    before = counts()
    response = _register(client, **{field: value})
    assert response.status_code == 422
    message = field_error(response.get_data(as_text=True), field)
    assert message is not None and expected in message
    assert counts() == before


# --- the start page ---------------------------------------------------------------------------

def test_dashboard_tells_an_sme_without_enterprise_to_register(ctx, make_user, login_en):
    client = login_en(make_user("sme"))
    page = client.get("/").get_data(as_text=True)
    assert "Next step: register your enterprise" in page
    assert 'href="/enterprise"' in page
    form_page = client.get("/enterprise").get_data(as_text=True)
    assert "Register the enterprise" in form_page and 'name="uscc"' in form_page


def test_dashboard_shows_the_enterprise_and_its_size_class(ctx, make_org, make_user, login_en):
    org = make_org("enterprise", name="鹿城小微鞋厂", employees=10, annual_revenue=Decimal("500000"),
                   size_class="micro")
    client = login_en(make_user("sme", organisation=org))
    page = client.get("/").get_data(as_text=True)
    assert "鹿城小微鞋厂" in page and "Micro" in page
    assert "register your enterprise" not in page
