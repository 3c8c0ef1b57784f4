"""The one state machine every stateful object goes through.

A domain declares its transitions once (action, from-states, to-state, roles allowed);
:meth:`StateMachine.apply` checks them, changes the state and writes the audit event.  No
code sets a ``status`` attribute any other way.

A domain above may follow a transition of a machine it does not own without the owner calling
it: it subscribes (:meth:`StateMachine.subscribe`, from its ``register()`` called once by
``create_app``), and the owning service announces the transition (:meth:`StateMachine.publish`)
at the point of its transaction where the follow-up belongs.  The listeners run there, in the
order they subscribed, inside the same transaction: a refusal raised by one rolls the whole
request back, as a direct call would.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from voucher.audit.services import Actor, record_event
from voucher.errors import Forbidden, TransitionNotAllowed, ValidationFailed


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    requires_reason: bool = False


def transition(action: str, sources: str | Iterable[str], target: str, roles: str | Iterable[str],
               requires_reason: bool = False) -> Transition:
    src = frozenset([sources] if isinstance(sources, str) else sources)
    rls = frozenset([roles] if isinstance(roles, str) else roles)
    return Transition(action, src, target, rls, requires_reason)


# A listener: (the object, the actor, **facts the publisher gives) -> None.
Listener = Callable[..., None]

MACHINES: list["StateMachine"] = []  # every machine declared, for checks that read them all


@dataclass
class StateMachine:
    object_type: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]
    state_attr: str = "status"
    _by_action: dict[str, list[Transition]] = field(init=False, repr=False)
    _listeners: dict[str, list[Listener]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_action = {}
        for t in self.transitions:
            unknown = (t.sources | {t.target}) - set(self.states)
            if unknown:
                raise ValueError(f"{self.object_type}: unknown states {sorted(unknown)} in {t.action}")
            self._by_action.setdefault(t.action, []).append(t)
        MACHINES.append(self)

    def find(self, state: str, action: str) -> Transition | None:
        for t in self._by_action.get(action, ()):
            if state in t.sources:
                return t
        return None

    def available(self, state: str, role: str) -> list[str]:
        """Actions the role may take from this state (for buttons; the server re-checks)."""
        return [t.action for t in self.transitions if state in t.sources and role in t.roles]

    def can(self, obj: Any, action: str, role: str) -> bool:
        t = self.find(getattr(obj, self.state_attr), action)
        return t is not None and role in t.roles

    def apply(self, obj: Any, action: str, actor: Actor, *, reason: str | None = None,
              details: dict | None = None):
        """Move ``obj`` by ``action``: refused unless the state allows it and the role may take it.

        Rule: a transition not declared for the current state is a 409, a role not allowed
        is a 403, a transition that needs a reason refuses an empty one; on success the
        state changes and exactly one audit event records who, when, from, to and why.
        """
        state = getattr(obj, self.state_attr)
        t = self.find(state, action)
        if t is None:
            raise TransitionNotAllowed(
                "This action (%(action)s) is not possible while the item is %(state)s.",
                action=action, state=state)
        if actor.role not in t.roles:
            raise Forbidden("Your role may not %(action)s this item.", action=action)
        reason = (reason or "").strip() or None
        if t.requires_reason and not reason:
            raise ValidationFailed("A reason is required.", field="reason")
        setattr(obj, self.state_attr, t.target)
        from voucher.extensions import db

        db.session.flush()
        after = {self.state_attr: t.target, **(details or {})}
        return record_event(actor, f"{self.object_type}.{action}", self.object_type, obj.id,
                            before={self.state_attr: state}, after=after, reason=reason)

    def subscribe(self, action: str, listener: Listener) -> None:
        """Have ``listener(obj, actor, **facts)`` called each time the owner publishes ``action``.

        Rule: only a declared action (a typo fails at start-up, not silently); subscribing the same
        function again changes nothing, so a second ``create_app`` in one process adds no copy.
        """
        if action not in self._by_action:
            raise ValueError(f"{self.object_type}: no transition {action!r} to subscribe to")
        listeners = self._listeners.setdefault(action, [])
        if listener not in listeners:
            listeners.append(listener)

    def publish(self, obj: Any, action: str, actor: Actor, **facts: Any) -> None:
        """Announce that ``action`` was taken on ``obj``: call its listeners in the order they
        subscribed, in the caller's transaction (the caller publishes after its own writes, at the
        point where the listeners' work belongs); an exception from a listener propagates."""
        for listener in tuple(self._listeners.get(action, ())):
            listener(obj, actor, **facts)

    def listeners(self, action: str) -> tuple[Listener, ...]:
        """Who follows ``action`` (for checks and tests)."""
        return tuple(self._listeners.get(action, ()))
