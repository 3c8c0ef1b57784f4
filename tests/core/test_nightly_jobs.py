"""The nightly jobs (risk scan, benefits match) are enqueued by the jobs sweeper once per Beijing night,
between NIGHTLY_HOUR and NIGHTLY_END_HOUR (a window may cross midnight), whichever worker sweeps first
(voucher.tasks.schedule_nightly)."""
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


def test_a_window_across_midnight_runs_once_per_night(conn, app, monkeypatch):
    """22 to 5: from 22:00 to 04:59; the hours after midnight belong to the night that began the day before."""
    monkeypatch.setitem(app.config, "NIGHTLY_HOUR", 22)
    monkeypatch.setitem(app.config, "NIGHTLY_END_HOUR", 5)
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 21, 59, tzinfo=BEIJING)) == []
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 1, 23, 0, tzinfo=BEIJING)) == NIGHTLY
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 2, 2, 0, tzinfo=BEIJING)) == []  # the same night
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 2, 5, 0, tzinfo=BEIJING)) == []  # closed
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 2, 12, 0, tzinfo=BEIJING)) == []
    assert queued(conn) == NIGHTLY
    # No worker up from 22:00 on 2 March: the night of 2 March catches up after midnight, once.
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 3, 4, 59, tzinfo=BEIJING)) == NIGHTLY
    assert tasks.schedule_nightly(conn, datetime(2027, 3, 3, 22, 0, tzinfo=BEIJING)) == NIGHTLY  # the next night
    assert queued(conn) == NIGHTLY * 3


@pytest.mark.parametrize("start, end, window", [
    (1, 6, (1, 6)), (22, 5, (22, 5)), (0, 24, (0, 24)), (22, 24, (22, 24)),
    (24, 6, None), (None, 6, None), (3, 3, None), (25, 6, None), (1, 25, None), (-1, 6, None), ("22", "5", (22, 5)), ("ten", 6, None)])
def test_which_settings_give_a_window(start, end, window):
    """24 or unset: never (the tests' setting); a window of no hours or an hour out of range: never."""
    assert tasks.nightly_window({"NIGHTLY_HOUR": start, "NIGHTLY_END_HOUR": end}) == window


def test_a_worker_warns_of_settings_that_give_no_window():
    assert "will not run" in tasks.nightly_settings_problem({"NIGHTLY_HOUR": 3, "NIGHTLY_END_HOUR": 3})
    assert "will not run" in tasks.nightly_settings_problem({"NIGHTLY_HOUR": 1, "NIGHTLY_END_HOUR": 30})
    assert "will not run" in tasks.nightly_settings_problem({"NIGHTLY_HOUR": "ten", "NIGHTLY_END_HOUR": 6})
    assert tasks.nightly_settings_problem({"NIGHTLY_HOUR": 22, "NIGHTLY_END_HOUR": 5}) is None
    assert tasks.nightly_settings_problem({"NIGHTLY_HOUR": 24, "NIGHTLY_END_HOUR": 6}) is None  # never, on purpose
