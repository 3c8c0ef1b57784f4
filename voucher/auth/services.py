"""Accounts and sessions: every change to a user or a login session happens here."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from voucher.audit.services import Actor, record_event
from voucher.auth import passwords
from voucher.auth.models import ROLE_CODES, LoginSession, User
from voucher.db import utcnow
from voucher.enterprises.models import Organisation
from voucher.errors import Conflict, Duplicate, Forbidden, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.reference import ROLE_ORGANISATION_KIND


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose password matches, else None (same cost either way)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        passwords.verify_password(passwords.dummy_hash(), password)
        return None
    if not passwords.verify_password(user.password_hash, password) or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        # The same password under the profile in force (it changed: see passwords.PRODUCTION_PROFILE);
        # written with the login's own changes.  Not audited: the password is the same one.
        user.password_hash = passwords.hash_password(password)
    return user


def start_session(user: User, ip: str | None = None) -> str:
    """Open a server-side login session and return its secret token (kept in the cookie)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, created_at=now,
                                last_seen_at=now, ip=ip))
    user.last_login_at = now
    record_event(user.actor(), "user.login", "user", user.id)
    return token


def end_session(token: str | None, reason: str = "logout") -> None:
    """Rule: a logged-out session is dead on the server, so its old cookie no longer works."""
    if not token:
        return
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason
        record_event(row.user.actor(), "user.logout", "user", row.user_id)


def end_all_sessions(user_id: int, reason: str) -> None:
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


def load_session_user(token: str | None, user_id: str | None, policy: SessionPolicy,
                      now: datetime | None = None) -> User | None:
    """The user of a live session, or None: ended, idle too long, too old, or user inactive."""
    if not token or not user_id:
        return None
    now = now or utcnow()
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    if row is None or row.ended_at is not None or str(row.user_id) != str(user_id):
        return None
    if now - row.last_seen_at > policy.idle:
        row.ended_at, row.end_reason = now, "idle_timeout"
        return None
    if now - row.created_at > policy.absolute:
        row.ended_at, row.end_reason = now, "absolute_timeout"
        return None
    if not row.user.active:
        return None
    # Touch at most once a minute: idle time is measured without a write per request.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    return row.user


def _check_password(password: str, email: str) -> None:
    problem = passwords.password_problem(password, email)
    if problem:
        raise ValidationFailed(problem[0], field="password", **problem[1])


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Rule: the current password must be given, the new one must pass the policy, and every
    session of the user ends (the caller opens a fresh one)."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise ValidationFailed("The current password is wrong.", field="current_password")
    problem = passwords.password_problem(new_password, user.email)
    if problem:
        raise ValidationFailed(problem[0], field="new_password", **problem[1])
    if passwords.verify_password(user.password_hash, new_password):
        raise ValidationFailed("The new password must differ from the current one.", field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(user.id, "password_changed")
    record_event(user.actor(), "user.password_changed", "user", user.id)


def _check_role_organisation(role: str, organisation_id: int | None) -> None:
    if role not in ROLE_CODES:
        raise ValidationFailed("Unknown role.", field="role")
    if organisation_id is None:
        # An SME user may exist before its enterprise is registered; everyone else needs one.
        if role == "sme":
            return
        raise ValidationFailed("This role needs an organisation.", field="organisation_id")
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise ValidationFailed("Unknown organisation.", field="organisation_id")
    expected = ROLE_ORGANISATION_KIND[role]
    if org.kind != expected:
        raise ValidationFailed("A user with this role must belong to an organisation of kind %(kind)s.",
                               field="organisation_id", kind=expected)


def _require_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("Only an administrator may manage users.")


def create_user(actor: Actor | None, *, email: str, name: str, password: str, role: str,
                organisation_id: int | None = None) -> User:
    """Rule: e-mails are unique (case-insensitive), the password passes the policy, and the
    organisation's kind matches the role.  ``actor`` None means self-registration (SME only)."""
    if actor is not None:
        _require_admin(actor)
    elif role != "sme":
        raise Forbidden("Only enterprise accounts can be self-registered.")
    email = normalise_email(email)
    if not email or "@" not in email:
        raise ValidationFailed("Enter a valid e-mail address.", field="email")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name is required.", field="name")
    _check_password(password, email)
    _check_role_organisation(role, organisation_id)
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Duplicate("An account with this e-mail already exists.", field="email")
    user = User(email=email, name=name, password_hash=passwords.hash_password(password), role=role,
                organisation_id=organisation_id, active=True, password_changed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    record_event(actor or user.actor(), "user.created", "user", user.id,
                 after={"email": email, "name": name, "role": role, "organisation_id": organisation_id})
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def update_user(actor: Actor, user_id: int, *, name: str, role: str, organisation_id: int | None) -> User:
    """Rule: only admins change roles and organisations; an admin cannot demote themself
    (so the system always keeps an administrator)."""
    _require_admin(actor)
    user = get_user(user_id)
    if user.id == actor.user_id and role != user.role:
        raise Conflict("You cannot change your own role.", field="role")
    _check_role_organisation(role, organisation_id)
    before = {"name": user.name, "role": user.role, "organisation_id": user.organisation_id}
    after = {"name": (name or "").strip() or user.name, "role": role, "organisation_id": organisation_id}
    if before == after:
        return user
    user.name, user.role, user.organisation_id = after["name"], role, organisation_id
    if before["role"] != role or before["organisation_id"] != organisation_id:
        # New rights take effect on a fresh login, never inside an old session.
        end_all_sessions(user.id, "role_changed")
    record_event(actor, "user.updated", "user", user.id, before=before, after=after)
    return user


def set_active(actor: Actor, user_id: int, active: bool) -> User:
    """Rule: deactivation ends every session of the user at once; admins cannot deactivate themselves."""
    _require_admin(actor)
    user = get_user(user_id)
    if user.id == actor.user_id and not active:
        raise Conflict("You cannot deactivate your own account.")
    if user.active == active:
        return user
    user.active = active
    if not active:
        end_all_sessions(user.id, "deactivated")
        from voucher.auth.tokens import revoke_all_tokens

        revoke_all_tokens(user.id)  # a later reactivation must not revive old API tokens
    record_event(actor, "user.activated" if active else "user.deactivated", "user", user.id,
                 before={"active": not active}, after={"active": active})
    return user


def reset_password(actor: Actor, user_id: int, new_password: str) -> User:
    """Rule: an admin may set a new password (policy applies); the user's sessions end."""
    _require_admin(actor)
    user = get_user(user_id)
    _check_password(new_password, user.email)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(user.id, "password_reset")
    record_event(actor, "user.password_reset", "user", user.id)
    return user


def set_locale(user: User, locale: str, allowed: tuple[str, ...]) -> None:
    if locale not in allowed:
        raise ValidationFailed("Unknown language.", field="lang")
    user.locale = locale
