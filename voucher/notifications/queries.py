from sqlalchemy import func, select

from voucher.extensions import db
from voucher.notifications.models import Notification


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def page_for(user_id: int, page: int, per_page: int):
    return db.paginate(select(Notification).where(Notification.user_id == user_id)
                       .order_by(Notification.id.desc()), page=page, per_page=per_page, error_out=False)
