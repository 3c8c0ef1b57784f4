"""Steps that wait on someone notify them: finance officers when a trial's advance (kick-off
confirmed) or balance (evaluation passed) becomes due, never for a failed trial's released balance;
an evaluator when the bureau withdraws them from a trial."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import do_login, fresh_user
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.trials import services as trials


def notes_of(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def due_notes(user, word: str) -> list[Notification]:
    return [n for n in notes_of(user) if n.message.startswith(f"The {word} of %(amount)s for the trial")]


def test_the_advance_and_the_balance_notify_every_finance_officer_when_due(world):
    trial = world.trial("100000.00")
    assert not due_notes(world.finance_a, "advance")
    world.kick_off(trial)
    for officer in (world.finance_a, world.finance_b):
        [note] = due_notes(officer, "advance")
        assert note.link == "/payments/queue" and note.read_at is None
        assert note.params["amount"] == "¥30,000.00"  # 30% of 100,000.00
        assert note.params["provider"] == world.provider_org.name
    assert not due_notes(world.officer, "advance")  # officers are not asked to pay
    world.evaluate(world.complete(trial), "80")
    assert not due_notes(world.finance_b, "balance")  # passed, but the delivery is not yet accepted
    world.accept(trial)
    [note] = due_notes(world.finance_b, "balance")
    assert note.params["amount"] == "¥70,000.00" and note.params["solution"] == world.solution.title


def test_a_failed_trial_asks_nobody_to_pay_its_balance(world):
    trial = world.kick_off(world.trial("100000.00"))
    world.evaluate(world.complete(trial), "40")
    assert trial.outcome == "failed"
    assert not due_notes(world.finance_a, "balance")


def test_a_withdrawn_evaluator_is_told_with_the_reason(world, client):
    trial = world.complete(world.kick_off(world.trial("100000.00")))
    evaluator = fresh_user("evaluator")
    assignment = trials.assign_evaluator(world.officer.actor(), trial.id, evaluator.id)
    trials.remove_assignment(world.officer.actor(), trial.id, assignment.id, "出差无法到场评估")
    note = notes_of(evaluator)[-1]
    assert note.message.startswith("You were withdrawn from the evaluation of the trial of %(solution)s")
    assert note.params == {"solution": world.solution.title, "reason": "出差无法到场评估",
                           "application_number": trial.application.number}
    assert note.link == "/trials/evaluations"
    db.session.commit()
    # Shown in the evaluator's language (Chinese by default), with the reason.
    assert do_login(client, evaluator, evaluator.plain_password).status_code == 302
    html = client.get("/notifications/").get_data(as_text=True)
    assert "已撤销您对" in html and "出差无法到场评估" in html
