from sqlalchemy import select

from voucher.audit.models import AuditEvent
from voucher.extensions import db


def events_page(*, object_type: str | None, object_id: str | None, action: str | None, page: int, per_page: int):
    stmt = select(AuditEvent)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if action:
        stmt = stmt.where(AuditEvent.action.like(f"{action}%"))
    return db.paginate(stmt.order_by(AuditEvent.id.desc()), page=page, per_page=per_page, error_out=False)


def events_for(object_type: str, object_id) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == object_type,
                                                             AuditEvent.object_id == str(object_id))
                                   .order_by(AuditEvent.id)))
