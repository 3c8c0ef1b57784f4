"""When a public notice's period ends its grants become payable, and the finance officers are told
so once: publishing schedules the announcement for the morning after (RQ's scheduler), and the
sweep (the job, or ``flask voucher notify-payable``) announces each ended notice exactly once,
counting only the grants that can really be paid."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from voucher.audit.models import AuditEvent
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.payments import jobs as payment_jobs
from voucher.payments import services
from voucher.payments.models import PublicNotice

TODAY = date(2026, 11, 20)


def announcements(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.message.like("The public notice of %(programme)s ended%"))))


def test_an_ended_notice_is_announced_once_with_what_can_be_paid(world):
    world.loan()                                  # 40,000.00 to the enterprise
    world.kick_off(world.trial("100000.00"))      # a 30,000.00 advance to the provider
    notice = world.announce(on=date(2026, 10, 20))
    assert services.announce_payable_notices(today=notice.ends_on) == []  # the last day of the period
    assert services.announce_payable_notices(today=TODAY) == [notice]
    for officer in (world.finance_a, world.finance_b):
        [note] = announcements(officer)
        assert note.params["n"] == 2 and note.params["total"] == "¥70,000.00"
        assert note.link == f"/payments/queue?programme_id={world.programme.id}&show=payable"
    assert not announcements(world.officer)
    assert notice.payable_announced_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "public_notice.payable_announced",
                                                       AuditEvent.object_id == str(notice.id)))
    assert event.actor_role == "system" and event.after["payable"] == 2 and Decimal(event.after["total"]) == 70000
    # Again (a repeated job, the cron command): nothing more.
    assert services.announce_payable_notices(today=TODAY + timedelta(days=3)) == []
    assert len(announcements(world.finance_a)) == 1


def test_held_and_prepared_grants_are_not_counted(world):
    loan = world.loan()
    trial = world.kick_off(world.trial("100000.00"))
    world.robot()
    notice = world.announce(on=TODAY)  # running: objections still accepted
    robot_item = next(i for i in notice.items if i.source_type == "robot_application")
    services.file_objection(notice.id, item_id=robot_item.id, name="Wang Wu", contact="0577-1234567",
                            text="The robots were bought second-hand.")
    after = notice.ends_on + timedelta(days=1)
    services.prepare(world.finance_a.actor(), "loan_application", loan.id, "full", today=after)
    [announced] = services.announce_payable_notices(today=after)
    [note] = announcements(world.finance_b)
    assert note.params["n"] == 1 and note.params["total"] == "¥30,000.00"  # only the trial's advance
    assert trial.application_id in {i.source_id for i in announced.items}


def test_a_notice_with_nothing_payable_is_marked_without_a_message(world):
    world.loan()
    notice = world.announce(on=TODAY)
    item = notice.items[0]
    services.file_objection(notice.id, item_id=item.id, name="Li Si", contact="li@example.com", text="Not eligible.")
    assert services.announce_payable_notices(today=notice.ends_on + timedelta(days=1)) == [notice]
    assert notice.payable_announced_at is not None and not announcements(world.finance_a)


def test_publishing_schedules_the_announcement_for_the_morning_after_the_period(jobs, committed_app, monkeypatch):
    """Against the real queue: the job waits in RQ's scheduled registry until 08:00 on the day after."""
    from rq.registry import ScheduledJobRegistry

    monkeypatch.setitem(committed_app.config, "SCHEDULE_PAYABLE_ANNOUNCEMENTS", True)

    from tests.payments.conftest import World
    from voucher.tasks import queue

    registry = ScheduledJobRegistry(queue=queue("voucher-default", connection=jobs.conn))
    before = set(registry.get_job_ids())
    with committed_app.test_request_context():
        world = World()
        world.loan()
        db.session.commit()
        notice = world.announce(on=TODAY)
        db.session.rollback()  # a notice that was not committed schedules nothing
        assert set(registry.get_job_ids()) == before
        notice = world.announce(on=TODAY)
        db.session.commit()
        ends_on = notice.ends_on
    new = set(registry.get_job_ids()) - before
    try:
        assert len(new) == 1
        job_id = new.pop()
        job = queue("voucher-default", connection=jobs.conn).fetch_job(job_id)
        assert job.func_name == "voucher.payments.jobs.announce_payable"
        when = registry.get_scheduled_time(job_id)
        assert when == jobs_time(ends_on)
    finally:
        for job_id in set(registry.get_job_ids()) - before:
            registry.remove(job_id, delete_job=True)


def jobs_time(ends_on: date):
    """08:00 Asia/Shanghai on the day after ``ends_on``, as RQ gives it back (UTC)."""
    from datetime import timezone

    return payment_jobs.announce_time(ends_on).astimezone(timezone.utc)


def test_nothing_is_scheduled_where_the_cron_command_does_the_sweep(jobs, committed_app):
    from rq.registry import ScheduledJobRegistry

    from tests.payments.conftest import World
    from voucher.tasks import queue

    assert committed_app.config["SCHEDULE_PAYABLE_ANNOUNCEMENTS"] is False  # the tests' setting
    registry = ScheduledJobRegistry(queue=queue("voucher-default", connection=jobs.conn))
    before = set(registry.get_job_ids())
    with committed_app.test_request_context():
        world = World()
        world.loan()
        world.announce(on=TODAY)
        db.session.commit()
    assert set(registry.get_job_ids()) == before


def test_the_job_and_the_command_run_the_same_sweep(world, app):
    world.loan()
    world.announce(on=date(2026, 10, 20))
    assert payment_jobs.announce_payable() == 1
    assert payment_jobs.announce_payable() == 0
    world2_notice = db.session.scalar(select(PublicNotice).order_by(PublicNotice.id.desc()))
    assert world2_notice.payable_announced_at is not None
    result = app.test_cli_runner().invoke(args=["voucher", "notify-payable"])
    assert result.exit_code == 0 and "0 notice(s) announced" in result.output
