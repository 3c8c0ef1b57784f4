"""The park operator's pages and workbook: its own park only (another park: 403), read only (every
page or action that changes an enterprise: 403), no bank detail anywhere it looks, the workbook's
two sheets in Chinese and in English, formula-looking names shown as text."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.parks.conftest import member
from voucher.extensions import db
from voucher.parks import queries

BANK_FIELDS = ("bank_name", "bank_account", "bank_code")


def bank_values(*orgs) -> list[str]:
    return [v for o in orgs for v in (o.bank_account, o.bank_code) if v]


def workbook_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.data))


def test_the_operator_sees_its_park_and_no_bank_detail(client, login, parks):
    login(parks.op_a)
    home = client.get("/parks/")
    assert home.status_code == 302 and home.headers["Location"].endswith(f"/parks/{parks.park_a.id}")
    page = client.get(f"/parks/{parks.park_a.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert parks.a1.org.name in html and parks.a2.org.name in html
    assert f'data-member="{parks.a3.org.id}"' not in html          # pending: a request, not a member
    assert parks.b1.org.name not in html
    for value in bank_values(parks.a1.org, parks.a2.org, parks.a3.org):
        assert value not in html
    for fmt in ("csv", "xlsx"):
        export = client.get(f"/parks/{parks.park_a.id}?format={fmt}")
        assert export.status_code == 200
        body = export.data if fmt == "csv" else b"".join(
            str(c.value).encode() for ws in load_workbook(io.BytesIO(export.data)) for row in ws.iter_rows()
            for c in row)
        assert parks.a1.org.name.encode() in body
        for value in bank_values(parks.a1.org, parks.a2.org):
            assert value.encode() not in body


# The operator's own account, not an enterprise's: the pages every signed-in user has.
OWN_ACCOUNT = ("auth.", "notifications.", "dashboard.", "set_locale", "ui.")


def _url(rule, ident: int) -> str:
    from werkzeug.routing import AnyConverter, IntegerConverter

    def value(conv):
        if isinstance(conv, IntegerConverter):
            return ident
        return sorted(conv.items)[0] if isinstance(conv, AnyConverter) else "x"

    args = {name: value(conv) for name, conv in rule._converters.items()}
    return rule.build(args, append_unknown=False)[1]


def test_another_park_and_every_enterprise_changing_page_is_forbidden(app, client, login, parks):
    login(parks.op_a)
    assert client.get(f"/parks/{parks.park_b.id}").status_code == 403
    assert client.get(f"/parks/{parks.park_b.id}/workbook").status_code == 403
    assert client.get(f"/parks/{parks.park_b.id}?format=xlsx").status_code == 403
    assert client.get("/parks/999999").status_code == 404
    assert client.post(f"/parks/requests/{parks.b1.membership.id}", data={"decision": "confirm"}).status_code == 403
    checked = 0
    for rule in app.url_map.iter_rules():
        changing = rule.methods & {"POST", "PUT", "DELETE"}
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if (not changing or roles is None  # public pages (calculators, progress look-up): no enterprise's data
                or rule.endpoint.startswith(OWN_ACCOUNT) or rule.rule.startswith("/api/")
                or rule.endpoint in ("parks.decide", "documents.request_document", "documents.revoke")):
            continue
        url = _url(rule, parks.a1.org.id)
        for method in sorted(changing):
            response = client.open(url, method=method, data={})
            assert response.status_code == 403, (rule.endpoint, method, url, response.status_code)
            checked += 1
    assert checked > 40
    # Open to every role, refused per object by the documents' rules: a document about the member's records.
    from voucher.documents.builders import KINDS

    for kind, spec in KINDS.items():
        response = client.post("/documents/request", data={"kind": kind, "subject_type": spec.subject_type,
                                                           "subject_id": str(parks.a1.org.id)})
        assert response.status_code == 403, (kind, response.status_code)
    for path in ("/enterprise", "/enterprise/edit", f"/enterprises/{parks.a1.org.id}", "/enterprises/",
                 "/parks/mine", "/parks/manage", "/applications/review", "/risk/"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_the_workbook_in_both_languages(client, login, parks, lang):
    odd = member(parks.park_a, parks.op_a, '=HYPERLINK("http://x/?"&B3,"x")')
    db.session.flush()
    login(parks.op_a)
    headers = {"Accept-Language": "en" if lang == "en" else "zh-CN"}
    book = workbook_of(client.get(f"/parks/{parks.park_a.id}/workbook", headers=headers))
    summary, sheet = book.worksheets
    if lang == "en":
        assert summary.title == "Park summary" and sheet.title == "Enterprises"
        assert summary["A1"].value == "Item" and summary["A2"].value == "Park name"
        assert sheet["B1"].value == "Enterprise name" and sheet.cell(1, sheet.max_column).value == "Maturity level"
    else:
        assert summary.title == "园区汇总" and summary["A2"].value == "园区名称"
        assert sheet["B1"].value == "企业名称" and sheet.cell(1, sheet.max_column).value == "数字化成熟度等级"
    values = {row[0].value: row[1].value for row in summary.iter_rows(min_row=2, max_row=24) if row[0].value}
    f = queries.figures(parks.park_a.id)
    assert parks.park_a.name in values.values()
    assert f.members == 3 and 3 in values.values()
    names = [sheet.cell(r, 2) for r in range(2, sheet.max_row + 1)]
    assert sorted(c.value for c in names) == sorted([parks.a1.org.name, parks.a2.org.name, odd.org.name])
    cell = next(c for c in names if c.value == odd.org.name)
    assert cell.data_type == "s"   # shown as text, never run as a formula
    headings = [c.value for c in sheet[1]]
    assert not any(word in str(h).lower() for h in headings for word in ("bank", "银行", "账号", "联行号"))
    every = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None)
    for value in bank_values(parks.a1.org, parks.a2.org, odd.org):
        assert value not in every


def test_the_bureau_reads_every_park_and_the_sme_none(client, login, parks, make_user):
    login(make_user("officer"))
    assert client.get(f"/parks/{parks.park_b.id}").status_code == 200
    assert client.get("/parks/").status_code == 200
    login(parks.a1.user)
    assert client.get(f"/parks/{parks.park_a.id}").status_code == 403
    assert client.get(f"/parks/{parks.park_a.id}/workbook").status_code == 403
    login(parks.op_b)
    assert client.post(f"/parks/requests/{parks.a3.membership.id}", data={"decision": "confirm"}).status_code == 403
