"""In-app notifications for steps that wait on someone."""
from __future__ import annotations

from sqlalchemy import select, update

from voucher.audit.services import jsonable
from voucher.auth.models import User
from voucher.db import utcnow
from voucher.errors import Forbidden, NotFound
from voucher.extensions import db
from voucher.notifications.models import Notification


def notify_users(user_ids, message: str, link: str | None = None, **params) -> int:
    """Queue ``message`` (an English template with %(name)s params) for each user id."""
    from voucher.notifications.mail import mail_after_commit

    added = [Notification(user_id=uid, message=message, params=jsonable(params), link=link) for uid in set(user_ids)]
    db.session.add_all(added)
    db.session.flush()
    mail_after_commit([n.id for n in added])  # an e-mail copy each, after the commit, when mail is on
    return len(added)


def notify_organisation(organisation_id: int, message: str, link: str | None = None, **params) -> int:
    """Notify every active user of an organisation (e.g. all staff of an enterprise)."""
    ids = db.session.scalars(select(User.id).where(User.organisation_id == organisation_id, User.active.is_(True)))
    return notify_users(list(ids), message, link, **params)


def notify_role(role: str, message: str, link: str | None = None, **params) -> int:
    ids = db.session.scalars(select(User.id).where(User.role == role, User.active.is_(True)))
    return notify_users(list(ids), message, link, **params)


def mark_read(user_id: int, notification_id: int | None = None) -> None:
    """Mark one (or, with None, all) of the user's notifications read; another's is refused."""
    if notification_id is not None:
        n = db.session.get(Notification, notification_id)
        if n is None:
            raise NotFound("No such notification.")
        if n.user_id != user_id:
            raise Forbidden("This notification is not yours.")
        n.read_at = n.read_at or utcnow()
        return
    db.session.execute(update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
