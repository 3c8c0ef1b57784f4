"""API tokens: bearer credentials for the JSON API (``/api/v1``).

Rules enforced here (the API views only parse and render):
- a token is issued to an active user who gives the right e-mail and password (the same
  ``authenticate`` as the login page); the secret is random, shown once, and only its SHA-256 is
  stored, with its owner, a label, when it was created and last used, when it expires (30 days by
  default, ``API_TOKEN_DAYS``) and when it was revoked;
- a token works only while it is not revoked, not expired, its user is active, and it was issued
  after the user's last password change or reset (a new password ends every session and every
  token issued before it);
- the token carries no rights of its own: each request acts as its user, with the user's *current*
  role and organisation (``user.actor()``), so the API passes through the same services and the
  same access policy as the web pages;
- a token is listed and revoked by its owner; an administrator lists and revokes anyone's;
  issuing and revoking write audit events.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voucher.audit.services import Actor, record_event
from voucher.auth.models import User
from voucher.db import UTCDateTime, utcnow
from voucher.errors import Forbidden, NotFound, ValidationFailed
from voucher.extensions import db

TOKEN_PREFIX = "vch_"
DEFAULT_DAYS = 30
MAX_DAYS = 365
LABEL_MAX = 100
# Writing ``last_used_at`` at most once a minute keeps a busy client from writing on every request.
TOUCH_EVERY = timedelta(minutes=1)


class ApiToken(db.Model):
    """A bearer token of a user for the JSON API (only the SHA-256 of the secret is stored)."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(LABEL_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so an owner can tell tokens apart (not enough to use one).
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def state(self, now: datetime | None = None) -> str:
        """active, expired or revoked."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def issue_token(user: User, *, name: str | None = None, days: int | None = None,
                default_days: int = DEFAULT_DAYS, max_days: int = MAX_DAYS, now: datetime | None = None) -> IssuedToken:
    """Issue a new token to ``user`` (already authenticated by e-mail and password).

    Rule: only an active user; the label is at most 100 characters (default "API token"); the
    lifetime is ``days`` (1 to ``max_days``) or ``default_days``.  The secret is returned once
    and only its SHA-256 is kept.  Writes ``api_token.issued``.
    """
    if not user.active:
        raise Forbidden("This account is deactivated.")
    label = (name or "").strip() or "API token"
    if len(label) > LABEL_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="name", max=LABEL_MAX)
    lifetime = default_days if days is None else days
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 1 <= lifetime <= max_days:
        raise ValidationFailed("A token lasts from 1 to %(max)s days.", field="expires_in_days", max=max_days)
    now = now or utcnow()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=label, token_hash=hash_secret(secret), hint=secret[:10],
                     created_at=now, expires_at=now + timedelta(days=lifetime))
    db.session.add(token)
    db.session.flush()
    record_event(user.actor(), "api_token.issued", "api_token", token.id,
                 after={"user_id": user.id, "name": label, "expires_at": token.expires_at})
    return IssuedToken(token, secret)


def user_for_secret(secret: str | None, now: datetime | None = None) -> User | None:
    """The user a bearer secret stands for, or None.

    Rule: None unless the token exists, is not revoked, has not expired, belongs to an active
    user, and was issued after the user's last password change.  Records when it was last used.
    """
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None:
        return None
    now = now or utcnow()
    if token.state(now) != "active":
        return None
    user = token.user
    if user is None or not user.active:
        return None
    if user.password_changed_at is not None and token.created_at < user.password_changed_at:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
    return user


def tokens_query(actor: Actor, *, user_id: int | None = None, state: str | None = None, now: datetime | None = None):
    """The tokens the actor may list, newest first, as a SELECT to paginate.

    Rule: a user lists its own tokens; an administrator lists everyone's (``user_id`` filters).
    ``state`` filters on active, expired or revoked.
    """
    stmt = select(ApiToken)
    if actor.role == "admin":
        if user_id is not None:
            stmt = stmt.where(ApiToken.user_id == user_id)
    else:
        if user_id is not None and user_id != actor.user_id:
            raise Forbidden("Only an administrator may list another user's tokens.")
        stmt = stmt.where(ApiToken.user_id == actor.user_id)
    now = now or utcnow()
    if state == "revoked":
        stmt = stmt.where(ApiToken.revoked_at.is_not(None))
    elif state == "expired":
        stmt = stmt.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at <= now)
    elif state == "active":
        stmt = stmt.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    return stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())


def get_token(actor: Actor, token_id: int) -> ApiToken:
    """Rule: a token is seen by its owner and by administrators (anyone else: 403)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No such token.")
    if actor.role != "admin" and token.user_id != actor.user_id:
        raise Forbidden("This token belongs to another user.")
    return token


def revoke_token(actor: Actor, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke a token: it stops working at once.

    Rule: its owner or an administrator (anyone else: 403); revoking a revoked token changes
    nothing.  Writes ``api_token.revoked``.
    """
    token = get_token(actor, token_id)
    if token.revoked_at is not None:
        return token
    token.revoked_at = now or utcnow()
    token.revoked_by = actor.user_id
    db.session.flush()
    record_event(actor, "api_token.revoked", "api_token", token.id, before={"revoked_at": None},
                 after={"revoked_at": token.revoked_at, "user_id": token.user_id})
    return token


def revoke_all_tokens(user_id: int, now: datetime | None = None) -> int:
    """Revoke every live token of a user (on deactivation): the caller records the audit event."""
    from sqlalchemy import update

    result = db.session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                                .values(revoked_at=now or utcnow()))
    return result.rowcount or 0
