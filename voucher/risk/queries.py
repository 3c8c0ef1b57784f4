"""What the risk pages read: the dashboard's page of signals, an application's open signals."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from voucher.appnumbers import parse_number
from voucher.db import LIKE_ESCAPE, like_literal
from voucher.extensions import db
from voucher.identifiers import normalise_identifier
from voucher.risk.detect import KINDS
from voucher.risk.models import RiskSignal

KIND_LABELS = {
    "shared_bank_account": _l("Shared bank account"),
    "shared_phone": _l("Shared phone number"),
    "shared_email_domain": _l("Shared e-mail domain"),
    "same_representative": _l("Same representative or contact"),
    "same_ip": _l("Same IP address"),
    "split_applications": _l("Split applications"),
    "price_above_list": _l("Price above the catalogue's price"),
    "duplicate_invoice": _l("Invoice seen elsewhere"),
    "duplicate_contract": _l("Contract seen elsewhere"),
}
STATUS_LABELS = {"open": _l("Open"), "dismissed": _l("Dismissed")}
EVENT_LABELS = {"risk_signal.dismiss": _l("Risk signal dismissed")}
assert set(KIND_LABELS) == set(KINDS)


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    status: str | None = "open"
    q: str | None = None


def _statement(filters: Filters):
    stmt = select(RiskSignal)
    if filters.kind in KINDS:
        stmt = stmt.where(RiskSignal.kind == filters.kind)
    if filters.status in STATUS_LABELS:
        stmt = stmt.where(RiskSignal.status == filters.status)
    if filters.q:
        parsed = parse_number(filters.q)
        text = parsed.text if parsed else normalise_identifier(filters.q)[:40]
        stmt = stmt.where(RiskSignal.numbers.like(f"%{like_literal(text)}%", escape=LIKE_ESCAPE))
    return stmt


def signals_page(filters: Filters, page: int, per_page: int):
    return db.paginate(_statement(filters).order_by(RiskSignal.id.desc()), page=page, per_page=per_page,
                       error_out=False)


def open_counts() -> dict[str, int]:
    rows = db.session.execute(select(RiskSignal.kind, func.count()).where(RiskSignal.status == "open")
                              .group_by(RiskSignal.kind))
    return dict(rows.all())


def signals_for(source_type: str, source_id: int, enterprise_id: int | None = None) -> list[RiskSignal]:
    """The open signals about one application: it is their subject, or its enterprise is one of their
    organisations (as :func:`voucher.risk.detect.touches`)."""
    conditions = [(RiskSignal.source_type == source_type) & (RiskSignal.source_id == source_id)]
    if enterprise_id is not None:
        conditions += [RiskSignal.org_a_id == enterprise_id, RiskSignal.org_b_id == enterprise_id]
    return list(db.session.scalars(select(RiskSignal).where(RiskSignal.status == "open", or_(*conditions))
                                   .order_by(RiskSignal.id)))


WHAT_LABELS = {"login": _l("login"), "submit": _l("submission")}


def reason_text(signal: RiskSignal) -> str:
    """One sentence saying why the signal was raised (the rows behind it are listed under it)."""
    from flask_babel import gettext as _

    ev = signal.evidence or {}
    kind = signal.kind
    if kind == "shared_bank_account":
        return _("Two organisations give the same bank account (%(value)s).", value=ev.get("value", ""))
    if kind == "shared_phone":
        return _("Two organisations give the same phone number (%(value)s).", value=ev.get("value", ""))
    if kind == "shared_email_domain":
        return _("Users of two organisations have e-mail addresses at %(value)s.", value=ev.get("value", ""))
    if kind == "same_representative":
        return _("Two organisations name the same representative or contact (%(value)s).", value=ev.get("value", ""))
    if kind == "same_ip":
        return _("The enterprise and its provider were active from the same IP address %(value)s within "
                 "%(minutes)s minutes.", value=ev.get("value", ""), minutes=ev.get("minutes", 0))
    if kind == "split_applications":
        if ev.get("field") == "representative":
            return _("%(count)s applications for one solution within %(days)s days by enterprises sharing a "
                     "representative (%(total)s in all).", count=ev.get("count", 0), days=ev.get("days", 0),
                     total=ev.get("total", ""))
        return _("%(count)s applications for one solution within %(days)s days by one enterprise (%(total)s in "
                 "all).", count=ev.get("count", 0), days=ev.get("days", 0), total=ev.get("total", ""))
    if kind == "price_above_list":
        return _("The amount %(amount)s is above the catalogue's trial price of %(price)s.",
                 amount=ev.get("amount", ""), price=ev.get("trial_price", ""))
    if kind == "duplicate_invoice":
        return _("Invoice %(value)s appears in more than one application.", value=ev.get("value", ""))
    return _("Loan contract %(value)s appears in applications of more than one enterprise.",
             value=ev.get("value", ""))
