"""The nightly jobs (risk scan, benefits match) are enqueued by the jobs sweeper once per Beijing day,
from NIGHTLY_HOUR on, whichever worker sweeps first (voucher.tasks.schedule_nightly)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from redis import Redis
from rq import Queue

from voucher import tasks

BEIJING = ZoneInfo("Asia/Shanghai")
NIGHTLY = ["voucher.risk.jobs.nightly_scan", "voucher.benefits.jobs.nightly_match"]


@pytest.fixture()
def conn(app, redis_url, monkeypatch):
    monkeypatch.setitem(app.config, "NIGHTLY_HOUR", 1)
    client = Redis.from_url(redis_url)
    queue = Queue(tasks.SWEEP_QUEUE, connection=client)

    def clean():
        for key in client.scan_iter(tasks.NIGHTLY_KEY + "*"):
            client.delete(key)
        for job in queue.jobs:
            if (job.description or "").startswith("nightly "):
                job.delete()

    clean()
    with app.app_context():
        yield client
    clean()


def queued(client) -> list[str]:
    return [j.func_name for j in Queue(tasks.SWEEP_QUEUE, connection=client).jobs
            if (j.description or "").startswith("nightly ")]


def test_both_nightly_jobs_are_registered(app):
    assert [f"{f.__module__}.{f.__name__}" for f in tasks.nightly_jobs()] == NIGHTLY


def test_once_a_day_from_the_hour_on(conn):
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 0, 59, tzinfo=BEIJING)) == []  # before 01:00
    assert queued(conn) == []
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 1, 0, tzinfo=BEIJING)) == NIGHTLY
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 3, 30, tzinfo=BEIJING)) == []  # another worker, same night
    assert queued(conn) == NIGHTLY
    # 17:30 UTC on 1 March is 01:30 on 2 March in Beijing: the next day's run
    assert tasks.schedule_nightly(conn, datetime.fromisoformat("2027-03-01T17:30:00+00:00")) == NIGHTLY
    assert queued(conn) == NIGHTLY * 2


def test_only_in_the_night_window(conn):
    """A worker first started in office hours leaves the whole-data scans to the next night."""
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 11, 0, tzinfo=BEIJING)) == []
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 6, 0, tzinfo=BEIJING)) == []  # the window has closed
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 23, 59, tzinfo=BEIJING)) == []
    assert queued(conn) == []
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 2, 5, 59, tzinfo=BEIJING)) == NIGHTLY  # caught up late
    assert queued(conn) == NIGHTLY


def test_the_window_is_configurable(conn, app, monkeypatch):
    monkeypatch.setitem(app.config, "NIGHTLY_HOUR", 22)
    monkeypatch.setitem(app.config, "NIGHTLY_END_HOUR", 24)
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 21, 59, tzinfo=BEIJING)) == []
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 22, 0, tzinfo=BEIJING)) == NIGHTLY


def test_the_suite_never_enqueues_them(app, redis_url):
    """The tests' configuration: NIGHTLY_HOUR 24, so a sweep in another test enqueues nothing."""
    with app.app_context():
        assert tasks.schedule_nightly(Redis.from_url(redis_url), datetime(2027, 3, 1, 23, 59, tzinfo=BEIJING)) == []
