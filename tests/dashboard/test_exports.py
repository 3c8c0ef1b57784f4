"""Every list page exports what it shows: ``?format=csv|xlsx`` on the list's own URL gives the rows
of *every* page of the same query with the same filters; the file is read back (csv / openpyxl)
and compared with the rows the pages show."""
from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from tests.dashboard.conftest import read_csv, read_xlsx, table_rows
from voucher.extensions import db


def page_rows(client, url: str, table: int = 0) -> list[list[str]]:
    """The table rows of every page of a list: a keyset list's rel="next" link is followed; other
    lists by ?page= until a page has no data rows."""
    rows, page, previous = [], 1, None
    joiner = "&" if "?" in url else "?"
    target = f"{url}{joiner}page=1"
    while page < 100:
        response = client.get(target)
        assert response.status_code == 200, (url, response.status_code)
        html = response.get_data(as_text=True)
        found = [r for r in table_rows(html, table) if len(r) > 1]
        if not found or (page > 1 and found == previous):
            break  # past the last page (or a list without pages)
        previous = found
        rows += found
        page += 1
        seek = re.search(r'rel="next" href="([^"]+)"', html)
        if seek:
            target = unescape(seek.group(1))
        elif 'rel="next"' in html or "cursor=" in html:
            break
        else:
            target = f"{url}{joiner}page={page}"
    return rows


def export_rows(client, url: str, fmt: str = "csv") -> tuple[list, list[list]]:
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}format={fmt}")
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    return rows[0], rows[1:]


CASES = [
    # role, list URL with filters, page column(s), export column(s), table index on the page
    ("officer", "/enterprises/?district=ouhai", (0,), (0,), 0),
    ("officer", "/programmes/", (0,), (0,), 0),
    ("officer", "/applications/review?status=", (0, 2, 4), (0, 3, 5), 0),
    ("officer", "/applications/review?industry=pumps_valves&status=", (0, 2, 4), (0, 3, 5), 0),
    ("officer", "/catalogue/solutions?status=listed", (0, 1), (0, 1), 0),
    ("officer", "/trials/?status=running", (0, 1), (0, 1), 0),
    ("officer", "/trials/", (0, 1, 2), (0, 1, 2), 0),
    ("officer", "/subsidies/review", (1, 2), (1, 2), 0),
    ("officer", "/trials/candidates", (0, 1), (0, 1), 0),
    ("officer", "/trials/ranking", (0,), (0,), 1),
    ("auditor", "/audit/?object_type=trial_application", (0,), (0,), 0),
    ("admin", "/admin/users?role=sme", (0, 1), (0, 1), 0),
    ("provider", "/catalogue/mine", (0,), (0,), 0),
    ("provider", "/trials/mine", (0, 1), (0, 1), 0),
    ("evaluator", "/catalogue/screening", (1, 2), (1, 2), 0),
    ("evaluator", "/trials/evaluations?all=1", (0,), (0,), 0),
    ("sme", "/applications/mine", (0, 1, 2), (0, 1, 2), 0),
    ("sme", "/applications/mine?status=closed", (0, 1, 2), (0, 1, 2), 0),
    ("sme", "/trials/mine", (0, 1), (0, 1), 0),
    ("sme", "/subsidies/robots", (0,), (0,), 0),
]


@pytest.fixture()
def many(ctx, demo, make_org, make_user):
    """More rows than one page holds (PAGE_SIZE 20) for the enterprise list and the user list."""
    for n in range(23):
        org = make_org("enterprise", name=f"瓯海测试企业{n:02d}", district="ouhai")
        make_user("sme", organisation=org)
    db.session.commit()


@pytest.mark.parametrize("role,url,page_cols,export_cols,table", CASES)
def test_the_export_has_the_rows_of_every_page_with_the_same_filters(as_demo, many, role, url, page_cols,
                                                                     export_cols, table):
    client = as_demo(role, "en")
    shown = [tuple(r[c] for c in page_cols) for r in page_rows(client, url, table)]
    headers, rows = export_rows(client, url)
    exported = [tuple(r[c] for c in export_cols) for r in rows]
    assert shown, f"{url}: the page shows no rows (the demo data should fill it)"
    assert exported == shown
    assert all(h for h in headers)


def test_the_enterprise_and_user_exports_span_several_pages(as_demo, many):
    client = as_demo("officer")
    first = table_rows(client.get("/enterprises/?district=ouhai").get_data(as_text=True))
    assert len(first) == 20  # one page
    _headers, rows = export_rows(client, "/enterprises/?district=ouhai")
    assert len(rows) == 24  # 23 built + the demo's Ouhai enterprise, from both pages
    assert {r[0] for r in rows} >= {f"瓯海测试企业{n:02d}" for n in range(23)}
    client = as_demo("admin")
    _headers, users = export_rows(client, "/admin/users?role=sme")
    assert len(users) > 20 and len({u[1] for u in users}) == len(users)


def test_the_public_catalogue_exports_its_solutions_with_their_figures(client, demo):
    client.post("/lang", data={"lang": "en", "next": "/"})
    html = client.get("/catalogue/?industry=pumps_valves").get_data(as_text=True)
    titles = re.findall(r'<h2 class="h5 mb-1"><a href="/catalogue/\d+">([^<]+)</a>', html)
    headers, rows = export_rows(client, "/catalogue/?industry=pumps_valves")
    assert [r[0] for r in rows] == titles and titles
    erp = next(r for r in rows if r[0] == "云ERP小微企业版") if any(r[0] == "云ERP小微企业版" for r in rows) else None
    mes = next(r for r in rows if r[0] == "轻量化MES数字车间系统")
    assert int(mes[headers.index("Trials run")]) == 1  # the demo's completed MES trial
    assert erp is None  # not a pump-and-valve solution: the filter applies to the export too


def test_a_programmes_ledger_exports_every_entry_with_its_running_totals(as_demo):
    from voucher.programmes.models import FundLedgerEntry, Programme

    client = as_demo("finance", "zh_Hans_CN")
    programme_id = db.session.scalar(select(Programme.id))
    shown = page_rows(client, f"/programmes/{programme_id}")
    headers, rows = export_rows(client, f"/programmes/{programme_id}")
    entries = list(db.session.scalars(select(FundLedgerEntry).where(FundLedgerEntry.programme_id == programme_id)
                                      .order_by(FundLedgerEntry.seq.desc())))
    assert [int(r[0]) for r in rows] == [e.seq for e in entries] == [int(r[0]) for r in shown]
    assert headers[0] == "#" and "金额" in headers  # the file speaks the user's language
    assert [Decimal(r[5]) for r in rows] == [e.amount for e in entries]


def test_excel_export_reads_back_with_the_same_rows_as_csv(as_demo):
    client = as_demo("officer")
    csv_headers, csv_rows = export_rows(client, "/applications/review?status=")
    xlsx_headers, xlsx_rows = export_rows(client, "/applications/review?status=", "xlsx")
    assert xlsx_headers == csv_headers
    assert len(xlsx_rows) == len(csv_rows)
    amount = csv_headers.index("Amount")
    for c, x in zip(csv_rows, xlsx_rows):
        assert str(x[0]) == c[0] and x[1] == c[1]
        assert Decimal(str(x[amount])) == Decimal(c[amount])  # amounts are numbers in Excel


def test_an_export_over_the_row_limit_says_it_was_cut(as_demo, many, monkeypatch):
    import voucher.enterprises.views as views

    monkeypatch.setattr(views, "EXPORT_LIMIT", 5)
    client = as_demo("officer")
    _headers, rows = export_rows(client, "/enterprises/?district=ouhai")
    assert len(rows) == 6
    assert rows[-1][0] == "Only the first 5 of 24 rows are exported; narrow the filters."


def test_exports_follow_the_page_access_rules(as_demo):
    client = as_demo("sme")
    assert client.get("/applications/review?format=csv").status_code == 403
    assert client.get("/audit/?format=xlsx").status_code == 403
    client = as_demo("officer")
    assert client.get("/enterprises/?format=pdf").status_code == 400


def test_each_list_page_offers_the_export_buttons_with_its_filters(as_demo):
    client = as_demo("officer")
    html = client.get("/applications/review?status=submitted&district=cangnan").get_data(as_text=True)
    links = re.findall(r'href="([^"]+)" data-export="(csv|xlsx)"', html)
    assert {fmt for _href, fmt in links} == {"csv", "xlsx"}
    for href, fmt in links:
        href = href.replace("&amp;", "&")
        assert "status=submitted" in href and "district=cangnan" in href and f"format={fmt}" in href


def test_the_catalogue_an_sme_chooses_from_exports_its_solutions(as_demo):
    client = as_demo("sme")
    for url in ("/applications/new", "/applications/new?q=MES"):
        shown = page_rows(client, url)
        headers, rows = export_rows(client, url)
        assert shown and len(rows) == len(shown)
        for page_row, row in zip(shown, rows):
            assert page_row[0].startswith(row[0])           # the title (the page adds a "Recommended" badge)
            assert page_row[2] == row[2]                    # the provider
            assert (row[5] == "yes") == page_row[0].endswith("Recommended")
    _headers, filtered = export_rows(client, "/applications/new?q=MES")
    _headers, everything = export_rows(client, "/applications/new")
    assert 0 < len(filtered) < len(everything)
