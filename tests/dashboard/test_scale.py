"""The officer's start page at scale: the same figures as a row-by-row computation, the oldest
waiting rows with their deadlines, and a number of SQL statements that does not grow with the
number of applications (the non-timing proof that no request reads every application)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import event, insert

from tests.factories import build_programme, do_login
from voucher.appnumbers import number_missing
from voucher.extensions import db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture()
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def add_waiting(make_org, n: int, step_hours: int = 19) -> list[int]:
    """``n`` submitted trial-voucher applications, one every ``step_hours`` back from NOW (so they
    span local days, weekends and the deadline), inserted in bulk."""
    from voucher.applications.models import TrialApplication
    from voucher.catalogue.models import Solution

    programme = build_programme()
    provider = make_org("provider")
    now = datetime.now(timezone.utc)
    solution_id = db.session.execute(insert(Solution.__table__).returning(Solution.__table__.c.id), [{
        "provider_id": provider.id, "title": "排产优化", "category": "mes", "target_industries": [],
        "description": "x", "list_price": Decimal("90000.00"), "trial_price": Decimal("30000.00"),
        "trial_period_days": 90, "status": "listed", "created_at": now, "updated_at": now}]).scalar_one()
    orgs = [make_org("enterprise") for _ in range(3)]
    rows = []
    for i in range(n):
        submitted = NOW.astimezone(timezone.utc) - timedelta(hours=step_hours * i + 1)
        rows.append({"programme_id": programme.id, "enterprise_id": orgs[i % 3].id, "solution_id": solution_id,
                     "provider_id": provider.id, "requested_amount": Decimal(1000 + i),
                     "need_statement": "提升效率", "contract_date": submitted.date(),
                     "trial_start_date": submitted.date(), "status": "submitted", "submitted_at": submitted,
                     "idempotency_token": f"scale-{n}-{i}", "created_at": submitted, "updated_at": submitted})
    db.session.execute(insert(TrialApplication.__table__), rows)
    number_missing(TrialApplication)  # a Core INSERT bypasses the mapper's numbering
    db.session.flush()
    return [r["idempotency_token"] for r in rows]


def test_the_queue_figures_equal_a_row_by_row_computation(ctx, make_org, frozen):
    from voucher.dashboard import roles
    from voucher.deadlines import local_today, review_deadline, waited

    add_waiting(make_org, 40)
    today = local_today()
    from voucher.dashboard import figures

    everything = figures.waiting_for_review()
    assert len(everything) == 40
    deadlines = [review_deadline(w.submitted_at, today) for w in everything]
    waits = [waited(w.submitted_at, today) for w in everything]
    buckets = [(0, 2), (3, 5), (6, 10), (11, 10**6)]
    expected_ages = [sum(1 for d in waits if d is not None and lo <= d <= hi) for lo, hi in buckets]

    summary = roles.waiting_summary()
    assert summary["total"] == 40
    assert summary["overdue"] == sum(1 for d in deadlines if d.is_overdue)
    assert 0 < summary["overdue"] < 40  # the data straddles the deadline
    assert summary["ages"] == expected_ages
    assert all(expected_ages)  # every bucket is exercised

    # The six shown are the most urgent, each with the deadline computed row by row.
    by_urgency = sorted(zip(everything, deadlines), key=lambda p: (p[1].sort_key, p[0].submitted_at))
    shown = roles.waiting_rows(6)
    assert [(r.item.kind, r.item.id) for r in shown] == [(w.kind, w.id) for w, _d in by_urgency[:6]]
    assert [r.deadline for r in shown] == [d for _w, d in by_urgency[:6]]


def test_the_queue_age_chart_and_counts_on_the_page(client, make_org, make_user, frozen):
    from voucher.dashboard import roles

    add_waiting(make_org, 30)
    summary = roles.waiting_summary()
    officer = make_user("officer")
    db.session.commit()
    assert do_login(client, officer).status_code == 302
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="waiting-table"' in html
    assert html.count("<tr", html.index('id="waiting-table"'), html.index("</table>", html.index('id="waiting-table"'))) == 7
    assert f">{summary['total']}<" in html.replace(" ", "")


class Statements:
    def __init__(self):
        self.n = 0

    def __call__(self, *args, **kwargs):
        self.n += 1


def _count_page(client, path: str) -> int:
    counter = Statements()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return counter.n


@pytest.mark.parametrize("path", ["/", "/applications/review", "/applications/review?status=&sort=amount_desc"])
def test_the_officer_pages_run_the_same_statements_for_5_and_50_applications(app, client, make_org, make_user,
                                                                              frozen, path):
    officer = make_user("officer")
    db.session.commit()
    assert do_login(client, officer).status_code == 302
    add_waiting(make_org, 5)
    db.session.commit()
    client.get(path)  # warm: the calendar, translations
    few = _count_page(client, path)
    add_waiting(make_org, 45, step_hours=7)
    db.session.commit()
    many = _count_page(client, path)
    assert many == few
    assert few < 40


def test_deadlines_are_computed_only_for_the_rows_shown(client, make_org, make_user, frozen, monkeypatch):
    from voucher.dashboard import roles

    calls = []
    real = roles.review_deadline
    monkeypatch.setattr(roles, "review_deadline", lambda *a, **k: calls.append(1) or real(*a, **k))
    officer = make_user("officer")
    add_waiting(make_org, 50)
    db.session.commit()
    assert do_login(client, officer).status_code == 302
    assert client.get("/").status_code == 200
    assert len(calls) == 6
