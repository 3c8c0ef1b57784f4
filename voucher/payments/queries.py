"""What the payment pages (and the payment services) read.

:func:`payables` is the finance queue: every payable item not yet taken by a live disbursement,
with its payee's bank details as they stand now and, where it cannot be paid yet, the hold and its
reason.  Each list is a fixed number of queries, whatever the number of items.

Over 600 lines, on purpose: the payable queue has a Python form (:func:`payables`) and an SQL
form (:func:`payable_overview`) that must agree item for item, and the tests compare them; they
stay side by side with the disbursement, batch and notice lists that share their holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Date,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import FunctionElement

from voucher.auth.models import User
from voucher.db import contains_text, utcnow
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.grants import Due, PayableSQL, grant_kind, kinds
from voucher.pagination import bounded_int
from voucher.payments.models import (
    LIVE_STATES,
    Disbursement,
    NoticeObjection,
    PaymentBatch,
    PublicNotice,
    PublicNoticeItem,
)
from voucher.programmes.models import FundLedgerEntry, Programme, paid_delta, reserved_delta

LOCAL_TZ = "Asia/Shanghai"
ZERO = Decimal("0.00")

STATUS_LABELS = {
    "prepared": _l("Prepared: waiting for a second finance officer's approval"),
    "approved": _l("Approved: waiting to be put in a payment batch"),
    "rejected": _l("Rejected"),
    "in_batch": _l("In a payment batch: waiting for the bank's result"),
    "paid": _l("Paid"),
    "failed": _l("Bank payment failed: the item is back in the queue"),
    "returned": _l("Returned by the bank: the item is back in the queue"),
}
STATUS_BADGES = {"prepared": "warning", "approved": "info", "rejected": "secondary", "in_batch": "primary",
                 "paid": "success", "failed": "danger", "returned": "danger"}
PAYEE_STATUS_LABELS = {
    "prepared": _l("Being prepared by the bureau's finance office"),
    "approved": _l("Approved: payment is being arranged"),
    "rejected": _l("Not approved in this form; the bureau will prepare it again"),
    "in_batch": _l("Sent to the bank"),
    "paid": _l("Paid"),
    "failed": _l("The bank could not pay it; the bureau will prepare it again"),
    "returned": _l("Returned by the bank: check your bank details; the bureau will pay it again"),
}
MILESTONE_LABELS = {
    "advance": _l("Advance payment (kick-off confirmed)"),
    "balance": _l("Balance payment (accepted by both parties, evaluation passed)"),
    "full": _l("Full amount"),
}
# The disbursement's history in words (the audit page keeps the codes).
EVENT_LABELS = {
    "disbursement.prepared": _l("Payment prepared"),
    "disbursement.approve": _l("Approved"),
    "disbursement.reject": _l("Rejected"),
    "disbursement.void_approval": _l("Approval voided"),
    "disbursement.edited": _l("Payee or bank details corrected"),
    "disbursement.add_to_batch": _l("Put in a payment batch"),
    "disbursement.remove_from_batch": _l("Removed from its payment batch"),
    "disbursement.mark_paid": _l("Paid by the bank"),
    "disbursement.mark_failed": _l("Bank payment failed"),
    "disbursement.mark_returned": _l("Returned by the bank"),
    "disbursement.settle_by_offset": _l("Paid by offset against recovery orders (nothing transferred)"),
}
BATCH_STATUS_LABELS = {
    "confirmed": _l("Confirmed: waiting for the bank's results"),
    "completed": _l("Completed: every line has a result"),
    "cancelled": _l("Cancelled"),
}
BATCH_BADGES = {"confirmed": "primary", "completed": "success", "cancelled": "secondary"}
OBJECTION_STATUS_LABELS = {
    "open": _l("Open: the grant is held until an officer decides"),
    "upheld": _l("Upheld: the grant is not paid"),
    "dismissed": _l("Dismissed: the grant may be paid"),
}
HOLD_LABELS = {
    "not_announced": _l("Not yet on a public notice: a programme officer must publish the notice first"),
    "notice_running": _l("On public notice until %(date)s: payable from the next day"),
    "objection_open": _l("Held: an objection to the public notice is waiting for the officer's decision"),
    "objection_upheld": _l("Not payable: an objection to the public notice was upheld"),
    "no_bank_account": _l("The payee has no bank name or account on file"),
}


def local_today() -> date:
    return datetime.now(ZoneInfo(LOCAL_TZ)).date()


def hold_label(code: str | None, until: date | None = None) -> str:
    if not code:
        return ""
    text = str(HOLD_LABELS.get(code, code))
    return text % {"date": until.isoformat()} if until and "%(date)s" in text else text


@dataclass(frozen=True)
class Payable:
    """One payable item (a grant's milestone) and whatever holds it."""

    programme_id: int
    programme_name: str
    funding_kind: str
    source_type: str
    source_id: int
    milestone: str
    amount: Decimal
    payee_id: int
    payee_name: str
    bank_name: str | None
    bank_account: str | None
    enterprise_id: int
    enterprise_name: str
    due_since: date | datetime | None
    basis: dict = field(default_factory=dict)
    hold: str | None = None
    hold_until: date | None = None
    notice_id: int | None = None
    notice_ends_on: date | None = None
    bank_code: str | None = None  # 联行号 (CNAPS); missing: payable, but the bank file refuses the line

    @property
    def payable_since(self) -> date | None:
        """The local day from which the bureau can pay: the item is due and its notice period is over
        (the payment deadline runs from here)."""
        from voucher.deadlines import local_date

        start = local_date(self.due_since)
        if self.notice_ends_on is not None:
            after_notice = self.notice_ends_on + timedelta(days=1)
            start = max(start, after_notice) if start else after_notice
        return start

    @property
    def waits_on_bureau(self) -> bool:
        """Payable now, or held only for the payee's missing bank details: the deadline runs."""
        return self.hold in (None, "no_bank_account")

    def deadline(self, today: date | None = None):
        """The payment deadline in working days from :attr:`payable_since`; None while the item's notice
        or an objection holds it (nobody can pay it yet)."""
        from voucher.deadlines import payment_deadline

        if not self.waits_on_bureau or self.payable_since is None:
            return None
        return payment_deadline(self.payable_since, today)

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.source_type, self.source_id, self.milestone)

    @property
    def hold_text(self) -> str:
        return hold_label(self.hold, self.hold_until)


_Raw = Due  # one due item of a grant, as its kind (voucher.grants) lists it


def _fen(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def live_reference(source_type: str, source_id: int) -> str | None:
    """The reference of the grant's first live disbursement (prepared, approved, in a batch or paid),
    or None: the "payment under way" check payments registers on ``voucher.grants``."""
    live = db.session.scalar(select(Disbursement).where(
        Disbursement.source_type == source_type, Disbursement.source_id == source_id,
        Disbursement.status.in_(LIVE_STATES)).order_by(Disbursement.id).limit(1))
    return live.reference if live is not None else None


def _live_keys(raws: list[_Raw]) -> set[tuple[str, int, str]]:
    if not raws:
        return set()
    keys: set[tuple[str, int, str]] = set()
    by_type: dict[str, set[int]] = {}
    for r in raws:
        by_type.setdefault(r.source_type, set()).add(r.source_id)
    for source_type, ids in by_type.items():
        keys.update(db.session.execute(
            select(Disbursement.source_type, Disbursement.source_id, Disbursement.milestone)
            .where(Disbursement.source_type == source_type, Disbursement.source_id.in_(ids),
                   Disbursement.status.in_(LIVE_STATES))).tuples())
    return keys


@dataclass(frozen=True)
class NoticeState:
    """The public-notice state of one grant: its notice item, the notice's end, objections."""

    item_id: int | None
    notice_id: int | None
    ends_on: date | None
    open_objection: bool = False
    upheld_objection: bool = False


def notice_states(sources: Iterable[tuple[str, int]]) -> dict[tuple[str, int], NoticeState]:
    """The notice state of each grant (grants never announced are absent)."""
    wanted: dict[str, set[int]] = {}
    for source_type, source_id in sources:
        wanted.setdefault(source_type, set()).add(source_id)
    rows = []
    for source_type, ids in wanted.items():
        rows += db.session.execute(
            select(PublicNoticeItem.id, PublicNoticeItem.notice_id, PublicNoticeItem.source_type,
                   PublicNoticeItem.source_id, PublicNotice.ends_on)
            .join(PublicNotice, PublicNotice.id == PublicNoticeItem.notice_id)
            .where(PublicNoticeItem.source_type == source_type, PublicNoticeItem.source_id.in_(ids))).all()
    if not rows:
        return {}
    notice_ids = {r.notice_id for r in rows}
    objections = db.session.execute(
        select(NoticeObjection.notice_id, NoticeObjection.item_id, NoticeObjection.status)
        .where(NoticeObjection.notice_id.in_(notice_ids), NoticeObjection.status.in_(("open", "upheld")))).all()
    whole: dict[int, set[str]] = {}
    per_item: dict[int, set[str]] = {}
    for o in objections:
        if o.item_id is None:
            whole.setdefault(o.notice_id, set()).add(o.status)
        else:
            per_item.setdefault(o.item_id, set()).add(o.status)
    out = {}
    for r in rows:
        statuses = whole.get(r.notice_id, set()) | per_item.get(r.id, set())
        out[(r.source_type, r.source_id)] = NoticeState(r.id, r.notice_id, r.ends_on, "open" in statuses,
                                                        "upheld" in statuses)
    return out


def hold_for(state: NoticeState | None, today: date) -> tuple[str | None, date | None]:
    """Why a grant cannot be paid today on account of its public notice (None: it can)."""
    if state is None:
        return "not_announced", None
    if state.upheld_objection:
        return "objection_upheld", None
    if state.open_objection:
        return "objection_open", None
    if today <= state.ends_on:
        return "notice_running", state.ends_on
    return None, None


def payables(*, programme_id: int | None = None, funding_kind: str | None = None,
             source: tuple[str, int] | None = None, today: date | None = None) -> list[Payable]:
    """Payable items not taken by a live disbursement, each with its hold (None when payable now).

    Each grant kind lists its due items (``voucher.grants``): the trial voucher its advance once the
    kick-off is confirmed and its balance once the evaluation passed and both the enterprise and the
    provider accepted the delivery, neither once paid; approved loan discounts and robot subsidies
    what is still reserved for them (milestone ``full``).
    """
    today = today or local_today()
    raws: list[_Raw] = []
    source_type, source_id = source if source else (None, None)
    for kind in kinds():
        if funding_kind in (None, kind.funding_kind) and source_type in (None, kind.source_type):
            raws += kind.payables(programme_id=programme_id, source_id=source_id)
    live = _live_keys(raws)
    raws = [r for r in raws if (r.source_type, r.source_id, r.milestone) not in live]
    if not raws:
        return []
    org_ids = {r.payee_id for r in raws} | {r.enterprise_id for r in raws}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
    names = dict(db.session.execute(select(Programme.id, Programme.name)
                                    .where(Programme.id.in_({r.programme_id for r in raws}))).all())
    states = notice_states((r.source_type, r.source_id) for r in raws)
    out = []
    for r in raws:
        payee = orgs[r.payee_id]
        state = states.get((r.source_type, r.source_id))
        hold, until = hold_for(state, today)
        if hold is None and not ((payee.bank_name or "").strip() and (payee.bank_account or "").strip()):
            hold = "no_bank_account"
        out.append(Payable(r.programme_id, names.get(r.programme_id, ""), r.funding_kind, r.source_type, r.source_id,
                           r.milestone, r.amount, payee.id, payee.name, payee.bank_name, payee.bank_account,
                           r.enterprise_id, orgs[r.enterprise_id].name, r.due_since, r.basis, hold, until,
                           state.notice_id if state else None, state.ends_on if state else None,
                           bank_code=payee.bank_code))
    out.sort(key=lambda p: (p.hold is not None, p.programme_id, p.source_type, p.source_id, p.milestone))
    return out


# --- grants to announce ----------------------------------------------------------------------

@dataclass(frozen=True)
class Grant:
    source_type: str
    source_id: int
    funding_kind: str
    enterprise_id: int
    enterprise_name: str
    amount: Decimal


def announceable_grants(programme_id: int) -> list[Grant]:
    """The programme's approved grants that are not yet on any public notice."""
    rows: list[tuple[str, int, int, Decimal]] = []
    for kind in kinds():
        rows += [(kind.source_type, i, e, a) for i, e, a in kind.granted(programme_id)]
    announced = set(db.session.execute(select(PublicNoticeItem.source_type, PublicNoticeItem.source_id)
                                       .join(PublicNotice).where(PublicNotice.programme_id == programme_id)).tuples())
    rows = [r for r in rows if (r[0], r[1]) not in announced and r[3] and r[3] > 0]
    if not rows:
        return []
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_({r[2] for r in rows}))).all())
    return [Grant(st, sid, grant_kind(st).funding_kind, eid, names.get(eid, ""), amount)
            for st, sid, eid, amount in rows]


def notices_page(*, programme_id: int | None, page: int, per_page: int):
    stmt = select(PublicNotice)
    if programme_id:
        stmt = stmt.where(PublicNotice.programme_id == programme_id)
    return db.paginate(stmt.order_by(PublicNotice.id.desc()), page=page, per_page=per_page, error_out=False)


def notice_counts(notice_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Items, and objections per status, of each notice."""
    ids = list(set(notice_ids))
    out: dict[int, dict[str, int]] = {i: {"items": 0, "open": 0, "upheld": 0, "dismissed": 0} for i in ids}
    if not ids:
        return out
    for nid, n in db.session.execute(select(PublicNoticeItem.notice_id, func.count())
                                     .where(PublicNoticeItem.notice_id.in_(ids))
                                     .group_by(PublicNoticeItem.notice_id)).all():
        out[nid]["items"] = n
    for nid, status, n in db.session.execute(select(NoticeObjection.notice_id, NoticeObjection.status, func.count())
                                             .where(NoticeObjection.notice_id.in_(ids))
                                             .group_by(NoticeObjection.notice_id, NoticeObjection.status)).all():
        out[nid][status] = n
    return out


def objections_of(notice_id: int) -> list[NoticeObjection]:
    return list(db.session.scalars(select(NoticeObjection).where(NoticeObjection.notice_id == notice_id)
                                   .order_by(NoticeObjection.status != "open", NoticeObjection.id)))


def open_objections_count() -> int:
    return db.session.scalar(select(func.count()).select_from(NoticeObjection)
                             .where(NoticeObjection.status == "open")) or 0


def public_notices(page: int, per_page: int):
    """Every notice, newest first (the public list)."""
    return db.paginate(select(PublicNotice).order_by(PublicNotice.published_on.desc(), PublicNotice.id.desc()),
                       page=page, per_page=per_page, error_out=False)


# --- disbursements and batches -----------------------------------------------------------------

@dataclass(frozen=True)
class DisbursementFilters:
    status: str | None = None
    programme_id: int | None = None
    funding_kind: str | None = None
    q: str | None = None
    payee_id: int | None = None      # a payee's own list
    batch_id: int | None = None


def disbursements_select(filters: DisbursementFilters):
    stmt = select(Disbursement)
    if filters.status:
        stmt = stmt.where(Disbursement.status == filters.status)
    if filters.programme_id:
        stmt = stmt.where(Disbursement.programme_id == filters.programme_id)
    if filters.funding_kind:
        stmt = stmt.where(Disbursement.funding_kind == filters.funding_kind)
    if filters.payee_id is not None:
        stmt = stmt.where(Disbursement.payee_id == filters.payee_id)
    if filters.batch_id is not None:
        stmt = stmt.where(Disbursement.batch_id == filters.batch_id)
    if filters.q:
        text = filters.q.strip()
        conditions = [contains_text(Disbursement.payee_name, text), contains_text(Disbursement.bank_account, text)]
        digits = filters.q.strip().upper().removeprefix("DSB-").split("-")[-1]
        if bounded_int(digits) is not None:
            conditions.append(Disbursement.id == bounded_int(digits))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(Disbursement.id.desc())


def disbursements_page(filters: DisbursementFilters, page: int, per_page: int, cursor: str | None = None,
                       seek: bool = False):
    """``seek`` (the API): keyset-paged on the id, newest first (:func:`voucher.pagination.seek_or_offset`)."""
    if seek:
        from voucher.pagination import seek_or_offset

        return seek_or_offset(disbursements_select(filters).order_by(None), (Disbursement.id,),
                              list_name="disbursements", cursor=cursor, page=page, per_page=per_page)
    return db.paginate(disbursements_select(filters), page=page, per_page=per_page, error_out=False)


def batch_lines(batch_id: int) -> list[Disbursement]:
    return list(db.session.scalars(select(Disbursement).where(Disbursement.batch_id == batch_id)
                                   .order_by(Disbursement.id)))


def batch_line_page(batch_id: int, status: str | None, page: int, per_page: int):
    stmt = select(Disbursement).where(Disbursement.batch_id == batch_id)
    if status:
        stmt = stmt.where(Disbursement.status == status)
    return db.paginate(stmt.order_by(Disbursement.id), page=page, per_page=per_page, error_out=False)


def batch_progress(batch_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Lines per status of each batch (a line that failed or was removed stays counted on its batch)."""
    ids = list(set(batch_ids))
    out = {i: {"in_batch": 0, "paid": 0, "failed": 0, "approved": 0} for i in ids}
    if not ids:
        return out
    for bid, status, n in db.session.execute(select(Disbursement.batch_id, Disbursement.status, func.count())
                                             .where(Disbursement.batch_id.in_(ids))
                                             .group_by(Disbursement.batch_id, Disbursement.status)).all():
        out[bid][status] = n
    return out


def batches_page(status: str | None, programme_id: int | None, page: int, per_page: int, cursor: str | None = None,
                 seek: bool = False):
    """``seek`` (the API): keyset-paged on the id, newest first (:func:`voucher.pagination.seek_or_offset`)."""
    stmt = select(PaymentBatch)
    if status:
        stmt = stmt.where(PaymentBatch.status == status)
    if programme_id:
        stmt = stmt.where(PaymentBatch.programme_id == programme_id)
    if seek:
        from voucher.pagination import seek_or_offset

        return seek_or_offset(stmt, (PaymentBatch.id,), list_name="payment-batches", cursor=cursor, page=page,
                              per_page=per_page)
    return db.paginate(stmt.order_by(PaymentBatch.id.desc()), page=page, per_page=per_page, error_out=False)


def _transfers():
    """Something for the bank to transfer: not offset in full against recovery orders (抵扣; such a
    disbursement is recorded paid by offset on its page, in no batch)."""
    c = Disbursement.__table__.c
    return c.offset_amount < c.amount


def approved_for_batch(programme_id: int) -> list[Disbursement]:
    return list(db.session.scalars(select(Disbursement).where(Disbursement.programme_id == programme_id,
                                                              Disbursement.status == "approved", _transfers())
                                   .order_by(Disbursement.id)))


def approved_counts_by_programme() -> list[tuple[int, str, int, Decimal]]:
    """(programme id, name, approved disbursements not in a batch, what the bank transfers for them) per
    programme."""
    c = Disbursement.__table__.c
    fen = type_coerce(c.amount, BigInteger) - type_coerce(c.offset_amount, BigInteger)
    rows = db.session.execute(select(Disbursement.programme_id, Programme.name, func.count(), func.sum(fen))
                              .join(Programme, Programme.id == Disbursement.programme_id)
                              .where(Disbursement.status == "approved", _transfers())
                              .group_by(Disbursement.programme_id, Programme.name)
                              .order_by(Disbursement.programme_id)).all()
    return [(pid, name, n, _fen(total)) for pid, name, n, total in rows]


def user_names(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def programme_choices() -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in db.session.scalars(select(Programme).order_by(Programme.year.desc(),
                                                                                  Programme.name))]


def jobs_for(subject_type: str, subject_id: int, kinds: Iterable[str] | None = None):
    """The latest job of each kind about one subject (single jobs and batch parents)."""
    from voucher.documents.models import JobRecord

    stmt = select(JobRecord).where(JobRecord.subject_type == subject_type, JobRecord.subject_id == subject_id)
    if kinds:
        stmt = stmt.where(JobRecord.kind.in_(list(kinds)))
    latest: dict[str, Any] = {}
    for job in db.session.scalars(stmt.order_by(JobRecord.id.desc())):
        latest.setdefault(job.kind, job)
    return latest


# --- dashboard figures -------------------------------------------------------------------------

def month_start_utc(today: date | None = None) -> datetime:
    today = today or local_today()
    start = datetime(today.year, today.month, 1, tzinfo=ZoneInfo(LOCAL_TZ))
    return start.astimezone(ZoneInfo("UTC"))


def finance_counts(today: date | None = None) -> dict:
    fen = type_coerce(Disbursement.__table__.c.amount, BigInteger)
    by_status = dict(db.session.execute(select(Disbursement.status, func.count())
                                        .group_by(Disbursement.status)).all())
    paid_month = db.session.scalar(select(func.coalesce(func.sum(fen), 0))
                                   .where(Disbursement.status == "paid",
                                          Disbursement.result_recorded_at >= month_start_utc(today)))
    open_batches = db.session.scalar(select(func.count()).select_from(PaymentBatch)
                                     .where(PaymentBatch.status == "confirmed")) or 0
    return {"awaiting_approval": by_status.get("prepared", 0), "approved": by_status.get("approved", 0),
            "open_batches": open_batches, "paid_this_month": _fen(paid_month)}


def payee_counts(organisation_id: int) -> dict:
    fen = type_coerce(Disbursement.__table__.c.amount, BigInteger)
    rows = db.session.execute(select(Disbursement.status, func.count(), func.coalesce(func.sum(fen), 0))
                              .where(Disbursement.payee_id == organisation_id)
                              .group_by(Disbursement.status)).all()
    counts = {s: (n, _fen(t)) for s, n, t in rows}
    under_way = sum(counts.get(s, (0, ZERO))[0] for s in ("prepared", "approved", "in_batch"))
    under_way_total = sum((counts.get(s, (0, ZERO))[1] for s in ("prepared", "approved", "in_batch")), ZERO)
    return {"paid_count": counts.get("paid", (0, ZERO))[0], "paid_total": counts.get("paid", (0, ZERO))[1],
            "under_way": under_way, "under_way_total": under_way_total}


# --- programme report figures ------------------------------------------------------------------

def fund_use(programme_id: int, group: str) -> list[tuple[str, Decimal, Decimal]]:
    """(code, still reserved, paid) per funding kind, district or industry, from the ledger joined to
    the enterprises (integer fen summed in SQL)."""
    c = FundLedgerEntry.__table__.c
    fen = type_coerce(c.amount, BigInteger)
    reserved = func.sum(reserved_delta(c.kind, fen))
    paid = func.sum(paid_delta(c.kind, fen))
    if group == "kind":
        key = c.funding_kind
        stmt = select(key, reserved, paid).where(c.programme_id == programme_id)
    else:
        key = Enterprise.district if group == "district" else Enterprise.industry
        stmt = (select(key, reserved, paid).select_from(FundLedgerEntry.__table__)
                .outerjoin(Enterprise, Enterprise.organisation_id == c.enterprise_id)
                .where(c.programme_id == programme_id))
    rows = db.session.execute(stmt.group_by(key).order_by(key)).all()
    return [(code or "", _fen(r), _fen(p)) for code, r, p in rows]


def since(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


# --- the payable queue in SQL (start pages) ----------------------------------------------------
#
# :func:`payables` builds every item in Python (the queue page and the services need each one with
# its basis).  A start page needs figures over all of them and the few most urgent: the same items
# as one SQL statement (a UNION of the three sources with their hold computed by CASE), counted
# and summed in the database, and only the shown rows read.

class local_day(FunctionElement):
    """The Asia/Shanghai calendar day of a UTC timestamp column (UTC+8 all year, no daylight saving
    since 1991), as :func:`voucher.deadlines.local_date` gives it in Python."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day)
def _local_day_postgresql(element, compiler, **kw):
    return "CAST((%s AT TIME ZONE 'Asia/Shanghai') AS DATE)" % compiler.process(element.clauses, **kw)


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    return "date(%s, '+8 hours')" % compiler.process(element.clauses, **kw)


def _paid_exists(source_type: str, source_id, milestone: str):
    """The milestone is paid: more payments than returns (退汇) of it in the ledger."""
    c = FundLedgerEntry.__table__.c
    net = (select(func.coalesce(func.sum(case((c.kind == "pay", 1), else_=-1)), 0))
           .where(c.source_type == source_type, c.source_id == source_id, c.kind.in_(("pay", "return")),
                  c.milestone == milestone).scalar_subquery())
    return net > 0


def _live_exists(source_type: str, source_id, milestone: str):
    return (select(Disbursement.id).where(Disbursement.source_type == source_type, Disbursement.source_id == source_id,
                                          Disbursement.milestone == milestone,
                                          Disbursement.status.in_(LIVE_STATES)).exists())


def _text(value: str):
    return literal_column(f"'{value}'", String)


def _payable_union(payee_id: int | None = None):
    """Every payable item as rows (programme_id, source_type, source_id, milestone, amount in fen,
    payee_id, enterprise_id, due_day, due_at): the items :func:`payables` lists, from the same rules."""
    sql = PayableSQL(text=_text, paid_exists=_paid_exists, live_exists=_live_exists, local_day=local_day)
    parts = []
    for kind in kinds():
        parts += kind.payable_selects(sql, payee_id)
    return union_all(*parts).subquery("payable_item")


def _payable_rows(today: date, payee_id: int | None = None):
    """The union joined to each item's notice, objections and payee: (select, its columns)."""
    u = _payable_union(payee_id)
    payee = aliased(Organisation, name="payee_org")
    item, notice = PublicNoticeItem, PublicNotice

    def objection(status: str):
        return (select(NoticeObjection.id).where(NoticeObjection.notice_id == item.notice_id,
                                                 or_(NoticeObjection.item_id.is_(None), NoticeObjection.item_id == item.id),
                                                 NoticeObjection.status == status).exists())

    bank_ok = and_(func.trim(func.coalesce(payee.bank_name, "")) != "",
                   func.trim(func.coalesce(payee.bank_account, "")) != "")
    hold = case((item.id.is_(None), "not_announced"), (objection("upheld"), "objection_upheld"),
                (objection("open"), "objection_open"), (notice.ends_on >= today, "notice_running"),
                (~bank_ok, "no_bank_account"), else_=None)
    stmt = (select(u, hold.label("hold"), item.notice_id.label("notice_id"), notice.ends_on.label("ends_on"))
            .select_from(u)
            .join(payee, payee.id == u.c.payee_id)
            .outerjoin(item, and_(item.source_type == u.c.source_type, item.source_id == u.c.source_id))
            .outerjoin(notice, notice.id == item.notice_id))
    return stmt, payee


def _payable_since_key(rows):
    """An ordering of :attr:`Payable.payable_since` (the later of the due day and the day after the
    notice ends) without date arithmetic in SQL: (the later of due day and notice end, whether the
    notice end won)."""
    due_wins = or_(rows.c.ends_on.is_(None), rows.c.due_day > rows.c.ends_on)
    return (case((due_wins, rows.c.due_day), else_=rows.c.ends_on), case((due_wins, 0), else_=1))


def _materialized(stmt):
    """The rows as a materialised CTE: the figures and the order refer to ``hold`` several times, and
    a subquery the database flattens would evaluate its CASE (with the objection lookups) for each
    reference (4x the time on SQLite)."""
    return stmt.cte("payable_row").prefix_with("MATERIALIZED")


@dataclass(frozen=True)
class PayableSummary:
    total: int
    ready: int
    ready_amount: Decimal
    overdue: int


def payable_summary(today: date | None = None, payee_id: int | None = None) -> PayableSummary:
    """How many items are payable, how many can be paid now and for how much, and how many of those
    are past their payment deadline: aggregated in SQL (no item is read)."""
    return payable_overview(1, today, payee_id)[1]


def urgent_payables(limit: int, today: date | None = None, payee_id: int | None = None) -> list[Payable]:
    """The ``limit`` most urgent payable items (see :func:`payable_overview`)."""
    return payable_overview(limit, today, payee_id)[0] if limit > 0 else []


def payable_overview(limit: int, today: date | None = None,
                     payee_id: int | None = None) -> tuple[list[Payable], PayableSummary]:
    """The ``limit`` most urgent payable items and the figures over all of them, in one statement
    (the items are gathered once; the figures are window aggregates over all of them, so only the
    shown rows are read).

    The order is the start page's: payable now first, the earliest payment deadline first (it
    follows the day the item became payable), then those held only for missing bank details by
    deadline, then the other held ones; in the queue's order where equal."""
    from flask import current_app

    from voucher.deadlines import latest_overdue_start

    today = today or local_today()
    stmt, payee = _payable_rows(today, payee_id)
    enterprise = aliased(Organisation, name="enterprise_org")
    rows = _materialized(stmt.add_columns(payee.name.label("payee_name"), payee.bank_name.label("bank_name"),
                                          payee.bank_account.label("bank_account")))
    ready = rows.c.hold.is_(None)
    last = latest_overdue_start(today, int(current_app.config["PAYMENT_DEADLINE_WORKING_DAYS"]))
    if last is None:
        overdue = literal(0)
    else:  # payable since <= last: the due day and the day after the notice's end both by then
        overdue = case((and_(ready, or_(rows.c.due_day.is_(None), rows.c.due_day <= last), rows.c.ends_on < last), 1),
                       else_=0)
    since, notice_won = _payable_since_key(rows)
    runs = rows.c.hold.is_(None) | (rows.c.hold == "no_bank_account")
    query = (select(rows, enterprise.name.label("enterprise_name"), Programme.name.label("programme_name"),
                    func.count().over().label("n_total"), func.sum(case((ready, 1), else_=0)).over().label("n_ready"),
                    func.sum(case((ready, rows.c.amount), else_=0)).over().label("ready_amount"),
                    func.sum(overdue).over().label("n_overdue"))
             .join(enterprise, enterprise.id == rows.c.enterprise_id)
             .join(Programme, Programme.id == rows.c.programme_id)
             .order_by(rows.c.hold.is_not(None), case((runs, 0), else_=1), case((runs, since), else_=None),
                       case((runs, notice_won), else_=0), rows.c.programme_id, rows.c.source_type,
                       rows.c.source_id, rows.c.milestone)
             .limit(max(limit, 1)))
    out, summary = [], PayableSummary(0, 0, ZERO, 0)
    for r in db.session.execute(query).mappings():
        summary = PayableSummary(int(r["n_total"]), int(r["n_ready"] or 0), _fen(r["ready_amount"]),
                                 int(r["n_overdue"] or 0))
        due = r["due_at"] if r["due_at"] is not None else r["due_day"]
        out.append(Payable(r["programme_id"], r["programme_name"], grant_kind(r["source_type"]).funding_kind, r["source_type"],
                           r["source_id"], r["milestone"], _fen(r["amount"]), r["payee_id"], r["payee_name"],
                           r["bank_name"], r["bank_account"], r["enterprise_id"], r["enterprise_name"], due, {},
                           r["hold"], r["ends_on"] if r["hold"] == "notice_running" else None, r["notice_id"],
                           r["ends_on"]))
    return out[:limit], summary
