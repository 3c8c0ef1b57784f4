"""The one state machine: refuses undeclared transitions (409), wrong roles (403), empty reasons."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.errors import Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.workflow import StateMachine, transition

MACHINE = StateMachine("widget", ("draft", "submitted", "approved", "rejected"), (
    transition("submit", "draft", "submitted", "sme"),
    transition("approve", "submitted", "approved", "officer"),
    transition("reject", "submitted", "rejected", "officer", requires_reason=True),
))


@dataclass
class Widget:
    id: int
    status: str


def actor(role):
    return Actor(user_id=None, role=role, organisation_id=None, label=role)


def test_allowed_transition_changes_state_and_writes_one_audit_event(ctx):
    w = Widget(1, "draft")
    event = MACHINE.apply(w, "submit", actor("sme"))
    assert w.status == "submitted"
    assert event.action == "widget.submit" and event.before == {"status": "draft"} and event.after == {"status": "submitted"}
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "widget")).all() == [event]


def test_undeclared_transition_is_refused_and_state_kept(ctx):
    w = Widget(2, "draft")
    with pytest.raises(TransitionNotAllowed):
        MACHINE.apply(w, "approve", actor("officer"))
    assert w.status == "draft"


def test_wrong_role_is_forbidden(ctx):
    w = Widget(3, "submitted")
    with pytest.raises(Forbidden):
        MACHINE.apply(w, "approve", actor("sme"))
    assert w.status == "submitted"


def test_reason_required_refuses_blank(ctx):
    w = Widget(4, "submitted")
    with pytest.raises(ValidationFailed) as err:
        MACHINE.apply(w, "reject", actor("officer"), reason="   ")
    assert err.value.fields == {"reason": "A reason is required."}
    assert w.status == "submitted"
    MACHINE.apply(w, "reject", actor("officer"), reason="incomplete")
    assert w.status == "rejected"


def test_available_lists_actions_for_role():
    assert MACHINE.available("submitted", "officer") == ["approve", "reject"]
    assert MACHINE.available("submitted", "sme") == []


def test_machine_refuses_unknown_states_at_definition():
    with pytest.raises(ValueError):
        StateMachine("bad", ("a",), (transition("x", "a", "b", "sme"),))


def test_a_published_transition_calls_its_listeners_in_order_once_each(monkeypatch):
    monkeypatch.setattr(MACHINE, "_listeners", {})
    heard = []

    def first(obj, who, **facts):
        heard.append(("first", obj.id, who.role, facts))

    def second(obj, who, **facts):
        heard.append(("second", obj.id, who.role, facts))

    MACHINE.subscribe("approve", first)
    MACHINE.subscribe("approve", second)
    MACHINE.subscribe("approve", first)  # a second create_app subscribes again: no copy
    assert MACHINE.listeners("approve") == (first, second)
    MACHINE.publish(Widget(7, "approved"), "approve", actor("officer"), reason="ok")
    MACHINE.publish(Widget(8, "rejected"), "reject", actor("officer"))  # nobody follows it
    assert heard == [("first", 7, "officer", {"reason": "ok"}), ("second", 7, "officer", {"reason": "ok"})]


def test_a_listener_refusal_reaches_the_publisher_and_an_unknown_action_cannot_be_followed(monkeypatch):
    monkeypatch.setattr(MACHINE, "_listeners", {})

    def refuse(obj, who, **facts):
        raise TransitionNotAllowed("No.")

    MACHINE.subscribe("submit", refuse)
    with pytest.raises(TransitionNotAllowed):
        MACHINE.publish(Widget(1, "submitted"), "submit", actor("sme"))
    with pytest.raises(ValueError):
        MACHINE.subscribe("aprove", refuse)
