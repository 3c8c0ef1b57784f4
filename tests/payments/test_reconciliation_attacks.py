"""Attacks on the bank-statement reconciliation (issue 18 §1): a finance officer's file that tries to
get round the rules -- the reference or the amount spelled differently, formulas, encodings, the same
row or file twice, a row of another batch, a line already paid, a huge file, several sheets, two
officers deciding one row at once.  Each ends in a clear status or a refusal naming the row and
column, never a silent match, never a 500, nothing saved half-way; the fund ledger stays balanced."""
from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.payments.test_reconciliation import batch2, csv_file, ledger_balanced, statuses  # noqa: F401
from voucher.errors import Duplicate
from voucher.extensions import db
from voucher.payments import reconciliation as recon
from voucher.payments.documents import bank_purpose
from voucher.payments.reconciliation_models import ReconciliationImport, ReconciliationRow

D = Decimal
HEADER = "户名,账号,金额,用途,银行流水号,交易类型"


def raw_csv(*lines: str, encoding="utf-8") -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode(encoding)


def nothing_saved():
    assert db.session.scalar(select(func.count()).select_from(ReconciliationImport)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReconciliationRow)) == 0


def refused(world, batch, data, layout=None):
    with pytest.raises(recon.StatementInvalid) as caught:
        recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv", data=data, layout=layout)
    nothing_saved()
    return [(e.row, e.column) for e in caught.value.errors]


def _ref(d):
    return d.reference


# --- the reference spelled differently ----------------------------------------------------------

@pytest.mark.parametrize("spell", [
    lambda r: r.lower(),                                               # dsb-2026-…
    lambda r: r.replace("-", "\u200b-", 1),                            # a zero-width space inside
    lambda r: r.translate(str.maketrans("0123456789", "０１２３４５６７８９")),  # full-width digits
    lambda r: r.replace("DSB", "ＤＳＢ"),                               # full-width letters
    lambda r: r + "7",                                                 # a longer number
])
def test_a_reference_spelled_differently_is_never_matched(world, batch2, spell):  # noqa: F811
    batch, a, _b = batch2
    before = ledger_balanced(world.programme)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(f"补贴 {spell(_ref(a))}", "40000.00")]))
    assert statuses(imp) == [(2, "unknown_reference")]
    assert imp.rows[0].disbursement_id is None and a.status == "in_batch"
    assert ledger_balanced(world.programme) == before


def test_surrounding_spaces_and_longer_purpose_text_still_match(world, batch2):  # noqa: F811
    batch, a, b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv", data=raw_csv(
        f'某公司,6222,  40000.00 ,"  温州市数字化转型补贴 {_ref(a)} 第一批 ",BK1,转账'))
    assert statuses(imp) == [(2, "matched")] and a.status == "paid"
    ledger_balanced(world.programme)


def test_a_purpose_naming_two_lines_is_not_matched_to_either(world, batch2):  # noqa: F811
    batch, a, b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(f"{_ref(b)} 退回后改付 {_ref(a)}", "40000.00")]))
    assert statuses(imp) == [(2, "unknown_reference")]
    assert (a.status, b.status) == ("in_batch", "in_batch")
    ledger_balanced(world.programme)


def test_the_same_reference_twice_in_one_purpose_still_matches(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(f"{_ref(a)} {_ref(a)}", "40000.00")]))
    assert statuses(imp) == [(2, "matched")]


# --- the amount spelled differently -------------------------------------------------------------

@pytest.mark.parametrize("amount", ['"40,000.00"', "¥40000", "40000元", "４００００.００", "4万"])
def test_amount_spellings_of_the_same_value_match(world, batch2, amount):  # noqa: F811
    batch, a, _b = batch2
    before = ledger_balanced(world.programme)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=raw_csv(f"某公司,6222,{amount},{bank_purpose(a)},BK1,转账"))
    assert statuses(imp) == [(2, "matched")]
    after = ledger_balanced(world.programme)
    assert after.paid - before.paid == D("40000.00")


@pytest.mark.parametrize("amount", [
    "40000.005",            # more than fen precision: never rounded into a match
    "39999.999",
    "1" * 40,               # a 40-digit number
    "-0", "-0.00", "0",     # (negative) zero
    "1E3", "4E4", "4e+4",   # scientific notation
    "NaN", "Infinity", "-inf",
    "0x9C40",
    "40000.00.00",
    "(40000.00)",
    "",
])
def test_a_bad_amount_is_refused_by_row_and_column(world, batch2, amount):  # noqa: F811
    batch, a, _b = batch2
    before = ledger_balanced(world.programme)
    data = raw_csv(f"某公司,6222,40000.00,{bank_purpose(a)},BK1,转账",
                   f"某公司,6222,{amount},{bank_purpose(a)},BK2,转账")
    assert refused(world, batch, data) == [(3, "金额")]
    assert a.status == "in_batch" and ledger_balanced(world.programme) == before


def xlsx(*sheets, formulas=False) -> bytes:
    wb = Workbook()
    for n, rows in enumerate(sheets):
        ws = wb.active if n == 0 else wb.create_sheet(f"S{n}")
        for r in rows:
            ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XHEADER = ["户名", "账号", "金额", "用途", "银行流水号"]


def _xlsx_number(cell_xml: str) -> bytes:
    """An .xlsx whose amount cell holds ``cell_xml`` as Excel wrote it (openpyxl itself would round a float)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx([XHEADER, ["某公司", "6222", 12345.678, "补贴", "BK1"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b"<v>12345.678</v>" in body
                body = body.replace(b"<v>12345.678</v>", f"<v>{cell_xml}</v>".encode())
            target.writestr(info, body)
    return out.getvalue()


@pytest.mark.parametrize("stored", ["0.30000000000000004", "40000.004999999", "1E+20", "4E4x", "NaN", "INF"])
def test_an_excel_float_that_is_not_fen_exact_is_refused(world, batch2, stored):  # noqa: F811
    batch, a, _b = batch2
    data = _xlsx_number(stored)
    errors = refused(world, batch, data)
    assert errors in ([(2, "金额")], [(2, None)])  # a cell openpyxl cannot read refuses the file by its row


def test_an_excel_boolean_amount_is_refused(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    data = xlsx([XHEADER, ["某公司", "6222", True, bank_purpose(a), "BK1"]])
    assert refused(world, batch, data) == [(2, "金额")]


def test_an_excel_float_of_whole_fen_matches(world, batch2):  # noqa: F811
    batch, a, b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.xlsx", data=xlsx(
        [XHEADER, ["某公司", "6222", 40000.0, bank_purpose(a), "BK1"], ["某公司", "6222", 99999.99 + 0.01,
                                                                         bank_purpose(b), "BK2"]]))
    # 99999.99 + 0.01 is 100000.0 in binary floating point too; a float that is not exact is refused above
    assert statuses(imp) == [(2, "matched"), (3, "matched")]
    ledger_balanced(world.programme)


# --- formulas ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, column", [
    ("=1+1", "用途"), ("+cmd|' /C calc'!A0", "用途"), ("@SUM(A1:A2)", "用途"), ("-1+1", "用途"),
    ("=1+1", "户名"), ("@SUM(1)", "银行流水号"), ("=40000", "金额"), ("+40000", None), ("  =1+1", "用途"),
    ("\t=1+1", "用途"),
])
def test_a_formula_is_refused_never_evaluated(world, batch2, cell, column):  # noqa: F811
    batch, a, _b = batch2
    cells = {"户名": "某公司", "账号": "6222", "金额": "40000.00", "用途": bank_purpose(a), "银行流水号": "BK1"}
    target = column or "金额"
    cells[target] = cell if target != "用途" or not cell.strip().startswith(("=", "+", "-", "@")) else \
        cell + " " + bank_purpose(a)
    line = ",".join(f'"{v}"' for v in cells.values()) + ",转账"
    data = raw_csv(line)
    if column is None:  # "+40000" in the amount column is a plain positive amount, not a formula
        imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv", data=data)
        assert statuses(imp) == [(2, "matched")]
        return
    assert refused(world, batch, data) == [(2, column)]


def test_an_excel_formula_cell_in_a_text_column_is_refused(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    data = xlsx([XHEADER, ["某公司", "6222", D("40000.00"), f'=CONCAT("{bank_purpose(a)}")', "BK1"]])
    assert refused(world, batch, data) == [(2, "用途")]


# --- encodings, sheets, size ------------------------------------------------------------------

def test_bom_gb18030_and_the_wrong_encoding(world, batch2):  # noqa: F811
    batch, a, b = batch2
    line = f"某公司,6222,40000.00,{bank_purpose(a)},BK1,转账"
    # a GB18030 file chosen as the UTF-8 layout: refused by its encoding, nothing saved
    assert refused(world, batch, raw_csv(line, encoding="gb18030")) == [(None, None)]
    # a UTF-8 file chosen as the GB18030 layout reads as mojibake headers: the columns are missing
    numbered = ("序号,账号,户名,金额,用途,流水号\r\n1,6222,某公司,40000.00," + bank_purpose(a) + ",LS1\r\n")
    errors = refused(world, batch, numbered.encode("utf-8"), layout="gb18030_numbered")
    assert errors and all(row in (None, 1) for row, _c in errors)
    # a BOM in a UTF-8 file is skipped (the first header is still found)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=b"\xef\xbb\xbf" + raw_csv(line))
    assert statuses(imp) == [(2, "matched")]
    imp2 = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv", layout="gb18030_numbered",
                                  data=numbered.replace(bank_purpose(a), bank_purpose(b))
                                  .replace("40000.00", "100000.00").encode("gb18030"))
    assert statuses(imp2) == [(2, "matched")]
    ledger_balanced(world.programme)


def test_binary_garbage_and_a_nul_byte_are_refused(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    assert refused(world, batch, b"PK\x03\x04garbage") == [(None, None)]
    data = raw_csv(f"某公司,6222,40000.00,{bank_purpose(a)}\x00,BK1,转账")
    assert refused(world, batch, data) == [(2, "用途")]
    assert refused(world, batch, raw_csv(f"某\x1b公司,6222,40000.00,{bank_purpose(a)},BK1,转账")) == [(2, "户名")]


def test_only_the_first_sheet_is_read(world, batch2):  # noqa: F811
    batch, a, b = batch2
    data = xlsx([XHEADER, ["某公司", "6222", D("40000.00"), bank_purpose(a), "BK1"]],
                [XHEADER, ["某公司", "6222", D("100000.00"), bank_purpose(b), "BK2"]])
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.xlsx", data=data)
    assert statuses(imp) == [(2, "matched")] and b.status == "in_batch"
    db.session.query(ReconciliationRow).delete()
    db.session.query(ReconciliationImport).delete()
    assert refused(world, batch, xlsx([], [XHEADER, ["某公司", "6222", D("100000.00"), bank_purpose(b), "BK2"]])) \
        in ([(None, None)], [(1, "金额"), (1, "用途")])


def test_too_many_rows_or_bytes_is_refused(world, batch2, monkeypatch):  # noqa: F811
    batch, a, _b = batch2
    lines = [f",,1.00,工资 {n},," for n in range(recon.MAX_ROWS + 1)]
    assert refused(world, batch, raw_csv(*lines)) == [(None, None)]
    assert refused(world, batch, b"x" * (recon.MAX_FILE_BYTES + 1)) == [(None, None)]
    monkeypatch.setattr(recon, "MAX_ROWS", 3)
    big = xlsx([XHEADER] + [["某公司", "6222", D("1.00"), f"工资 {n}", f"BK{n}"] for n in range(60)])
    assert refused(world, batch, big) == [(None, None)]


def test_a_too_long_cell_is_named(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    assert refused(world, batch, raw_csv(f"某公司,6222,40000.00,{'长' * 501} {bank_purpose(a)},BK1,转账")) \
        == [(2, "用途")]
    assert refused(world, batch, raw_csv(f"某公司,6222,40000.00,{bank_purpose(a)},{'9' * 200000},转账")) \
        == [(None, None)]  # longer than the CSV reader's field limit: the file cannot be read


# --- the same file, row, line ------------------------------------------------------------------

def test_the_same_file_twice_and_the_same_row_twice(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    data = csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(a), "40000.00")])
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv", data=data)
    assert statuses(imp) == [(2, "matched"), (3, "duplicate")]
    with pytest.raises(Duplicate):
        recon.import_statement(world.finance_a.actor(), batch.id, filename="again.csv", data=data)
    # the same rows with one byte more (another SHA-256): every row is a duplicate now
    again = recon.import_statement(world.finance_a.actor(), batch.id, filename="again2.csv", data=data + b"\r\n")
    assert statuses(again) == [(2, "duplicate"), (3, "duplicate")]
    assert ledger_balanced(world.programme).paid == D("40000.00")


def test_a_row_for_a_line_of_another_batch(world):
    loan, robot = world.loan(), world.robot()
    world.announce()
    a = world.approved("loan_application", loan.id, "full")
    other_line = world.approved("robot_application", robot.id, "full")
    batch = world.batch(a)
    world.batch(other_line)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(bank_purpose(other_line), str(other_line.amount))]))
    assert statuses(imp) == [(2, "unknown_reference")] and other_line.status == "in_batch"
    assert recon.allowed_decisions(imp.rows[0], None) == ["ignore"]
    ledger_balanced(world.programme)


def test_a_line_already_paid_by_hand(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    world.pay(a, ref="BY-HAND-1")
    before = ledger_balanced(world.programme)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(bank_purpose(a), "40000.00")]))
    assert statuses(imp) == [(2, "duplicate")] and a.bank_reference == "BY-HAND-1"
    assert recon.allowed_decisions(imp.rows[0], a) == ["ignore"]
    assert ledger_balanced(world.programme) == before


def test_a_failed_line_then_a_differing_row_cannot_be_accepted(world, batch2):  # noqa: F811
    batch, a, _b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(bank_purpose(a), "40000.01")]))
    world.fail(a)
    from voucher.errors import TransitionNotAllowed
    with pytest.raises(TransitionNotAllowed):
        recon.decide(world.finance_b.actor(), imp.rows[0].id, "accept_paid", "fee")
    assert a.status == "failed"
    ledger_balanced(world.programme)


# --- the pages: 403 and clear 422 ----------------------------------------------------------------

def test_deciding_a_row_as_someone_who_may_not_see_the_batch_is_403(world, batch2, login_as, client):  # noqa: F811
    batch, a, _b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(bank_purpose(a), "40000.01")]))
    row_id = imp.rows[0].id
    db.session.commit()
    for user in (world.officer, world.provider):
        login_as(user)
        response = client.post(f"/payments/reconciliation/rows/{row_id}/decide",
                               data={"decision": "ignore", "reason": "not mine"})
        assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(ReconciliationRow, row_id).resolution == "pending"
    login_as(world.finance_a)
    assert client.post("/payments/reconciliation/rows/999999/decide",
                       data={"decision": "ignore", "reason": "x"}).status_code == 404


def test_a_refused_file_on_the_page_names_the_row_and_column(world, batch2, login_as, client):  # noqa: F811
    batch, a, _b = batch2
    db.session.commit()
    login_as(world.finance_a)
    response = client.post(f"/payments/batches/{batch.id}/reconciliation",
                           data={"layout": "generic",
                                 "file": (io.BytesIO(raw_csv(f"某公司,6222,1E3,{bank_purpose(a)},BK1,转账")), "r.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "金额" in html and 'id="file-errors"' in html
    response = client.post(f"/payments/batches/{batch.id}/reconciliation",
                           data={"layout": "nope", "file": (io.BytesIO(b"x"), "r.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422


# --- two finance officers decide the same row at once (PostgreSQL) ------------------------------

@needs_postgres
def test_two_officers_decide_the_same_row_at_once_exactly_one_wins(committed_app):
    from tests.factories import do_login
    from tests.payments.conftest import World

    app = committed_app
    with app.app_context(), app.test_request_context():
        world = World()
        loan = world.loan()
        world.announce()
        a = world.approved("loan_application", loan.id, "full")
        batch = world.batch(a)
        imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                     data=csv_file([(bank_purpose(a), "40000.01")]))
        row_id, a_id, programme = imp.rows[0].id, a.id, world.programme
        db.session.commit()
        credentials = [(u.email, u.plain_password) for u in (world.finance_a, world.finance_b)]
        programme_id = programme.id
        db.session.remove()
    clients = []
    for email, password in credentials:
        c = app.test_client()
        assert do_login(c, email, password).status_code == 302
        clients.append(c)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def click(c, decision):
        try:
            barrier.wait(timeout=30)
            r = c.post(f"/payments/reconciliation/rows/{row_id}/decide",
                       data={"decision": decision, "reason": f"{decision} by phone"})
            results.append((decision, r.status_code))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(c, d)) for c, d in zip(clients, ("accept_paid", "mark_failed"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    codes = sorted(code for _d, code in results)
    assert codes == [302, 422], results
    winner = next(d for d, code in results if code == 302)
    with app.app_context():
        from voucher.audit.models import AuditEvent
        from voucher.payments.models import Disbursement
        from voucher.programmes.models import Programme

        row = db.session.get(ReconciliationRow, row_id)
        d = db.session.get(Disbursement, a_id)
        assert row.resolution == {"accept_paid": "accepted_paid", "mark_failed": "marked_failed"}[winner]
        assert d.status == {"accept_paid": "paid", "mark_failed": "failed"}[winner]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.object_type == "reconciliation_row")) == 1
        ledger_balanced(db.session.get(Programme, programme_id))
