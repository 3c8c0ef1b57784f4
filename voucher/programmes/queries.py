"""What the programme pages read.  Figures come from the fund ledger (its latest entry's running
totals, as in ``services.balances``), never from a stored total; a list reads the latest entry
of every listed programme in one query."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from voucher.db import contains_text
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.pagination import Page
from voucher.programmes.models import FundLedgerEntry, Programme
from voucher.programmes.services import ZERO, FundBalances


def programmes_page(*, q: str | None, year: int | None, page: int, per_page: int):
    stmt = select(Programme)
    if q:
        stmt = stmt.where(contains_text(Programme.name, q.strip()))
    if year:
        stmt = stmt.where(Programme.year == year)
    stmt = stmt.order_by(Programme.year.desc(), Programme.opens_on.desc(), Programme.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def balances_for(programmes) -> dict[int, FundBalances]:
    """Each programme's budget, reserved and paid from its latest ledger entry (one query)."""
    programmes = list(programmes)
    ids = [p.id for p in programmes]
    latest = {}
    if ids:
        last_seq = (select(FundLedgerEntry.programme_id, func.max(FundLedgerEntry.seq).label("seq"))
                    .where(FundLedgerEntry.programme_id.in_(ids))
                    .group_by(FundLedgerEntry.programme_id).subquery())
        rows = db.session.execute(
            select(FundLedgerEntry.programme_id, FundLedgerEntry.reserved_after, FundLedgerEntry.paid_after)
            .join(last_seq, (FundLedgerEntry.programme_id == last_seq.c.programme_id)
                  & (FundLedgerEntry.seq == last_seq.c.seq))).all()
        latest = {r.programme_id: (r.reserved_after, r.paid_after) for r in rows}
    return {p.id: FundBalances(p.budget, *latest.get(p.id, (ZERO, ZERO))) for p in programmes}


def ledger_page(programme_id: int, *, page: int, per_page: int):
    """The programme's ledger entries, newest first, with the enterprise's and provider's names."""
    enterprise = aliased(Organisation)
    provider = aliased(Organisation)
    stmt = (select(FundLedgerEntry, enterprise.name.label("enterprise_name"), provider.name.label("provider_name"))
            .join(enterprise, enterprise.id == FundLedgerEntry.enterprise_id)
            .outerjoin(provider, provider.id == FundLedgerEntry.provider_id)
            .where(FundLedgerEntry.programme_id == programme_id)
            .order_by(FundLedgerEntry.seq.desc()))
    total = db.session.scalar(select(func.count()).select_from(FundLedgerEntry)
                              .where(FundLedgerEntry.programme_id == programme_id)) or 0
    page = max(page, 1)
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, page, per_page, total)


def local_today() -> date:
    """Today in the bureau's time zone (application windows are local dates)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def window_status(programme: Programme, today: date | None = None) -> str:
    """upcoming, open or closed, for a plain-language status on the page."""
    today = today or local_today()
    if today < programme.opens_on:
        return "upcoming"
    if today > programme.closes_on:
        return "closed"
    return "open"


def current_programmes(today: date | None = None) -> list[Programme]:
    today = today or local_today()
    return list(db.session.scalars(select(Programme).where(Programme.opens_on <= today, Programme.closes_on >= today)
                                   .order_by(Programme.closes_on)))
