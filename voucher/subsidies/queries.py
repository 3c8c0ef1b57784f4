"""What the subsidy pages read: lists with pagination (no N+1), the review queue, history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import selectinload

from voucher.appnumbers import number_filter
from voucher.audit.models import AuditEvent
from voucher.documents.models import StoredFile
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.pagination import Page
from voucher.programmes.models import LprRate, Programme
from voucher.subsidies.models import LoanApplication, RobotApplication


def lpr_page(page: int, per_page: int):
    return db.paginate(select(LprRate).order_by(LprRate.effective_from.desc()), page=page, per_page=per_page,
                       error_out=False)


def enterprise_loans(enterprise_id: int, page: int, per_page: int):
    stmt = (select(LoanApplication).where(LoanApplication.enterprise_id == enterprise_id)
            .order_by(LoanApplication.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def enterprise_robots(enterprise_id: int, page: int, per_page: int):
    stmt = (select(RobotApplication).options(selectinload(RobotApplication.lines))
            .where(RobotApplication.enterprise_id == enterprise_id).order_by(RobotApplication.id.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class QueueRow:
    kind: str
    id: int
    status: str
    enterprise_id: int
    enterprise_name: str
    programme_name: str
    amount: Decimal
    submitted_at: datetime | None
    created_at: datetime
    number: str | None = None  # the application number (受理编号)


def _review_models(kind: str | None):
    return [(code, model, amount) for code, model, amount in
            (("loan", LoanApplication, LoanApplication.computed_discount),
             ("robot", RobotApplication, RobotApplication.computed_subsidy)) if not kind or kind == code]


def _status_condition(model, status: str | None):
    # drafts are the enterprise's own business
    return model.status == status if status else model.status != "draft"


def review_count(kind: str | None, status: str | None) -> int:
    """How many applications :func:`review_page` lists without a text filter: counted per kind on the
    (status, submitted_at) index, no join."""
    return sum(db.session.scalar(select(func.count()).select_from(model).where(_status_condition(model, status))) or 0
               for _code, model, _amount in _review_models(kind))


def review_page(kind: str | None, status: str | None, q: str | None, page: int, per_page: int) -> Page:
    """Both kinds in one list, filtered by kind, status and enterprise name, newest submission first.

    Each kind gives only its first ``page * per_page`` rows in the list's order (the rows of the
    requested page are among them), so the union never sorts every application; the total is
    counted per kind without joins when there is no text filter."""
    page = max(1, page)
    parts = []
    for code, model, amount in _review_models(kind):
        stmt = (select(literal(code).label("kind"), model.id.label("id"), model.status.label("status"),
                       model.enterprise_id.label("enterprise_id"), model.programme_id.label("programme_id"),
                       func.coalesce(model.approved_amount, amount).label("amount"),
                       model.submitted_at.label("submitted_at"), model.created_at.label("created_at"),
                       model.number.label("number"))
                .where(_status_condition(model, status)))
        if q:
            like = f"%{q}%"
            by_number = number_filter(model, q)
            stmt = (stmt.join(Organisation, Organisation.id == model.enterprise_id)
                    .where(or_(Organisation.name.ilike(like), Organisation.uscc.ilike(like),
                               *([by_number] if by_number is not None else []))))
        parts.append((model, stmt))
    if not parts:
        return Page([], page, per_page, 0)
    if q:
        combined = union_all(*(stmt for _m, stmt in parts)).subquery()
        total = db.session.scalar(select(func.count()).select_from(combined)) or 0
    else:
        total = review_count(kind, status)
    firsts = []
    for model, stmt in parts:  # each kind's first rows in the list's order, read without the names
        first = (stmt.order_by(model.submitted_at.desc().nulls_last(), model.created_at.desc(), model.id.desc())
                 .limit(page * per_page).subquery())
        firsts.append(select(first))
    combined = union_all(*firsts).subquery() if len(firsts) > 1 else firsts[0].subquery()
    rows = db.session.execute(
        select(combined, Organisation.name.label("enterprise_name"), Programme.name.label("programme_name"))
        .join(Organisation, Organisation.id == combined.c.enterprise_id)
        .join(Programme, Programme.id == combined.c.programme_id)
        .order_by(combined.c.submitted_at.desc().nulls_last(), combined.c.created_at.desc(), combined.c.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    items = []
    for r in rows:
        amount = r.amount
        # A UNION of Money columns comes back as raw fen on some backends: convert once, exactly.
        if not isinstance(amount, Decimal):
            amount = (Decimal(int(amount)) / 100).quantize(Decimal("0.01"))
        items.append(QueueRow(r.kind, r.id, r.status, r.enterprise_id, r.enterprise_name, r.programme_name, amount,
                              r.submitted_at, r.created_at, r.number))
    return Page(items, page, per_page, total)


def history(object_type: str, object_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == object_type,
                                                             AuditEvent.object_id == str(object_id))
                                   .order_by(AuditEvent.id)))


def files_by_id(ids) -> dict[int, StoredFile]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {f.id: f for f in db.session.scalars(select(StoredFile).where(StoredFile.id.in_(ids)))}


def loan_with_periods(application_id: int) -> LoanApplication | None:
    return db.session.scalar(select(LoanApplication).options(selectinload(LoanApplication.periods))
                             .where(LoanApplication.id == application_id))


def robot_with_lines(application_id: int) -> RobotApplication | None:
    return db.session.scalar(select(RobotApplication).options(selectinload(RobotApplication.lines))
                             .where(RobotApplication.id == application_id))


def programme_names(ids) -> dict[int, str]:
    ids = list({i for i in ids if i})
    if not ids:
        return {}
    return dict(db.session.execute(select(Programme.id, Programme.name).where(Programme.id.in_(ids))).all())


def with_rows(kind: str, application_id: int):
    """An application of either kind with its rows (interest periods, robot lines) loaded."""
    return loan_with_periods(application_id) if kind == "loan" else robot_with_lines(application_id)
