"""What the amendment pages read: the officer's queue (search by application number, simple pages),
a grant's amendments, the words for fields and states."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voucher.amendments.models import GrantAmendment
from voucher.appnumbers import parse_number
from voucher.extensions import db

FIELD_LABELS = {
    "requested_amount": _l("Voucher amount"),
    "trial_start_date": _l("Trial start date"),
    "approved_amount": _l("Approved amount"),
    "invoice_file": _l("Invoice file"),
    **{f"period_{n}": _l("Interest period %(num)s", num=n) for n in range(1, 25)},
    **{f"line_{n}": _l("Robot line %(num)s", num=n) for n in range(1, 51)},
}
MONEY_FIELDS = {"requested_amount", "approved_amount"}
STATUS_LABELS = {
    "requested": _l("Waiting for decision"),
    "approved": _l("Approved"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
}
EVENT_LABELS = {
    "grant_amendment.requested": _l("Change of an approved grant requested"),
    "grant_amendment.approve": _l("Change of the grant approved"),
    "grant_amendment.refuse": _l("Change of the grant refused"),
    "grant_amendment.withdraw": _l("Change request withdrawn"),
    "trial_application.amended": _l("Approved grant amended"),
}
PER_PAGE = 25
# The states in which a kind's grant may be amended (the kinds' own rules: voucher/trials/amendment.py,
# voucher/subsidies/amendment.py); the pages show "Request a change" only then.
AMENDABLE_STATES = {
    "trial_application": ("approved", "trial_running", "trial_completed", "evaluated", "closed"),
    "loan_application": ("approved",),
    "robot_application": ("approved",),
}


def queue(status: str | None, q: str | None, page: int):
    stmt = select(GrantAmendment)
    if status in STATUS_LABELS:
        stmt = stmt.where(GrantAmendment.status == status)
    text = (q or "").strip()
    if text:
        parsed = parse_number(text)
        stmt = stmt.where(GrantAmendment.application_number == (parsed.text if parsed else text[:20]))
    stmt = stmt.order_by(GrantAmendment.requested_at.desc(), GrantAmendment.id.desc())
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)


def page_context(actor, source_type: str, source_id: int, status: str, owner) -> dict:
    """What a grant's page needs to show its approved changes beside the original decision and, for
    the enterprise's own users, the "Request a change" link (``owner``: the grant row, for the check)."""
    from voucher.access import can

    items = history(source_type, source_id)
    states = AMENDABLE_STATES.get(source_type, ())
    may_request = (status in states and can(actor, "amendments.request", owner)
                   and not any(a.status == "requested" for a in items))
    if may_request:  # not offered on a grant that cannot change now (fully paid, a payment under way)
        from voucher.grants import grant_kind

        may_request = grant_kind(source_type).amendment_refusal(source_id) is None
    return {"amendments": items, "may_request_amendment": may_request, "amendment_source_type": source_type,
            "amendment_field_labels": FIELD_LABELS, "money_fields": MONEY_FIELDS}


def history(source_type: str, source_id: int) -> list[GrantAmendment]:
    """A grant's amendments, oldest first (the application page shows the approved ones)."""
    return list(db.session.scalars(select(GrantAmendment).where(
        GrantAmendment.source_type == source_type, GrantAmendment.source_id == source_id)
        .order_by(GrantAmendment.id)))
