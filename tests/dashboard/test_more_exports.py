"""The LPR table, the document jobs and the in-app notifications export what they show: the file
(read back with csv / openpyxl) holds the rows of every page, with the page's filters, and only
what the caller may see on the page."""
from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.dashboard.test_exports import export_rows, page_rows
from voucher.auth.models import User
from voucher.documents.models import JobRecord
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.programmes.models import LprRate


def _user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def _export_links(page: str) -> dict[str, str]:
    return {fmt: html_lib.unescape(href) for href, fmt in re.findall(r'href="([^"]+)" data-export="(csv|xlsx)"', page)}


# --- the LPR table ---------------------------------------------------------------------------------

@pytest.fixture()
def many_rates(demo):
    """25 more rates than the demo's two: the table spans two pages (PAGE_SIZE 20)."""
    for n in range(25):
        day = date(2018 + n // 12, n % 12 + 1, 20)
        db.session.add(LprRate(effective_from=day, rate_pct=Decimal("4.30") - Decimal(n) / 100))
    db.session.commit()


def test_the_lpr_export_has_every_rate_of_every_page(as_demo, many_rates):
    client = as_demo("officer")
    shown = page_rows(client, "/subsidies/lpr")
    headers, rows = export_rows(client, "/subsidies/lpr")
    assert len(shown) == len(rows) == 27  # 2 + 25 rates: both pages (PAGE_SIZE 20)
    assert [r[0] for r in rows] == [r[0] for r in shown]  # newest first, as the page
    assert [f"{r[1]}%" for r in rows] == [r[1] for r in shown]
    assert headers == ["In force from", "1-year LPR (percent)"]
    in_db = db.session.execute(select(LprRate.effective_from, LprRate.rate_pct)
                               .order_by(LprRate.effective_from.desc())).all()
    assert [(date.fromisoformat(r[0]), Decimal(r[1])) for r in rows] == [tuple(r) for r in in_db]


def test_the_lpr_excel_file_reads_back_as_the_csv_with_rates_as_numbers(as_demo, many_rates):
    client = as_demo("auditor")  # auditors read the table, and may export it
    csv_headers, csv_rows = export_rows(client, "/subsidies/lpr")
    xlsx_headers, xlsx_rows = export_rows(client, "/subsidies/lpr", "xlsx")
    assert xlsx_headers == csv_headers and len(xlsx_rows) == len(csv_rows) == 27
    for c, x in zip(csv_rows, xlsx_rows):
        assert x[0] == c[0]  # the date stays text
        assert isinstance(x[1], (int, float)) and Decimal(str(x[1])) == Decimal(c[1])


def test_the_lpr_page_offers_the_export_and_keeps_its_access_rules(as_demo, many_rates):
    client = as_demo("officer")
    links = _export_links(client.get("/subsidies/lpr?page=2").get_data(as_text=True))
    assert set(links) == {"csv", "xlsx"}
    assert all("page=" not in href and href.startswith("/subsidies/lpr?") for href in links.values())
    # Asking from page 2 still gives every rate.
    _headers, rows = export_rows(client, "/subsidies/lpr?page=2")
    assert len(rows) == 27
    assert client.get("/subsidies/lpr?format=pdf").status_code == 400
    headers, _rows = export_rows(as_demo("officer", "zh_Hans_CN"), "/subsidies/lpr")
    assert headers[0] != "In force from"  # the file speaks the user's language
    for role in ("sme", "provider", "finance"):
        assert as_demo(role).get("/subsidies/lpr?format=csv").status_code == 403


# --- document jobs ---------------------------------------------------------------------------------

@pytest.fixture()
def jobs(demo):
    """26 top-level jobs (finance's, the officer's, the system's; one batch with two children)."""
    finance, officer = _user_id("finance@demo.test"), _user_id("officer@demo.test")
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    statuses = ("succeeded", "failed", "queued", "running")
    for n in range(25):
        status = statuses[n % 4]
        db.session.add(JobRecord(
            kind="payment_order" if n % 3 else "programme_report",
            subject_type="disbursement" if n % 3 else "programme", subject_id=100 + n, lang="zh",
            requested_by=(finance, officer, None)[n % 3], status=status,
            progress={"succeeded": 100, "failed": 10, "queued": 0, "running": 40}[status],
            message="ConnectionError: bank data service timed out" if status == "failed" else None,
            created_at=start + timedelta(minutes=n)))
    batch = JobRecord(kind="bank_file", subject_type="payment_batch", subject_id=None, lang="zh", requested_by=finance,
                      status="running", progress=50, is_batch=True, params={"count": 2},
                      created_at=start + timedelta(hours=1))
    db.session.add(batch)
    db.session.flush()
    for n in range(2):
        db.session.add(JobRecord(kind="bank_file", subject_type="payment_batch", subject_id=200 + n, lang="zh",
                                 requested_by=finance, status="succeeded" if n else "queued", progress=100 if n else 0,
                                 parent_id=batch.id, created_at=start + timedelta(hours=1, minutes=n)))
    db.session.commit()
    return {"finance": finance, "officer": officer, "batch": batch.id}


def _top_level_count(**where) -> int:
    stmt = select(func.count()).select_from(JobRecord).where(JobRecord.parent_id.is_(None))
    for column, value in where.items():
        stmt = stmt.where(getattr(JobRecord, column) == value)
    return db.session.scalar(stmt)


def test_the_jobs_export_has_the_jobs_of_every_page(as_demo, jobs):
    client = as_demo("officer")
    shown = page_rows(client, "/jobs")
    headers, rows = export_rows(client, "/jobs")
    assert len(rows) == len(shown) == _top_level_count() >= 26  # both pages (PAGE_SIZE 20), no batch children
    assert [f"#{r[0]}" for r in rows] == [r[0] for r in shown]
    assert [r[1:6] for r in rows] == [r[1:6] for r in shown]  # document, about, asked by/at, status
    assert [f"{r[6]}%" for r in rows] == [r[6] for r in shown]
    assert headers == ["Job", "Document", "About", "Asked for by", "Asked for at", "Status", "Progress (%)"]
    batch = next(r for r in rows if int(r[0]) == jobs["batch"])
    assert batch[1:3] == ["Batch: Bank payment file", "2 items"]
    assert any(r[3] == "the system" for r in rows) and any(r[3] == "刘财务" for r in rows)


@pytest.mark.parametrize("query,where,status_label", [
    ("status=failed", {"status": "failed"}, "Failed"),
    ("status=running&kind=payment_order", {"status": "running", "kind": "payment_order"}, "Being produced"),
    ("kind=programme_report", {"kind": "programme_report"}, None),
])
def test_the_jobs_export_applies_the_filters(as_demo, jobs, query, where, status_label):
    client = as_demo("officer")
    shown = page_rows(client, f"/jobs?{query}")
    _headers, rows = export_rows(client, f"/jobs?{query}")
    assert rows and [f"#{r[0]}" for r in rows] == [r[0] for r in shown]
    assert len(rows) == _top_level_count(**where)
    if status_label:
        assert {r[5] for r in rows} == {status_label}
    if "kind" in where:
        assert {r[1] for r in rows} == {"Payment order" if where["kind"] == "payment_order" else "Programme report"}


def test_the_jobs_export_of_only_my_jobs(as_demo, jobs):
    client = as_demo("finance")
    page = client.get("/jobs?mine=1&status=failed").get_data(as_text=True)
    links = _export_links(page)
    assert "mine=1" in links["csv"] and "status=failed" in links["csv"] and "format=csv" in links["csv"]
    _headers, rows = export_rows(client, "/jobs?mine=1")
    assert len(rows) == _top_level_count(requested_by=jobs["finance"]) > 0
    assert {r[3] for r in rows} == {"刘财务"}
    assert [f"#{r[0]}" for r in rows] == [r[0] for r in page_rows(client, "/jobs?mine=1")]
    # The officer's "mine" is the officer's, not finance's.
    _headers, officers = export_rows(as_demo("officer"), "/jobs?mine=1")
    assert {r[3] for r in officers} == {"张科长"} and not {r[0] for r in officers} & {r[0] for r in rows}


def test_the_jobs_excel_file_reads_back_as_the_csv(as_demo, jobs):
    client = as_demo("auditor")
    csv_headers, csv_rows = export_rows(client, "/jobs?status=failed")
    xlsx_headers, xlsx_rows = export_rows(client, "/jobs?status=failed", "xlsx")
    assert xlsx_headers == csv_headers and len(xlsx_rows) == len(csv_rows) > 0
    for c, x in zip(csv_rows, xlsx_rows):
        assert x[0] == int(c[0]) and x[6] == int(c[6])  # numbers in Excel
        assert [str(v) for v in x[1:6]] == c[1:6]


def test_the_jobs_export_keeps_the_page_access_rules(as_demo, jobs):
    for role in ("sme", "provider", "evaluator"):
        client = as_demo(role)
        assert client.get("/jobs").status_code == 403
        assert client.get("/jobs?format=csv").status_code == 403
        assert client.get("/jobs?format=xlsx").status_code == 403
    assert as_demo("admin").get("/jobs?format=csv").status_code == 200
    assert as_demo("admin").get("/jobs?format=json").status_code == 400


# --- in-app notifications --------------------------------------------------------------------------

@pytest.fixture()
def notes(demo):
    """23 notifications for the demo SME user (3 read), 4 for the provider user."""
    sme, provider = _user_id("sme@demo.test"), _user_id("provider@demo.test")
    start = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    for n in range(23):
        db.session.add(Notification(user_id=sme, message="Test notice %(n)s for the enterprise", params={"n": n},
                                    link=f"/trials/{n}", created_at=start + timedelta(hours=n),
                                    read_at=start + timedelta(hours=n, minutes=5) if n < 3 else None))
    for n in range(4):
        db.session.add(Notification(user_id=provider, message="Provider secret %(n)s", params={"n": n},
                                    created_at=start + timedelta(hours=n)))
    db.session.commit()
    return {"sme": sme, "provider": provider}


_ITEM = re.compile(r'<li class="list-group-item[^"]*">\s*<div><div>(.*?)</div><small class="text-muted">(.*?)</small>',
                   re.DOTALL)


def shown_notifications(client) -> list[tuple[str, str]]:
    """(message, time) of every notification on every page of the list."""
    items, page = [], 1
    while page < 50:
        response = client.get(f"/notifications/?page={page}")
        assert response.status_code == 200
        found = [(html_lib.unescape(m).strip(), html_lib.unescape(t).strip())
                 for m, t in _ITEM.findall(response.get_data(as_text=True))]
        if not found:
            break
        items += found
        page += 1
    return items


def _own_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user_id))


def test_the_notification_export_has_the_notifications_of_every_page(as_demo, notes):
    client = as_demo("sme")
    shown = shown_notifications(client)
    headers, rows = export_rows(client, "/notifications/")
    assert len(rows) == len(shown) == _own_count(notes["sme"]) >= 23  # both pages (PAGE_SIZE 20)
    assert [(r[0], r[1]) for r in rows] == shown
    assert headers == ["Notification", "Received", "Read at", "Link"]
    assert rows[0][0] == "Test notice 22 for the enterprise" and rows[0][3] == "/trials/22"
    mine = {r[0]: r for r in rows if r[0].startswith("Test notice")}
    assert all(mine[f"Test notice {n} for the enterprise"][2] for n in range(3))  # read
    assert not any(mine[f"Test notice {n} for the enterprise"][2] for n in range(3, 23))  # unread


def test_a_user_exports_only_their_own_notifications(as_demo, notes):
    client = as_demo("sme")
    for fmt in ("csv", "xlsx"):
        # Even asking for another user's id changes nothing: the list is always the caller's.
        _headers, rows = export_rows(client, f"/notifications/?user_id={notes['provider']}", fmt)
        assert len(rows) == _own_count(notes["sme"])
        assert not any("Provider secret" in str(r[0]) for r in rows)
    client = as_demo("provider")
    _headers, rows = export_rows(client, "/notifications/")
    assert len(rows) == _own_count(notes["provider"])
    assert {r[0] for r in rows} >= {f"Provider secret {n}" for n in range(4)}
    assert not any(str(r[0]).startswith("Test notice") for r in rows)
    client.post("/logout")
    response = client.get("/notifications/?format=csv")
    assert response.status_code in (302, 401) and response.mimetype != "text/csv"


def test_the_notification_excel_file_reads_back_as_the_csv(as_demo, notes):
    client = as_demo("sme", "zh_Hans_CN")
    csv_headers, csv_rows = export_rows(client, "/notifications/")
    xlsx_headers, xlsx_rows = export_rows(client, "/notifications/", "xlsx")
    assert csv_headers[0] == "通知内容"  # the file speaks the user's language
    assert xlsx_headers == csv_headers and len(xlsx_rows) == len(csv_rows)
    assert [[str(v) for v in r] for r in xlsx_rows] == csv_rows


def test_the_notification_page_offers_the_export(as_demo, notes):
    page = as_demo("sme").get("/notifications/?page=2").get_data(as_text=True)
    links = _export_links(page)
    assert set(links) == {"csv", "xlsx"}
    assert all(href.startswith("/notifications/?") and "page=" not in href for href in links.values())
