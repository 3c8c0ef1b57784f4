"""Payment jobs: telling the finance officers when a public notice's grants become payable.

Publishing a notice schedules :func:`announce_payable` for 08:00 (Asia/Shanghai) on the day after
the notice period ends (RQ's scheduler, which every worker runs); ``flask voucher notify-payable``
runs the same sweep (a daily cron where no worker runs).  The sweep announces every ended notice
not yet announced, once each, so a lost or repeated job changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ANNOUNCE_HOUR = time(8, 0)


def announce_payable() -> int:
    """RQ job: announce the ended notices (committed by the job class); the number announced."""
    from voucher.payments import services

    return len(services.announce_payable_notices())


def announce_time(ends_on: date) -> datetime:
    """When a notice ending on ``ends_on`` is announced: 08:00 local on the day after."""
    return datetime.combine(ends_on + timedelta(days=1), ANNOUNCE_HOUR, tzinfo=LOCAL_TZ)


def schedule_announcement(ends_on: date) -> None:
    """After the publishing transaction commits, schedule the sweep for the morning after the period
    (unless ``SCHEDULE_PAYABLE_ANNOUNCEMENTS`` is off: the cron command does it then)."""
    from flask import current_app

    from voucher.tasks import enqueue_after_commit

    if not current_app.config.get("SCHEDULE_PAYABLE_ANNOUNCEMENTS", True):
        return
    enqueue_after_commit(announce_payable, at=announce_time(ends_on), result_ttl=3600, failure_ttl=7 * 24 * 3600,
                         description=f"announce grants payable after the notice ending {ends_on.isoformat()}")
