"""Oversized and odd input is a 4xx, never a 500 (issue 14, "Oversized input").

- every ``<int:...>``/``<id:...>`` URL part given 40 digits, ``²``, an Arabic-Indic or a full-width
  digit: 404;
- every paginated list page, as a role that sees it, with ``?page=`` of 20 digits, ``²``, ``-1``,
  ``0``: the first page (:func:`voucher.pagination.page_arg`: ignored like any unknown filter value),
  and the query-string ids/years it reads likewise (200 or 404, never 5xx);
- the API's lists with the same pages: 422 naming ``page``;
- every API POST/PUT body with a 400-digit decimal (or ``1e400``, ``NaN``, ``Infinity``) in any
  decimal field: 422 naming the field;
- form integer and amount fields refuse what the database could not store;
- an upload whose name holds a NUL byte is refused; a refused upload leaves no file behind.

The suite's autouse ``no_server_errors`` fixture also fails any test that answered a 5xx.  PostgreSQL
is where integer overflow bites ("bigint out of range"): run this file on both databases.
"""
from __future__ import annotations

import inspect
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import do_login
from voucher.extensions import db

HUGE = "9" * 40
ODD_INTS = (HUGE, "99999999999999999999", "²", "٣", "１")
ODD_PAGES = ("99999999999999999999", "²", "-1", "0")
ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")
QUERY_INTS = ("programme_id", "provider_id", "solution_id", "application_id", "preview", "year")


@pytest.fixture()
def demo(ctx):
    from voucher.demo import seed

    seed()
    db.session.commit()


def _filled(rule, value: str, other: str = "x") -> str:
    """The rule's URL with every int/id argument ``value`` and every other argument ``other``."""
    import re

    def fill(match):
        kind = match.group(1) or ""
        return value if kind.startswith(("int", "id")) else other

    return re.sub(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?[a-z_]+>", fill, rule.rule)


def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if any(type(c).__name__ in ("DatabaseInt", "IdConverter") for c in rule._converters.values()):
            yield rule


def test_every_int_converter_is_bounded_and_ascii_only(app, client, make_user):
    rules = list(_int_rules(app))
    assert len(rules) > 40  # the crawl really finds the app's id pages (web and API)
    officer = make_user("officer")
    db.session.commit()
    assert do_login(client, officer.email, officer.plain_password).status_code == 302
    for rule in rules:
        for value in ODD_INTS:
            url = _filled(rule, value)
            response = client.get(url)
            assert response.status_code == 404, (url, response.status_code)


def _paginated_endpoints(app) -> dict[str, bool]:
    """Web endpoints without URL arguments whose view reads query integers: url → reads ``?page=``."""
    out = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith("/api/"):
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            continue
        paged = "page_arg(" in source or "_page()" in source
        if paged or "query_int(" in source:
            out[rule.rule] = paged
    return out


def test_every_list_page_shows_page_one_for_odd_pages_and_ignores_odd_ids(app, client, demo):
    pages = _paginated_endpoints(app)
    assert len(pages) >= 15, pages
    seen = set()
    for role in ROLES:
        client.post("/logout")
        assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
        for url, paged in pages.items():
            first = client.get(url)
            if first.status_code != 200:
                continue  # not this role's page
            seen.add(url)
            for page in ODD_PAGES if paged else ():
                response = client.get(url, query_string={"page": page})
                assert response.status_code == 200, (role, url, page, response.status_code)
            for name in QUERY_INTS:
                for value in (HUGE, "²"):
                    response = client.get(url, query_string={name: value})
                    assert response.status_code in (200, 404), (role, url, name, response.status_code)
    assert len(seen) >= 15, sorted(seen)


def test_a_page_number_within_bounds_past_the_end_is_an_empty_page(app, client, demo):
    from voucher.programmes.models import Programme

    assert do_login(client, "officer@demo.test", "demo-officer-pass").status_code == 302
    first = client.get("/programmes/").get_data(as_text=True)
    assert "Programme" in first or "项目" in first
    beyond = client.get("/programmes/", query_string={"page": "100000"})
    assert beyond.status_code == 200
    names = [p.name for p in db.session.execute(select(Programme)).scalars()]
    assert names and not any(n in beyond.get_data(as_text=True) for n in names)  # page 100,000: empty
    past_max = client.get("/programmes/", query_string={"page": "100001"}).get_data(as_text=True)
    assert any(n in past_max for n in names)  # out of bounds: ignored, page 1


# --- the API -----------------------------------------------------------------------------------

def _api_token(email: str) -> str:
    from voucher.auth import tokens
    from voucher.auth.models import User

    user = db.session.execute(select(User).where(User.email == email)).scalar_one()
    token = tokens.issue_token(user).secret
    db.session.commit()
    return token


def _api_rules(app, method: str):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and method in rule.methods:
            yield rule


def test_api_lists_refuse_odd_pages_with_422_naming_page(app, client, demo):
    tokens = {role: _api_token(f"{role}@demo.test") for role in ROLES}
    lists = 0
    for rule in _api_rules(app, "GET"):
        if rule.arguments:
            continue
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        roles = getattr(app.view_functions[rule.endpoint], "api_roles", None) or ROLES
        role = next((r for r in ROLES if r in roles), "admin")
        headers = {"Authorization": f"Bearer {tokens[role]}", "Accept-Language": "en"}
        first = client.get(rule.rule, headers=headers)
        if first.status_code != 200 or not isinstance(first.get_json(), dict) or "pagination" not in first.get_json():
            continue
        lists += 1
        for page in ODD_PAGES + (HUGE,):
            response = client.get(rule.rule, query_string={"page": page}, headers=headers)
            assert response.status_code == 422, (rule.rule, page, response.status_code)
            assert "page" in response.get_json()["error"]["fields"], (rule.rule, page)
        response = client.get(rule.rule, query_string={"per_page": HUGE}, headers=headers)
        assert response.status_code == 422 and "per_page" in response.get_json()["error"]["fields"]
        del view
    assert lists >= 8


def _fields_of(schema, kinds: tuple, prefix: str = "") -> list[str]:
    """Dotted names of the fields of these types in a marshmallow schema (nested ones as ``a.0.b``)."""
    import marshmallow as ma

    out = []
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        key = field.data_key or name
        if isinstance(field, kinds):
            out.append(prefix + key)
        elif isinstance(field, ma.fields.Nested):
            out += _fields_of(field.schema, kinds, f"{prefix}{key}.")
        elif isinstance(field, ma.fields.List) and isinstance(field.inner, ma.fields.Nested):
            out += _fields_of(field.inner.schema, kinds, f"{prefix}{key}.0.")
    return out


def _body_with(dotted: str, value) -> dict:
    body: dict = {}
    node = body
    parts = dotted.split(".")
    for i, part in enumerate(parts[:-1]):
        nxt: dict | list = [] if parts[i + 1] == "0" else {}
        if part == "0":
            node.append(nxt)  # type: ignore[union-attr]
        else:
            node[part] = nxt  # type: ignore[index]
        node = nxt
    if parts[-1] == "0":  # pragma: no cover - a list of decimals
        node.append(value)  # type: ignore[union-attr]
    else:
        node[parts[-1]] = value  # type: ignore[index]
    return body


def _named(fields: dict, dotted: str) -> bool:
    flat = set(fields)
    return dotted in flat or any(k.startswith(dotted.split(".")[0]) for k in flat)


def _api_bodies(app, tokens, kinds):
    """(method, url, headers, dotted field name) for every field of the given marshmallow field
    types in every API POST/PUT/PATCH body, with a token of a role allowed to call it."""
    for method in ("POST", "PUT", "PATCH"):
        for rule in _api_rules(app, method):
            view = app.view_functions[rule.endpoint]
            if hasattr(view, "view_class"):  # a MethodView: the documentation is on its method
                view = getattr(view.view_class, method.lower(), view)
            schemas = [a["schema"] for a in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
                       if a.get("location") in (None, "json")]
            roles = getattr(view, "api_roles", None) or ROLES
            role = next((r for r in ROLES if r in roles), None)
            if role is None:
                continue
            headers = {"Authorization": f"Bearer {tokens[role]}", "Accept-Language": "en"}
            url = _filled(rule, "1")
            for schema in schemas:
                schema = schema() if isinstance(schema, type) else schema
                for dotted in _fields_of(schema, kinds):
                    yield method, url, headers, dotted


@pytest.mark.parametrize("value", ["9" * 400, "1" + "0" * 399 + ".00", "1e400", "NaN", "Infinity", "-" + "9" * 400])
def test_every_api_decimal_field_refuses_oversized_numbers_with_422(app, client, demo, value):
    from voucher.schema_fields import DecimalString

    tokens = {role: _api_token(f"{role}@demo.test") for role in ROLES}
    checked = 0
    for method, url, headers, dotted in _api_bodies(app, tokens, (DecimalString,)):
        response = client.open(url, method=method, json=_body_with(dotted, value), headers=headers)
        assert response.status_code == 422, (method, url, dotted, response.status_code,
                                             response.get_data(as_text=True)[:300])
        fields = response.get_json()["error"]["fields"]
        assert _named(fields, dotted), (method, url, dotted, fields)
        checked += 1
    assert checked >= 40, checked


def test_every_api_integer_field_refuses_a_40_digit_number(app, client, demo):
    import marshmallow as ma

    tokens = {role: _api_token(f"{role}@demo.test") for role in ROLES}
    checked = 0
    for method, url, headers, dotted in _api_bodies(app, tokens, (ma.fields.Integer,)):
        for value in (10**40, -(10**40)):
            response = client.open(url, method=method, json=_body_with(dotted, value), headers=headers)
            assert 400 <= response.status_code < 500, (method, url, dotted, response.status_code)
            checked += 1
    assert checked >= 10, checked


def test_the_decimal_message_names_the_limit(app, client):
    import marshmallow as ma

    from voucher.schema_fields import DecimalString

    with app.test_request_context(headers={"Accept-Language": "en"}):
        field = DecimalString()
        with pytest.raises(ma.ValidationError) as refused:
            field.deserialize("9" * 400)
        assert refused.value.messages == ["At most 12 digits before the decimal point."]
        assert field.deserialize("999999999999.99") == __import__("decimal").Decimal("999999999999.99")
        assert field.deserialize("000000000000001.50") == __import__("decimal").Decimal("1.50")


# --- forms -------------------------------------------------------------------------------------

def test_form_integer_and_amount_fields_refuse_what_the_database_cannot_store(app):
    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    from voucher.forms import IntField, MoneyField

    class F(Form):
        n = IntField("N")
        amount = MoneyField("Amount")

    with app.test_request_context(headers={"Accept-Language": "en"}):
        for raw, message in ((HUGE, "Must be at most 2147483647."), ("2147483648", "Must be at most 2147483647."),
                             ("²", "Enter a whole number."), ("٣", "Enter a whole number."),
                             ("１", "Enter a whole number."), ("9" * 5000, "Must be at most 2147483647.")):
            form = F(MultiDict({"n": raw}))
            assert not form.validate()
            assert form.errors["n"] == [message], (raw, form.errors)
        form = F(MultiDict({"n": "2147483647", "amount": "999999999999.99"}))
        assert form.validate(), form.errors
        assert form.n.data == 2147483647
        form = F(MultiDict({"amount": "1" + "0" * 12}))
        assert not form.validate()
        assert form.errors["amount"] == ["Must be at most ¥999,999,999,999.99."], form.errors


# --- uploads -----------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _files(storage_dir: str) -> list[Path]:
    root = Path(storage_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("name", ["evidence\x00.pdf", "bad\x07name.pdf", "two\nlines.pdf"])
def test_an_upload_name_with_control_characters_is_refused_before_anything_is_written(app, ctx, make_user, name):
    from voucher.audit.services import Actor
    from voucher.errors import ValidationFailed
    from voucher.storage import save_upload

    storage = app.config["STORAGE_DIR"]
    before = _files(storage)
    user = make_user("sme")
    with pytest.raises(ValidationFailed) as refused:
        save_upload(Actor(user.id, user.role, None, user.email), io.BytesIO(PDF), name,
                    max_bytes=1024 * 1024, owner_type="test", owner_id=None, purpose="evidence")
    assert refused.value.field == "file"
    assert _files(storage) == before


def test_a_path_in_an_upload_name_is_dropped(app, ctx, make_user):
    from voucher.storage import _display_name

    assert _display_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert _display_name("C:\\Users\\me\\scan.pdf") == "scan.pdf"
    assert _display_name("..") == "file"
    assert _display_name("") == "file"


def test_a_file_saved_in_a_transaction_that_rolls_back_is_removed(app, ctx, make_user):
    from voucher.audit.services import Actor
    from voucher.storage import exists, save_upload

    user = make_user("sme")
    db.session.commit()
    actor = Actor(user.id, user.role, None, user.email)
    kept = save_upload(actor, io.BytesIO(PDF), "kept.pdf", max_bytes=1024 * 1024,
                       owner_type="test", owner_id=None, purpose="evidence")
    db.session.commit()
    dropped = save_upload(actor, io.BytesIO(PDF), "dropped.pdf", max_bytes=1024 * 1024,
                          owner_type="test", owner_id=None, purpose="evidence")
    assert exists(dropped)
    db.session.rollback()
    assert not exists(dropped)
    assert exists(kept)


def test_an_upload_request_refused_after_the_file_was_saved_leaves_no_file(app, client, demo, monkeypatch):
    """A web upload whose request is refused after ``save_upload`` wrote the file (here the write
    is followed by a refusal) answers 422 and leaves STORAGE_DIR as it was: the rollback removes it."""
    import voucher.storage as storage_module
    from voucher.applications.models import EDITABLE_STATES, TrialApplication
    from voucher.auth.models import User
    from voucher.errors import ValidationFailed

    storage = app.config["STORAGE_DIR"]
    sme = db.session.execute(select(User).where(User.email == "sme@demo.test")).scalar_one()
    application = db.session.execute(select(TrialApplication).where(
        TrialApplication.enterprise_id == sme.organisation_id,
        TrialApplication.status.in_(EDITABLE_STATES)).order_by(TrialApplication.id)).scalars().first()
    assert application is not None
    assert do_login(client, "sme@demo.test", "demo-sme-pass").status_code == 302
    before = _files(storage)
    original = storage_module._write
    written = []

    def write_then_refuse(*args, **kwargs):
        written.append(original(*args, **kwargs).relative_path)
        raise ValidationFailed("The file is empty.", field="file")

    monkeypatch.setattr(storage_module, "_write", write_then_refuse)
    response = client.post(f"/applications/{application.id}/attachments",
                           data={"material_other": (io.BytesIO(PDF), "evidence.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert written and not storage_module.backend().exists(written[0])
    assert _files(storage) == before
