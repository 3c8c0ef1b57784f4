"""The one access table: which role may do what, declared once per domain.

Each domain declares its actions in ``voucher/<domain>/access.py`` as ``RULES = {action: Rule(...)}``
and ``create_app`` registers them (:func:`configure_access` → :func:`register_access_rules`).
Everything asks the same table:

- services: ``require(actor, "payments.handle")`` (raises ``Forbidden`` → 403);
- views and templates: ``can(current_user, "programmes.edit")`` decides which buttons show
  (``can`` is a Jinja global);
- view decorators and the API read a rule's role set when the module loads
  (``@roles_required(*RULES["payments.read"].roles)``);
- the role × endpoint test (``tests/api/test_access.py``) takes its allowed roles from it.

A ``Rule`` is the roles allowed, plus optionally an object check ``check(actor, obj) -> bool``
(an SME only its own application, a provider its own trials, an evaluator its assigned ones).
``can(actor, action)`` without an object answers for the role alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from voucher.errors import Forbidden

# The bureau's roles: they read every enterprise's records.
BUREAU = ("officer", "finance", "auditor")
PAYEES = ("sme", "provider")


@dataclass(frozen=True)
class Rule:
    """``roles`` may do the action; ``check(actor, obj)``, when given, must also hold for an object.
    ``roles`` keeps the declared order (the API documents the roles in it)."""

    roles: tuple[str, ...]
    check: Callable[[Any, Any], bool] | None = None

    def __init__(self, *roles: str, check=None) -> None:
        object.__setattr__(self, "roles", tuple(dict.fromkeys(roles)))
        object.__setattr__(self, "check", check)

    def allows(self, actor, obj=None) -> bool:
        if actor.role not in self.roles:
            return False
        return obj is None or self.check is None or bool(self.check(actor, obj))


_RULES: dict[str, Rule] = {}


def register_access_rules(rules: Mapping[str, Rule]) -> None:
    """Add a domain's actions to the table (idempotent: registering the same rule again is a no-op;
    two domains declaring one action differently is a mistake)."""
    for action, rule in rules.items():
        existing = _RULES.get(action)
        if existing is not None and existing != rule:
            raise ValueError(f"access rule {action!r} declared twice")
        _RULES[action] = rule


def rule(action: str) -> Rule:
    try:
        return _RULES[action]
    except KeyError:
        raise KeyError(f"no access rule {action!r} (declared in voucher/<domain>/access.py?)") from None


def roles_for(action: str) -> frozenset[str]:
    return frozenset(rule(action).roles)


def own_organisation(attribute: str):
    """An object check: the actor's organisation is ``obj.<attribute>`` (bureau roles pass)."""

    def check(actor, obj) -> bool:
        if actor.role in BUREAU:
            return True
        return actor.organisation_id is not None and actor.organisation_id == getattr(obj, attribute)

    return check


def actions() -> dict[str, Rule]:
    return dict(_RULES)


def _as_actor(actor):
    """An ``Actor``, or the logged-in user (``current_user``); ``None`` for nobody signed in."""
    if actor is None:
        return None
    if hasattr(actor, "is_authenticated"):
        return actor.actor() if actor.is_authenticated else None
    return actor


def can(actor, action: str, obj=None) -> bool:
    """Whether ``actor`` (an ``Actor`` or ``current_user``) may do ``action`` (on ``obj``)."""
    resolved = _as_actor(actor)
    return resolved is not None and rule(action).allows(resolved, obj)


def require(actor, action: str, obj=None, message: str = "Your role may not do this.") -> None:
    """:func:`can` or raise ``Forbidden`` (403)."""
    if not can(actor, action, obj):
        raise Forbidden(message)


DOMAINS = ("amendments", "applications", "benefits", "catalogue", "documents", "enterprises", "guides", "maturity",
           "parks", "payments", "programmes", "recovery", "risk", "rules", "subsidies", "trials", "workcalendar")


def configure_access(app) -> None:
    """Register every domain's table and expose ``can`` to the templates."""
    from importlib import import_module

    for domain in DOMAINS:
        register_access_rules(import_module(f"voucher.{domain}.access").RULES)
    app.jinja_env.globals["can"] = can
