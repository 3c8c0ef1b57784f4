"""The trial follows its application's approval without the applications module calling the trials
services: applications publishes ``approve`` / ``cancel`` on its machine, trials subscribes
(``voucher.trials.services.register``, from ``create_app``).  The audit trail shows the same order as
when the approval called the trials directly."""
from __future__ import annotations

from sqlalchemy import select

from voucher.applications import services as applications
from voucher.audit.models import AuditEvent
from voucher.extensions import db
from voucher.trials import services


def _actions(*objects):
    """The audit actions about these (type, id) objects, in the order they were written."""
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    wanted = {(t, str(i)) for t, i in objects}
    return [e.action for e in rows if (e.object_type, str(e.object_id)) in wanted]


def test_the_trials_follow_the_approval_and_its_cancellation_once_each(app):
    assert applications.MACHINE.listeners("approve") == (services._on_approved,)
    assert applications.MACHINE.listeners("cancel") == (services._on_approval_cancelled,)
    services.register()  # a second create_app in the same process subscribes nothing more
    assert applications.MACHINE.listeners("approve") == (services._on_approved,)
    assert applications.MACHINE.listeners("cancel") == (services._on_approval_cancelled,)


def test_the_trial_opens_after_the_approval_and_is_cancelled_after_the_release(ctx, flow):
    trial = flow.approved()
    objects = (("trial_application", trial.application_id), ("trial", trial.id))
    assert _actions(*objects)[-2:] == ["trial_application.approve", "trial.open"]
    applications.cancel(flow.officer.actor(), trial.application_id, "Enterprise closed down")
    assert _actions(*objects)[-2:] == ["trial_application.cancel", "trial.cancel"]
    cancel = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "trial.cancel")).one()
    assert cancel.reason == "Enterprise closed down" and cancel.after["application_id"] == trial.application_id
