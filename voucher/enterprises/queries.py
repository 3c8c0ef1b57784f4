"""What the enterprise and provider pages read (one query per list, no N+1)."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from voucher.audit.models import AuditEvent
from voucher.auth.models import User
from voucher.db import contains_text
from voucher.enterprises.models import SIZE_CLASS_CODES, Enterprise, Organisation
from voucher.extensions import db
from voucher.reference import DISTRICTS, INDUSTRIES


def enterprises_page(*, q: str | None, district: str | None, industry: str | None, size_class: str | None,
                     page: int, per_page: int, cursor: str | None = None, seek: bool = False):
    """Enterprises (organisation + profile) matching the search, newest first.  ``seek`` (the API):
    keyset-paged on (created_at, id), see :func:`voucher.pagination.seek_or_offset`."""
    stmt = (select(Organisation).join(Enterprise, Enterprise.organisation_id == Organisation.id)
            .options(contains_eager(Organisation.enterprise))
            .where(Organisation.kind == "enterprise"))
    if q:
        text = q.strip()
        stmt = stmt.where(or_(contains_text(Organisation.name, text),
                              contains_text(Organisation.uscc, text.replace(" ", ""))))
    if district in DISTRICTS:
        stmt = stmt.where(Enterprise.district == district)
    if industry in INDUSTRIES:
        stmt = stmt.where(Enterprise.industry == industry)
    if size_class in SIZE_CLASS_CODES:
        stmt = stmt.where(Enterprise.size_class == size_class)
    if seek:
        from voucher.pagination import seek_or_offset

        return seek_or_offset(stmt, (Organisation.created_at, Organisation.id), list_name="enterprises",
                              cursor=cursor, page=page, per_page=per_page)
    stmt = stmt.order_by(Organisation.created_at.desc(), Organisation.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def organisation_with_enterprise(organisation_id: int) -> Organisation | None:
    """An organisation and its enterprise record in one statement (the start page keeps it for the
    request, so each card that reads it finds it in the session)."""
    return db.session.get(Organisation, organisation_id, options=[joinedload(Organisation.enterprise)])


def organisation_users(organisation_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.organisation_id == organisation_id)
                                   .order_by(User.active.desc(), User.name)))


def user_count(organisation_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.organisation_id == organisation_id)) or 0


def recent_changes(organisation_id: int, limit: int = 10) -> list[AuditEvent]:
    """The organisation's own audit events (registration and profile changes), newest first."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "organisation",
                                 AuditEvent.object_id == str(organisation_id))
        .order_by(AuditEvent.id.desc()).limit(limit)))
