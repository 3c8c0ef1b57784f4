"""Dashboard, export and deadline test helpers: the demo data, a demo user's client, page tables."""
from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from tests.factories import do_login
from voucher.extensions import db


@pytest.fixture()
def demo(request, ctx):
    """The demo data (applications, trials, ledger, payments…) inside the test's transaction,
    loaded today; a test marked ``@pytest.mark.demo_day("2026-11-20")`` loads it and runs with the
    clock on that day (Beijing time, ticking), for figures that depend on the day."""
    from voucher.demo import seed

    marker = request.node.get_closest_marker("demo_day")
    if marker is not None:
        from datetime import datetime

        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(marker.args[0] + "T10:00:00+08:00"), tick=True)
        traveller.start()
        request.addfinalizer(traveller.stop)

    seed()
    db.session.commit()
    return True


@pytest.fixture()
def as_demo(client, demo):
    """as_demo(role, lang="en") → the test client logged in as that demo user, in that language."""
    def _as(role: str, lang: str = "en"):
        client.post("/logout")
        assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
        client.post("/lang", data={"lang": lang, "next": "/"})
        return client

    return _as


class _Tables(HTMLParser):
    """The rows (cell texts) of every <tbody> in <main>, and the data-* attributes of rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.row_attrs: list[dict] = []
        self._in_main = self._in_body = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self._in_main = True
        elif tag == "tbody" and self._in_main:
            self._in_body = True
            self.tables.append([])
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, index: int = 0) -> list[list[str]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables[index] if len(parser.tables) > index else []


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens the Chinese text correctly
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(response.get_data()))
    return [["" if c.value is None else c.value for c in row] for row in wb.active.iter_rows()]
