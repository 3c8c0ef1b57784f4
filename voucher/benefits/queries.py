"""Reading the benefits' data for pages: imports, candidates (filters, counts by district and
industry), the words for statuses, conditions and events."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voucher.benefits.models import BenefitCandidate, BenefitSource
from voucher.extensions import db

STATUS_LABELS = {"open": _l("Waiting for the enterprise"), "confirmed": _l("Confirmed"),
                 "declined": _l("Declined"), "excluded": _l("Excluded: on the credit blacklist")}
KIND_LABELS = {"robot": _l("Robot purchase subsidy"), "loan": _l("Loan interest discount")}
CONDITION_LABELS = {
    "registered": _l("Registered enterprise"),
    "sme": _l("Small, medium or micro enterprise"),
    "programme_open": _l("Programme open and funding this kind"),
    "not_blacklisted": _l("Not on the credit blacklist on the day"),
    "pilot_industry": _l("Industry (pilot industries get the higher domestic rate)"),
    "cap_left": _l("Enterprise cap and what is already committed"),
    "invoice": _l("Robot purchase invoice, not claimed before"),
    "rate_ceiling": _l("Loan rate within the ceiling (LPR on the contract date less the margin)"),
    "interest_period": _l("Interest period paid, its days not claimed before"),
    "blacklisted": _l("Listed on the credit blacklist"),
}
EVENT_LABELS = {
    "benefit_source.imported": _l("Source imported"),
    "benefit_candidate.matched": _l("Candidate matched"),
    "benefit_candidate.excluded": _l("Candidate excluded (credit blacklist)"),
    "benefit_candidate.confirmed": _l("Candidate confirmed by the enterprise"),
    "benefit_candidate.declined": _l("Candidate declined by the enterprise"),
}


def sources_statement():
    return select(BenefitSource)


def sources_page(page: int, per_page: int):
    return db.paginate(sources_statement().order_by(BenefitSource.id.desc()), page=page, per_page=per_page,
                       error_out=False)


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    kind: str | None = None
    district: str | None = None
    industry: str | None = None
    enterprise_id: int | None = None


def _statement(f: Filters):
    stmt = select(BenefitCandidate)
    if f.status:
        stmt = stmt.where(BenefitCandidate.status == f.status)
    if f.kind:
        stmt = stmt.where(BenefitCandidate.kind == f.kind)
    if f.district:
        stmt = stmt.where(BenefitCandidate.district == f.district)
    if f.industry:
        stmt = stmt.where(BenefitCandidate.industry == f.industry)
    if f.enterprise_id is not None:
        stmt = stmt.where(BenefitCandidate.enterprise_id == f.enterprise_id,
                          BenefitCandidate.status != "excluded")
    return stmt


def statement(f: Filters):
    """The candidates under the filters (no order): the pages' list and the API's keyset list."""
    return _statement(f)


def candidates_page(f: Filters, page: int, per_page: int):
    return db.paginate(_statement(f).order_by(BenefitCandidate.id.desc()), page=page, per_page=per_page,
                       error_out=False)


def counts_by(column: str, f: Filters) -> list[tuple[str, int, object]]:
    """(district or industry, number of candidates, their total amount) under the filters."""
    sub = _statement(f).subquery()
    rows = db.session.execute(select(sub.c[column], func.count(), func.sum(sub.c.amount))
                              .group_by(sub.c[column]).order_by(sub.c[column]))
    return [tuple(r) for r in rows]


def status_counts(f: Filters) -> dict[str, int]:
    """Candidates per status under the filters."""
    sub = _statement(f).subquery()
    return {s: n for s, n in db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status))}


def enterprise_names(ids) -> dict[int, str]:
    """The enterprises' names by organisation id (one query)."""
    from voucher.enterprises.models import Organisation

    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


def open_count(enterprise_id: int) -> tuple[int, object]:
    n, total = db.session.execute(select(func.count(), func.sum(BenefitCandidate.amount)).where(
        BenefitCandidate.enterprise_id == enterprise_id, BenefitCandidate.status == "open")).one()
    return n or 0, total
