from sqlalchemy import or_, select

from voucher.auth.models import User
from voucher.db import contains_text
from voucher.enterprises.models import Organisation
from voucher.extensions import db


def users_page(q: str | None, role: str | None, page: int, per_page: int):
    stmt = select(User).outerjoin(Organisation, User.organisation_id == Organisation.id)
    if q:
        text = q.strip()
        stmt = stmt.where(or_(contains_text(User.email, text), contains_text(User.name, text),
                              contains_text(Organisation.name, text)))
    if role:
        stmt = stmt.where(User.role == role)
    stmt = stmt.order_by(User.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def organisation_choices():
    rows = db.session.execute(select(Organisation.id, Organisation.kind, Organisation.name)
                              .order_by(Organisation.kind, Organisation.name)).all()
    return rows
