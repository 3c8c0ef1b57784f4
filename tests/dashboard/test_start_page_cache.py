"""Start-page figures kept in Redis until the next recorded change (voucher.figures_cache, issue 15).

The rule: a start page never shows a figure older than the newest commit it could read.  The suite runs
with the cache off (builders write rows without audit events); these tests turn it on over the demo data,
whose every row was written by the services (and so audited)."""
from __future__ import annotations

import pickle
import re

import pytest
from redis import Redis

from voucher import figures_cache as cache
from voucher.audit.services import Actor
from voucher.dashboard import figures, roles
from voucher.extensions import db

OFFICER = Actor(user_id=None, role="officer", organisation_id=None, label="test officer")


@pytest.fixture()
def cache_on(app, redis_url, monkeypatch):
    """The cache on, over an empty key space (another test's figures under the same head would be stale)."""
    monkeypatch.setitem(app.config, "START_PAGE_CACHE_SECONDS", 60)
    client = Redis.from_url(redis_url)
    for key in client.scan_iter(cache.PREFIX + "*"):
        client.delete(key)
    yield client
    for key in client.scan_iter(cache.PREFIX + "*"):
        client.delete(key)


@pytest.fixture()
def counted_queue(monkeypatch):
    """How many times the review queue was counted in the database."""
    calls = []
    real = figures.waiting_counts

    def counting(before):
        calls.append(1)
        return real(before)

    monkeypatch.setattr(figures, "waiting_counts", counting)
    return calls


def waiting_kpi(html: str) -> int:
    return int(re.search(r'id="kpi-waiting".*?<a[^>]*>(\d+)</a>', html, re.S).group(1))


def test_the_officer_start_page_counts_once_and_counts_again_after_a_decision(as_demo, cache_on, counted_queue):
    from voucher.applications import services as applications
    from voucher.applications.models import TrialApplication

    client = as_demo("officer")
    first = waiting_kpi(client.get("/").get_data(as_text=True))
    assert first > 0 and len(counted_queue) == 1
    assert waiting_kpi(client.get("/").get_data(as_text=True)) == first
    assert len(counted_queue) == 1, "the second visit reads the figure kept in Redis"

    waiting = db.session.scalars(db.select(TrialApplication).where(TrialApplication.status == "submitted")
                                 .order_by(TrialApplication.id)).first()
    applications.return_for_revision(OFFICER, waiting.id, "Attach the signed contract.")
    db.session.commit()  # the decision's audit event is linked into the chain: the head moves

    assert waiting_kpi(client.get("/").get_data(as_text=True)) == first - 1
    assert len(counted_queue) == 2


def test_without_redis_the_figures_are_computed_every_time(as_demo, app, monkeypatch, counted_queue):
    monkeypatch.setitem(app.config, "START_PAGE_CACHE_SECONDS", 60)
    client = as_demo("officer")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200
    assert len(counted_queue) == 2


def test_the_payable_items_are_kept_without_bank_details(as_demo, cache_on, app):
    from voucher.payments.queries import payable_overview

    client = as_demo("finance")
    assert client.get("/").status_code == 200
    kept = [pickle.loads(cache_on.get(k)) for k in cache_on.scan_iter(cache.PREFIX + "payable_overview:*")]
    assert kept, "the finance start page keeps its payable overview"
    shown, summary = kept[0]
    assert shown and all(p.bank_account is None and p.bank_name is None and p.bank_code is None for p in shown)
    with app.test_request_context("/"):
        fresh_shown, fresh_summary = payable_overview(len(shown))
    assert summary == fresh_summary
    assert [(p.source_type, p.source_id, p.milestone, p.amount) for p in shown] == \
        [(p.source_type, p.source_id, p.milestone, p.amount) for p in fresh_shown]


def built_three_times(app, build, actor) -> tuple[dict, dict]:
    """A start page's figures built in three requests: (the first, computed; the last, read back)."""
    pages = []
    for _ in range(3):  # computes and keeps, then reads, then reads
        with app.test_request_context("/"):
            pages.append(build(actor))
    return pages[0], pages[-1]


def test_cached_figures_equal_computed_ones(as_demo, cache_on, app):
    """The start page's figures are the same with and without the cache (each kept one read back)."""
    direct, kept = built_three_times(app, roles.officer, OFFICER)
    assert any(cache_on.scan_iter(cache.PREFIX + "waiting_summary:*"))
    for key in ("waiting_total", "review_overdue", "mean_review"):
        assert kept[key] == direct[key]
    assert [c.rows for c in kept["charts"]] == [c.rows for c in direct["charts"]]


def test_the_finance_start_page_keeps_its_ledger_sums_and_counts(as_demo, cache_on, app):
    """The finance start page's sums over the ledger and counts of disbursements (they grow with the
    data) are kept too, and read back equal to a fresh computation."""
    finance = Actor(user_id=None, role="finance", organisation_id=None, label="test finance officer")
    direct, kept = built_three_times(app, roles.finance, finance)
    for name in ("paid_between", "reserved_outstanding", "payment_counts", "fund_by_kind"):
        assert any(cache_on.scan_iter(f"{cache.PREFIX}{name}:*")), name
    for key in ("paid_month", "paid_year", "reserved", "payments", "payable_total", "payable_amount"):
        assert kept[key] == direct[key], key
    assert [c.rows for c in kept["charts"]] == [c.rows for c in direct["charts"]]
    assert direct["reserved"] > 0 and direct["charts"][1].rows  # the demo has reservations by kind
