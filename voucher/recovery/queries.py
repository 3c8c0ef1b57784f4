"""What the recovery pages read: the bureau's list (search by reference or application number, state,
pages), a debtor's orders, a grant's obligations and orders, the words for states and events."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voucher.appnumbers import parse_number
from voucher.extensions import db
from voucher.recovery.models import RecoveryOrder

PER_PAGE = 25
STATUS_LABELS = {
    "open": _l("Open"),
    "partly_settled": _l("Partly repaid"),
    "settled": _l("Settled"),
    "cancelled": _l("Cancelled"),
}
METHOD_LABELS = {"whole": _l("Whole amount"), "pro_rata": _l("Pro rata to the remaining obligation time")}
OBLIGATION_LABELS = {
    "robot_in_use": _l("The subsidised robots stay in use at the enterprise"),
    "trial_scope": _l("The provider delivers the accepted scope of the trial"),
}
EVENT_LABELS = {
    "recovery_order.created": _l("Breach recorded, recovery order issued"),
    "recovery_order.settle_part": _l("Repayment recorded (partly repaid)"),
    "recovery_order.settle": _l("Repayment recorded (settled)"),
    "recovery_order.cancel": _l("Recovery order cancelled"),
    "recovery_order.offset_part": _l("Offset against a payment recorded (partly repaid)"),
    "recovery_order.offset": _l("Offset against a payment recorded (settled)"),
    "recovery_order.offset_reserved": _l("Offset held back from a payment being prepared"),
    "recovery_order.offset_released": _l("Offset released: the payment was rejected or failed"),
}
SETTLEMENT_LABELS = {"repayment": _l("Repayment"), "offset": _l("Offset against a payment")}


def obligation_label(code: str) -> str:
    return str(OBLIGATION_LABELS.get(code, code))


def search(status: str | None, q: str | None, page: int, *, debtor_id: int | None = None, per_page: int = PER_PAGE):
    """Orders newest first; ``q`` a reference (ZH000012) or an application number; ``debtor_id``: only
    that organisation's orders."""
    stmt = select(RecoveryOrder)
    if debtor_id is not None:
        stmt = stmt.where(RecoveryOrder.debtor_id == debtor_id)
    if status in STATUS_LABELS:
        stmt = stmt.where(RecoveryOrder.status == status)
    text = (q or "").strip()
    if text:
        upper = text.upper()
        if upper.startswith("ZH") and upper[2:].isdigit() and len(upper) <= 11:
            stmt = stmt.where(RecoveryOrder.id == int(upper[2:]))
        else:
            parsed = parse_number(text)
            stmt = stmt.where(RecoveryOrder.application_number == (parsed.text if parsed else text[:20]))
    stmt = stmt.order_by(RecoveryOrder.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def orders_of_grant(source_type: str, source_id: int) -> list[RecoveryOrder]:
    return list(db.session.scalars(select(RecoveryOrder).where(
        RecoveryOrder.source_type == source_type, RecoveryOrder.source_id == source_id).order_by(RecoveryOrder.id)))


def page_context(actor, source_type: str, source_id: int) -> dict:
    """What a grant's page needs for its "Obligations and recovery" card (``recovery/_grant.html``):
    the grant's obligations with their dates, its recovery orders the reader may see, and the link
    to record a breach (officers, shown by the template)."""
    from voucher.access import BUREAU
    from voucher.grants import grant_kind

    kind = grant_kind(source_type)
    orders = orders_of_grant(source_type, source_id)
    if actor.role not in BUREAU:
        orders = [o for o in orders if o.debtor_id == actor.organisation_id]
    return {"recovery_obligations": kind.obligations(source_id) if kind else [], "recovery_orders": orders,
            "recovery_source": (source_type, source_id), "recovery_status_labels": STATUS_LABELS}
