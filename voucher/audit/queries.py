from sqlalchemy import select

from voucher.audit.models import AuditEvent
from voucher.db import LIKE_ESCAPE, like_literal
from voucher.extensions import db
from voucher.pagination import KeysetPage, keyset_paginate


def _events(object_type, object_id, action):
    stmt = select(AuditEvent)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if action:
        stmt = stmt.where(AuditEvent.action.like(like_literal(action) + "%", escape=LIKE_ESCAPE))
    return stmt


def events_page(*, object_type: str | None, object_id: str | None, action: str | None, page: int, per_page: int):
    """By page number (the exports; OFFSET and an exact count)."""
    stmt = _events(object_type, object_id, action)
    return db.paginate(stmt.order_by(AuditEvent.id.desc()), page=page, per_page=per_page, error_out=False)


def events_seek(*, object_type: str | None, object_id: str | None, action: str | None, cursor: str | None,
                per_page: int) -> KeysetPage:
    """Newest first by id, seeking from ``cursor`` (the primary key serves it; filters keep working).
    Raises CursorError for a cursor not issued for this list."""
    return keyset_paginate(_events(object_type, object_id, action), [AuditEvent.id], list_name="audit",
                           cursor=cursor, per_page=per_page)


def events_for(object_type: str, object_id) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == object_type,
                                                             AuditEvent.object_id == str(object_id))
                                   .order_by(AuditEvent.id)))
