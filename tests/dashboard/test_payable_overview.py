"""The finance start page's payable figures and most urgent rows come from SQL
(``payments.queries.payable_summary`` / ``urgent_payables``): they equal the item-by-item queue
(``payments.queries.payables``) on the demo data, on the demo day and later (deadlines passed),
with an item held for missing bank details and one under an open objection; and the start page
issues the same number of SQL statements whatever the number of payable items."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select, update

from voucher.extensions import db

ZERO = Decimal("0.00")


def _expected(today, payee_id=None):
    from voucher.payments.queries import payables

    items = [p for p in payables(today=today) if payee_id is None or p.payee_id == payee_id]
    ready = [p for p in items if p.hold is None]
    overdue = sum(1 for p in ready if p.deadline(today) and p.deadline(today).is_overdue)
    return items, (len(items), len(ready), sum((p.amount for p in ready), ZERO), overdue)


def _key(p, today):
    d = p.deadline(today)
    return (p.hold is not None, d.sort_key if d else 10**6)


def _check(today, payee_id=None):
    from voucher.payments.queries import payable_summary, urgent_payables

    items, figures = _expected(today, payee_id)
    s = payable_summary(today, payee_id)
    assert (s.total, s.ready, s.ready_amount, s.overdue) == figures
    items.sort(key=lambda p: _key(p, today))
    for limit in (1, 3, 8, len(items) + 5):
        top = urgent_payables(limit, today, payee_id)
        assert [_key(p, today) for p in top] == [_key(p, today) for p in items[:limit]]
        by_key = {p.key: p for p in items}
        for p in top:  # the row itself as the queue builds it (the basis aside)
            q = by_key[p.key]
            assert (p.amount, p.payee_name, p.enterprise_name, p.hold, p.hold_until, p.notice_ends_on,
                    p.payable_since, p.programme_name) == \
                   (q.amount, q.payee_name, q.enterprise_name, q.hold, q.hold_until, q.notice_ends_on,
                    q.payable_since, q.programme_name)
    return items


@pytest.mark.demo_day("2026-11-20")
def test_the_sql_figures_and_rows_equal_the_item_by_item_queue(demo):
    from voucher.deadlines import local_today
    from voucher.enterprises.models import Organisation
    from voucher.payments.models import NoticeObjection, PublicNoticeItem

    today = local_today()
    items = _check(today)
    assert len(items) >= 2 and any(p.hold is None for p in items)
    for later in (10, 40, 400):  # deadlines pass; notices end
        _check(today + timedelta(days=later))
    for payee_id in {p.payee_id for p in items}:
        _check(today + timedelta(days=40), payee_id)

    # Every payment and disbursement undone (their items back in the queue), one notice still running, one item
    # taken off its notice.
    from voucher.payments.models import Disbursement, PublicNotice
    from voucher.programmes.models import FundLedgerEntry

    db.session.execute(update(Disbursement).values(status="rejected"))
    db.session.execute(update(FundLedgerEntry).where(FundLedgerEntry.kind == "pay")
                       .values(source_id=FundLedgerEntry.source_id + 1_000_000))
    db.session.execute(update(NoticeObjection).values(status="dismissed"))
    db.session.flush()
    items = _check(today)
    first, last = items[0], items[-1]
    running = db.session.get(PublicNotice, first.notice_id)
    running.ends_on = today + timedelta(days=20)
    db.session.delete(db.session.scalar(select(PublicNoticeItem).where(PublicNoticeItem.source_type == last.source_type,
                                                                       PublicNoticeItem.source_id == last.source_id)))
    db.session.flush()
    for later in (0, 10, 40):
        items = _check(today + timedelta(days=later))
    assert len(items) > 4 and {None, "not_announced"} <= {p.hold for p in items}
    assert "notice_running" in {p.hold for p in _check(today)}

    # A payee without a bank account, and an open objection against another payee's item.
    ready = [p for p in items if p.hold is None]
    db.session.execute(update(Organisation).where(Organisation.id == ready[0].payee_id).values(bank_account="  "))
    other = next(p for p in ready if p.payee_id != ready[0].payee_id)
    announced = db.session.scalar(select(PublicNoticeItem).where(PublicNoticeItem.source_type == other.source_type,
                                                                 PublicNoticeItem.source_id == other.source_id))
    db.session.add(NoticeObjection(notice_id=announced.notice_id, item_id=announced.id, name="张三",
                                   contact="13800000000", text="有异议", status="open"))
    db.session.flush()
    items = _check(today + timedelta(days=40))
    assert {"no_bank_account", "objection_open", None} <= {p.hold for p in items}


@pytest.mark.demo_day("2026-11-20")
def test_the_finance_start_page_never_builds_every_item(demo, as_demo, monkeypatch):
    """The finance start page neither builds the item-by-item queue nor lists every trial's payable
    milestones, and its SQL statements do not grow with the payable items; its figures are the
    summary's."""
    from voucher.payments import queries as pq
    from voucher.payments.models import Disbursement
    from voucher.programmes.models import FundLedgerEntry
    from voucher.trials import queries as tq

    client = as_demo("finance")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def forbidden(*args, **kwargs):
        raise AssertionError("the start page read every payable item")

    def page():
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            monkeypatch.setattr(pq, "payables", forbidden)
            monkeypatch.setattr(tq, "payable_items", forbidden)
            response = client.get("/")
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            monkeypatch.undo()
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        summary = pq.payable_summary()
        assert f"{summary.total} payable item(s) in total." in html
        return summary.total, len(statements)

    few, n_few = page()
    db.session.execute(update(Disbursement).values(status="rejected"))
    db.session.execute(update(FundLedgerEntry).where(FundLedgerEntry.kind == "pay")
                       .values(source_id=FundLedgerEntry.source_id + 1_000_000))
    db.session.commit()
    more, n_more = page()
    assert more > few and n_more == n_few
