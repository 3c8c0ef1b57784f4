"""Reconciliation with the bank's statement (对账, issue 18 §1): a crafted bank file per status
(matched, one fen off, unknown reference, duplicate, reversal), the fund ledger balanced after each,
a formula cell refused by row and column, finance only (403 for the others), decisions audited."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from voucher.audit.models import AuditEvent
from voucher.errors import Duplicate, Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.payments import reconciliation as recon
from voucher.payments.documents import bank_purpose
from voucher.payments.reconciliation_models import ReconciliationRow
from voucher.programmes.services import balances, recomputed_balances

D = Decimal


def ledger_balanced(programme):
    bal = balances(programme)
    assert bal == recomputed_balances(programme)
    assert bal.available >= 0
    return bal


def csv_file(rows, layout="generic") -> bytes:
    """A bank result file in ``layout``: rows of (purpose, amount[, kind])."""
    if layout == "generic":
        lines = ["户名,账号,金额,用途,银行流水号,交易类型"]
        for n, (purpose, amount, *kind) in enumerate(rows, 1):
            lines.append(f"某公司,6222000011112222,{amount},{purpose},BK{n:04d},{kind[0] if kind else '转账'}")
        return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")
    lines = ["序号,账号,户名,金额,用途,流水号,交易类型"]
    for n, (purpose, amount, *kind) in enumerate(rows, 1):
        lines.append(f"{n},6222000011112222,某公司,{amount},{purpose},LS{n:04d},{kind[0] if kind else '转账'}")
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


@pytest.fixture()
def batch2(world):
    """A batch of two lines waiting for the bank: a loan discount (40,000.00) and a robot subsidy (100,000.00)."""
    loan, robot = world.loan(), world.robot()
    world.announce()
    a = world.approved("loan_application", loan.id, "full")
    b = world.approved("robot_application", robot.id, "full")
    batch = world.batch(a, b)
    return batch, a, b


def statuses(imp):
    return [(r.row_number, r.status) for r in imp.rows]


@pytest.mark.parametrize("layout", ["generic", "gb18030_numbered"])
def test_matched_rows_record_the_lines_paid_through_the_ledger(world, batch2, layout):
    batch, a, b = batch2
    before = ledger_balanced(world.programme)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="result.csv", layout=layout,
                                 data=csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(b), "¥100000.00")], layout))
    assert statuses(imp) == [(2, "matched"), (3, "matched")]
    assert (a.status, b.status) == ("paid", "paid") and a.bank_reference.startswith(("BK", "LS"))
    assert batch.status == "completed"
    after = ledger_balanced(world.programme)
    assert after.paid - before.paid == D("140000.00") and before.reserved - after.reserved == D("140000.00")
    assert recon.batch_reconciliation(world.finance_a.actor(), batch.id).unreconciled == D("0.00")
    assert recon.programme_unreconciled(world.programme.id) == D("0.00")


def test_one_fen_off_is_amount_differs_and_nothing_is_paid(world, batch2):
    batch, a, b = batch2
    before = ledger_balanced(world.programme)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(bank_purpose(a), "39999.99")]))
    [row] = imp.rows
    assert (row.status, row.difference, row.resolution) == ("amount_differs", D("-0.01"), "pending")
    assert a.status == "in_batch"
    assert ledger_balanced(world.programme) == before
    report = recon.batch_reconciliation(world.finance_a.actor(), batch.id)
    assert [line.difference for line in report.lines] == [D("-0.01"), None]
    assert report.unreconciled == D("140000.00")


def test_unknown_reference(world, batch2):
    batch, a, b = batch2
    before = ledger_balanced(world.programme)
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([("贷款贴息 DSB-2026-999999", "40000.00"), ("工资", "12.00")]))
    assert statuses(imp) == [(2, "unknown_reference"), (3, "unknown_reference")]
    assert [r.disbursement_id for r in imp.rows] == [None, None]
    assert (a.status, b.status) == ("in_batch", "in_batch")
    assert ledger_balanced(world.programme) == before


def test_duplicate_in_the_same_file_and_in_a_later_file(world, batch2):
    batch, a, b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(a), "40000.00")]))
    assert statuses(imp) == [(2, "matched"), (3, "duplicate")]
    paid = ledger_balanced(world.programme).paid
    assert paid == D("40000.00")  # paid once, never twice
    again = recon.import_statement(world.finance_a.actor(), batch.id, filename="r2.csv",
                                   data=csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(b), "100000.00")]))
    assert statuses(again) == [(2, "duplicate"), (3, "matched")]
    assert ledger_balanced(world.programme).paid == D("140000.00")
    with pytest.raises(Duplicate):  # the same file twice
        recon.import_statement(world.finance_a.actor(), batch.id, filename="r2-copy.csv",
                               data=csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(b), "100000.00")]))


def test_reversal_of_an_earlier_matched_payment(world, batch2):
    batch, a, b = batch2
    first = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                   data=csv_file([(bank_purpose(a), "40000.00")]))
    before = ledger_balanced(world.programme)
    later = recon.import_statement(world.finance_a.actor(), batch.id, filename="r2.csv",
                                   data=csv_file([(bank_purpose(a), "-40000.00", "冲正"), (bank_purpose(b), "100000.00", "退汇")]))
    assert statuses(later) == [(2, "reversal"), (3, "reversal")]
    assert later.rows[0].reversed_row_id == first.rows[0].id
    assert later.rows[1].reversed_row_id is None and b.status == "in_batch"  # nothing marked paid from it
    assert ledger_balanced(world.programme) == before
    assert recon.allowed_decisions(later.rows[0], a) == ["record_returned", "ignore"]  # a paid line: 退汇
    assert recon.allowed_decisions(later.rows[1], b) == ["mark_failed", "ignore"]
    assert recon.programme_unreconciled(world.programme.id) == D("40000.00")


def test_decisions_go_through_the_state_machine_and_are_audited(world, batch2):
    batch, a, b = batch2
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                                 data=csv_file([(bank_purpose(a), "40000.01"), (bank_purpose(b), "99999.00"),
                                                ("其他 DSB-2026-999999", "5.00")]))
    differs_a, differs_b, unknown = imp.rows
    actor = world.finance_b.actor()
    with pytest.raises(ValidationFailed):
        recon.decide(actor, differs_a.id, "accept_paid", "  ")
    with pytest.raises(TransitionNotAllowed):
        recon.decide(actor, unknown.id, "accept_paid", "No such line")
    recon.decide(actor, differs_a.id, "accept_paid", "The bank's fee was added to the debit; confirmed by phone.")
    recon.decide(actor, differs_b.id, "mark_failed", "The bank paid a wrong amount; to be prepared again.")
    recon.decide(actor, unknown.id, "ignore", "Not a payment of this batch.")
    assert (a.status, b.status) == ("paid", "failed")
    assert [r.resolution for r in imp.rows] == ["accepted_paid", "marked_failed", "ignored"]
    bal = ledger_balanced(world.programme)
    assert bal.paid == D("40000.00")  # the approved amount, not the bank's
    with pytest.raises(TransitionNotAllowed):
        recon.decide(actor, unknown.id, "ignore", "Again")
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "reconciliation_row")
                                     .order_by(AuditEvent.id)))
    assert [(e.action, e.object_id, e.before, e.reason) for e in events] == [
        ("reconciliation_row.accept_paid", str(differs_a.id), {"resolution": "pending"},
         "The bank's fee was added to the debit; confirmed by phone."),
        ("reconciliation_row.mark_failed", str(differs_b.id), {"resolution": "pending"},
         "The bank paid a wrong amount; to be prepared again."),
        ("reconciliation_row.ignore", str(unknown.id), {"resolution": "pending"}, "Not a payment of this batch.")]
    assert events[0].actor_id == world.finance_b.id and events[0].after["difference"] == "0.01"
    imports = list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "reconciliation_import")))
    assert {e.action for e in imports} == {"reconciliation_import.create", "reconciliation_import.matched"}
    assert any(e.after.get("sha256") == imp.sha256 for e in imports)


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_excel_file_is_read_and_a_formula_cell_is_refused_by_row_and_column(world, batch2):
    batch, a, b = batch2
    header = ["户名", "账号", "金额", "用途", "银行流水号"]
    with pytest.raises(recon.StatementInvalid) as caught:
        recon.import_statement(world.finance_a.actor(), batch.id, filename="r.xlsx", data=xlsx(
            [header, ["某公司", "622200", "=40000+0", bank_purpose(a), "BK1"],
             ["某公司", "622200", "1.001", bank_purpose(b), "BK2"]]))
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "金额"), (3, "金额")]
    assert a.status == "in_batch" and db.session.scalar(select(ReconciliationRow.id)) is None
    with pytest.raises(recon.StatementInvalid) as caught:
        recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                               data=csv_file([("=HYPERLINK(\"x\") " + bank_purpose(a), "40000.00")]))
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "用途")]
    imp = recon.import_statement(world.finance_a.actor(), batch.id, filename="r.xlsx", data=xlsx(
        [header, ["某公司", "622200", D("40000.00"), bank_purpose(a), "BK1"],
         ["某公司", "622200", 100000, bank_purpose(b), "BK2"]]))
    assert statuses(imp) == [(2, "matched"), (3, "matched")]
    ledger_balanced(world.programme)


def test_a_file_in_the_wrong_encoding_or_without_the_columns_is_refused(world, batch2):
    batch, a, _b = batch2
    with pytest.raises(recon.StatementInvalid) as caught:
        recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv", layout="generic",
                               data=csv_file([(bank_purpose(a), "40000.00")], "gb18030_numbered"))
    assert caught.value.errors[0].row is None
    with pytest.raises(recon.StatementInvalid) as caught:
        recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv", data="a,b\r\n1,2\r\n".encode())
    assert [(e.row, e.column) for e in caught.value.errors] == [(1, "金额"), (1, "用途")]


def test_only_finance_may_reconcile(world, batch2):
    batch, a, _b = batch2
    with pytest.raises(Forbidden):
        recon.import_statement(world.officer.actor(), batch.id, filename="r.csv",
                               data=csv_file([(bank_purpose(a), "40000.00")]))
    with pytest.raises(Forbidden):
        recon.batch_reconciliation(world.officer.actor(), batch.id)


# --- the pages ------------------------------------------------------------------------------------

def test_pages_import_decide_export_and_403(app, world, batch2, login_as, client):
    batch, a, b = batch2
    world_ids = (batch.id, a.id)
    data = csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(b), "100000.01")])
    db.session.commit()
    login_as(world.officer)
    assert client.get(f"/payments/batches/{batch.id}/reconciliation").status_code == 403
    assert client.post(f"/payments/batches/{batch.id}/reconciliation").status_code == 403
    client_f = login_as(world.finance_a, "zh_Hans_CN")
    page = client_f.get(f"/payments/batches/{batch.id}/reconciliation")
    assert page.status_code == 200 and "对账" in page.get_data(as_text=True)
    token = _csrf(page.get_data(as_text=True))
    bad = client_f.post(f"/payments/batches/{batch.id}/reconciliation",
                        data={"csrf_token": token, "layout": "generic",
                              "file": (io.BytesIO(csv_file([(bank_purpose(a), "=1+1")])), "r.csv")},
                        content_type="multipart/form-data")
    assert bad.status_code == 422 and 'id="file-errors"' in bad.get_data(as_text=True)
    ok = client_f.post(f"/payments/batches/{batch.id}/reconciliation",
                       data={"csrf_token": token, "layout": "generic", "file": (io.BytesIO(data), "r.csv")},
                       content_type="multipart/form-data")
    assert ok.status_code == 302, ok.get_data(as_text=True)[:500]
    row = db.session.scalar(select(ReconciliationRow).where(ReconciliationRow.status == "amount_differs"))
    decided = client_f.post(f"/payments/reconciliation/rows/{row.id}/decide",
                            data={"csrf_token": token, "decision": "ignore", "reason": "银行多扣1分，另行处理"})
    assert decided.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReconciliationRow, row.id).resolution == "ignored"
    export = client_f.get(f"/payments/batches/{batch.id}/reconciliation?format=xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    assert world_ids[0] == batch.id


def _csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return found.group(1) if found else ""  # the tests' configuration may switch CSRF off


def test_the_pdf_report_lists_the_differences(world, batch2):
    from datetime import datetime, timezone

    from voucher.documents.builders import IssueContext, builder_for
    from voucher.payments import reconciliation_documents  # noqa: F401

    batch, a, b = batch2
    recon.import_statement(world.finance_a.actor(), batch.id, filename="r.csv",
                           data=csv_file([(bank_purpose(a), "40000.00"), (bank_purpose(b), "100000.01")]))
    issue = IssueContext("ABCDE-FGHIJ", "https://example.test/verify/ABCDEFGHIJ",
                         datetime(2026, 11, 20, 2, tzinfo=timezone.utc), 1, 1)
    for lang in ("zh", "en"):
        name, data, mime, _title = builder_for("reconciliation_report")(batch.id, lang, issue)
        assert mime == "application/pdf" and data.startswith(b"%PDF") and name.endswith(".pdf")
    assert recon.programme_unreconciled(world.programme.id) == D("0.00")  # b is not paid: nothing to reconcile
