"""The one access-control mechanism.

Views declare who may enter with :func:`roles_required`; services check each object with
the ``ensure_*`` helpers below, so the JSON API (calling the same services) enforces the
same rules.  Unauthenticated → login redirect (401 in the API); authenticated but not
allowed → 403.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from voucher.access import BUREAU
from voucher.audit.services import Actor
from voucher.errors import Forbidden
from voucher.extensions import login_manager

# Bureau roles that may read every enterprise's records.
BUREAU_READERS = frozenset(BUREAU)


def roles_required(*roles: str):
    """Let in only logged-in users whose role is one of ``roles``."""
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # read by the navigation and by the access tests
        return wrapped

    return decorator


def login_required_any(view):
    """Any logged-in role."""
    from voucher.reference import ROLES

    return roles_required(*ROLES)(view)


def current_actor() -> Actor:
    return current_user.actor()


def ensure_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden("Your role may not do this.")


def ensure_own_organisation(actor: Actor, organisation_id: int | None) -> None:
    """An SME or provider user acts only for its own organisation."""
    if actor.organisation_id is None or actor.organisation_id != organisation_id:
        raise Forbidden("This belongs to another organisation.")


def can_read_organisation_records(actor: Actor, organisation_id: int | None) -> bool:
    return actor.role in BUREAU_READERS or (
        actor.organisation_id is not None and actor.organisation_id == organisation_id)


def ensure_can_read(actor: Actor, organisation_id: int | None) -> None:
    if not can_read_organisation_records(actor, organisation_id):
        raise Forbidden("You may not see this.")


def no_store_when_signed_in(response):
    """Nothing a signed-in user is shown (bank accounts, payment orders, personal data) is kept by
    the browser or a proxy: every page and download answered to a signed-in user or API token is
    ``Cache-Control: no-store`` (static assets excepted).  An ``after_request`` hook."""
    from flask import request

    if request.endpoint != "static" and getattr(current_user, "is_authenticated", False):
        existing = response.headers.get("Cache-Control", "")
        if "no-store" not in existing:
            response.headers["Cache-Control"] = "private, no-store"
    return response
