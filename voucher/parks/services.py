"""Parks and membership (issue 20 §3).

Rules:
- the officer or the administrator registers a park: a name (at most 200 characters, unique, never
  beginning with a formula character: it is exported), a district of the reference list, and an
  operator organisation of kind ``park``;
- an enterprise's own SME user names its park: the membership is ``pending`` until the park's
  operator confirms it or declines it (a reason is required); naming another park leaves the current
  one first (both audited); the enterprise may leave its park at any time (``left``);
- at most one live (pending or confirmed) membership per enterprise: checked under the
  organisation's row lock and held by the partial unique index ``uq_park_membership_live``;
- the operator decides only for the parks its organisation operates (403 otherwise) and changes
  nothing of the enterprise: membership is the park's record, not the enterprise's.
Every change is one audit event (``park.create``, ``park_membership.request``, and the state
machine's ``park_membership.confirm`` / ``decline`` / ``leave``).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.db import utcnow
from voucher.enterprises.models import Organisation
from voucher.errors import N_, Conflict, Duplicate, Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.formulas import NAME_MESSAGE, starts_with_formula
from voucher.parks.models import LIVE_STATES, MEMBERSHIP_STATES, Park, ParkMembership
from voucher.reference import DISTRICTS
from voucher.workflow import StateMachine, transition

NAME_MAX = 200
REASON_MAX = 1000

MACHINE = StateMachine("park_membership", MEMBERSHIP_STATES, (
    transition("confirm", "pending", "confirmed", "park_operator"),
    transition("decline", "pending", "declined", "park_operator", requires_reason=True),
    transition("leave", LIVE_STATES, "left", "sme"),
))


def create_park(actor: Actor, name: str, district: str, operator_id: int | None,
                operator_name: str | None = None) -> Park:
    """Register a park (officer, administrator).  Rule: see the module's docstring; the operator is an
    existing ``park`` organisation (``operator_id``) or, with ``operator_name``, a new one registered
    with the park (its users are then created on the administrator's user pages)."""
    require(actor, "parks.manage")
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = N_("Name is required.")
    elif len(name) > NAME_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="name", max=NAME_MAX)
    elif starts_with_formula(name):
        errors["name"] = NAME_MESSAGE
    if district not in DISTRICTS:
        errors.setdefault("district", N_("Choose a district from the list."))
    new_operator = (operator_name or "").strip()
    operator = db.session.get(Organisation, operator_id) if operator_id else None
    if new_operator:
        if len(new_operator) > NAME_MAX:
            errors.setdefault("operator_name", N_("The name is too long."))
        elif starts_with_formula(new_operator):
            errors.setdefault("operator_name", NAME_MESSAGE)
        elif operator_id:
            errors.setdefault("operator_name", N_("Choose an operator or name a new one, not both."))
    elif operator is None or operator.kind != "park":
        errors.setdefault("operator_id", N_("Choose a park operator organisation."))
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationFailed(message, field=field)
    if db.session.scalar(select(Park.id).where(Park.name == name)):
        raise Duplicate("A park with this name is already registered.", field="name")
    if new_operator:
        operator = Organisation(kind="park", name=new_operator)
        db.session.add(operator)
        db.session.flush()
        record_event(actor, "organisation.created", "organisation", operator.id,
                     after={"kind": "park", "name": new_operator})
    park = Park(name=name, district=district, operator_id=operator.id)
    db.session.add(park)
    db.session.flush()
    record_event(actor, "park.create", "park", park.id,
                 after={"name": name, "district": district, "operator_id": operator.id})
    return park


def get_park(actor: Actor, park_id: int) -> Park:
    """One park for a reader allowed to see it: its operator's users and the bureau (403 otherwise)."""
    park = db.session.get(Park, park_id)
    if park is None:
        raise NotFound("No such park.")
    require(actor, "parks.read", park, message="You may not see this park.")
    return park


def live_membership(enterprise_id: int | None) -> ParkMembership | None:
    if enterprise_id is None:
        return None
    return db.session.scalar(select(ParkMembership).where(ParkMembership.enterprise_id == enterprise_id,
                                                          ParkMembership.status.in_(LIVE_STATES)))


def _own_enterprise(actor: Actor) -> Organisation:
    require(actor, "parks.join")
    org = db.session.scalar(select(Organisation).where(Organisation.id == actor.organisation_id)
                            .with_for_update()) if actor.organisation_id else None
    if org is None or org.kind != "enterprise" or org.enterprise is None:
        raise Conflict("Register your enterprise first.")
    return org


def name_park(actor: Actor, park_id: int | None) -> ParkMembership:
    """The enterprise names its park: a pending membership (the current one, if any, is left first)."""
    org = _own_enterprise(actor)
    park = db.session.get(Park, park_id) if park_id else None
    if park is None:
        raise ValidationFailed("Choose a park from the list.", field="park_id")
    current = live_membership(org.id)
    if current is not None:
        if current.park_id == park.id:
            raise Conflict("Your enterprise has already named this park.")
        _leave(actor, current)
    membership = ParkMembership(park_id=park.id, enterprise_id=org.id, status="pending",
                                requested_by=actor.user_id)
    db.session.add(membership)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("Your enterprise has already named a park; reload the page.") from None
    record_event(actor, "park_membership.request", "park_membership", membership.id,
                 after={"status": "pending", "park_id": park.id, "enterprise_id": org.id})
    return membership


def _leave(actor: Actor, membership: ParkMembership) -> None:
    membership.left_at = utcnow()
    MACHINE.apply(membership, "leave", actor, details={"park_id": membership.park_id})


def leave_park(actor: Actor) -> ParkMembership:
    """The enterprise leaves its park (a pending request is withdrawn the same way)."""
    org = _own_enterprise(actor)
    current = live_membership(org.id)
    if current is None:
        raise Conflict("Your enterprise has named no park.")
    _leave(actor, current)
    return current


def decide(actor: Actor, membership_id: int, confirm: bool, reason: str | None = None) -> ParkMembership:
    """The park's operator confirms or declines (with a reason) a pending membership of its own park."""
    membership = db.session.scalar(select(ParkMembership).where(ParkMembership.id == membership_id)
                                   .with_for_update())
    if membership is None:
        raise NotFound("No such membership request.")
    if actor.role != "park_operator":
        raise Forbidden("Your role may not do this.")
    require(actor, "parks.decide", membership.park, message="This park is operated by another organisation.")
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    action = "confirm" if confirm else "decline"
    if MACHINE.find(membership.status, action) is None:  # nothing changes before the state is checked
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action=action, state=membership.status)
    if not confirm:
        if not reason:
            raise ValidationFailed("A reason is required.", field="reason")
        membership.decline_reason = reason
    MACHINE.apply(membership, action, actor, reason=reason,
                  details={"park_id": membership.park_id, "enterprise_id": membership.enterprise_id})
    membership.decided_at = utcnow()
    membership.decided_by = actor.user_id
    return membership
