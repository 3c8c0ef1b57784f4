"""A NUL byte in a web form or a query string (PostgreSQL text cannot hold one) is a validation failure
like any other: the form page again with 422 and the message on the field naming it, nothing saved; a
list's search parameter with one is a 422 naming the parameter, never the 400 "missing or expired form
token" page nor a 500."""
from __future__ import annotations

import pytest

from tests.enterprises.conftest import counts, field_error, form_data

NUL = "contains a character that is not allowed (NUL)"


@pytest.mark.parametrize("field", ["contact_name", "name", "bank_account", "employees", "district"])
def test_a_nul_in_an_enterprise_form_field_is_named_on_the_field_and_nothing_is_saved(ctx, make_user, login_en,
                                                                                        field):
    client = login_en(make_user("sme"))
    before = counts()
    data = form_data()
    data[field] = data[field][:2] + "\x00" + data[field][2:]
    response = client.post("/enterprise", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert NUL in (field_error(page, field) or ""), page[:2000]
    assert "form token" not in page
    assert counts() == before


def test_the_nul_message_is_chinese_on_a_chinese_page(ctx, make_user, login):
    client = login(make_user("sme"))
    before = counts()
    response = client.post("/enterprise", data=form_data(contact_name="a\x00b"))
    assert response.status_code == 422
    assert "NUL" in field_error(response.get_data(as_text=True), "contact_name") and "不允许" in field_error(
        response.get_data(as_text=True), "contact_name")
    assert counts() == before


def test_a_nul_in_a_field_no_form_reads_is_refused_naming_it_and_nothing_is_saved(ctx, make_user, login_en):
    client = login_en(make_user("sme"))
    before = counts()
    response = client.post("/enterprise", data=form_data(**{"extra": "a\x00b"}))
    assert response.status_code == 422
    assert "extra" in response.get_data(as_text=True) and NUL in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize("path", ["/enterprises/?q=a%00b", "/enterprises/?q=%00", "/admin/users?q=a%00b",
                                  "/recovery/?q=a%00b"])
def test_a_nul_in_a_list_search_is_a_422_naming_the_parameter_not_a_400_or_500(ctx, make_user, login_en, path):
    client = login_en(make_user("admin" if path.startswith("/admin") else "officer"))
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“q”" in page and NUL in page and "form token" not in page
