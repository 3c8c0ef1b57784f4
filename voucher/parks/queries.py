"""What the park pages, the API and the workbook read: a park's confirmed enterprises (paginated,
searchable) and their programme use, and the park's figures.  Every figure is counted or summed in
SQL over the confirmed members; the rows of one page are read with one query per figure (no N+1).

Definitions (docs/DEVELOPING.md, *Parks*):
- applications by kind (trial voucher, loan discount, robot subsidy) and status; *filed* = every
  status but draft; *approved* = approved and every later state (a trial application's trial states);
- trials = trials opened (one per approved trial application); adopted = the enterprise decided to
  keep paying for the solution (``Trial.adopted``); adoption rate = adopted / decisions recorded,
  percent to 0.1 (half up), none before the first decision;
- granted = the fund ledger's commitments net of releases (reserve − release: what stands approved,
  paid or not); paid = pay − return (a payment the bank returned is not paid).
No bank detail is read here: only the enterprise's name, credit code, district, industry and size.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, case, func, or_, select, type_coerce

from voucher.applications.models import TrialApplication
from voucher.db import LIKE_ESCAPE, like_literal
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.parks.maturity import maturity_levels
from voucher.parks.models import Park, ParkMembership
from voucher.programmes.models import FundLedgerEntry, paid_delta
from voucher.subsidies.models import LoanApplication, RobotApplication
from voucher.trials.models import Trial

KINDS = {"trial": TrialApplication, "loan": LoanApplication, "robot": RobotApplication}
KIND_LABELS = {"trial": _l("Trial voucher"), "loan": _l("Loan discount"), "robot": _l("Robot subsidy")}
APPROVED_STATES = ("approved", "trial_running", "trial_completed", "evaluated", "closed")
STATUS_LABELS = {"pending": _l("Waiting for the operator"), "confirmed": _l("Membership confirmed"),
                 "declined": _l("Membership declined"), "left": _l("Left the park")}
EVENT_LABELS = {"park.create": _l("Park registered"),
                "park_membership.request": _l("Park named by the enterprise"),
                "park_membership.confirm": _l("Park membership confirmed"),
                "park_membership.decline": _l("Park membership declined"),
                "park_membership.leave": _l("Enterprise left the park")}
ZERO = Decimal("0.00")


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` in percent to 0.1, half up; None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Usage:
    """One enterprise's programme use."""

    applications: dict = field(default_factory=dict)   # kind -> {status: count}
    trials: int = 0
    adopted: int = 0
    decisions: int = 0
    granted: Decimal = ZERO
    paid: Decimal = ZERO
    maturity: str = ""

    def filed(self, kind: str) -> int:
        return sum(n for s, n in self.applications.get(kind, {}).items() if s != "draft")

    def approved(self, kind: str) -> int:
        return sum(n for s, n in self.applications.get(kind, {}).items() if s in APPROVED_STATES)


@dataclass
class Member:
    organisation: Organisation
    enterprise: Enterprise
    confirmed_at: object
    usage: Usage


@dataclass
class ParkFigures:
    members: int
    pending: int
    active: int                      # members with at least one filed application
    applications: dict               # kind -> {status: count}
    filed: dict                      # kind -> count
    approved: dict                   # kind -> count
    trials: int
    adopted: int
    decisions: int
    granted: Decimal
    paid: Decimal

    @property
    def adoption_rate(self) -> Decimal | None:
        return rate(self.adopted, self.decisions)


def parks_of_operator(organisation_id: int | None) -> list[Park]:
    return list(db.session.scalars(select(Park).where(Park.operator_id == organisation_id).order_by(Park.name)))


def all_parks() -> list[Park]:
    return list(db.session.scalars(select(Park).order_by(Park.district, Park.name)))


def confirmed_ids(park_id: int):
    """The confirmed members' organisation ids (a subquery)."""
    return select(ParkMembership.enterprise_id).where(ParkMembership.park_id == park_id,
                                                      ParkMembership.status == "confirmed")


def pending_requests(park_id: int) -> list[ParkMembership]:
    return list(db.session.scalars(select(ParkMembership).where(ParkMembership.park_id == park_id,
                                                                ParkMembership.status == "pending")
                                   .order_by(ParkMembership.requested_at, ParkMembership.id)))


def members_page(park_id: int, q: str | None, page: int, per_page: int):
    """A page of the confirmed members (name order), searched by name or credit code, each with its use."""
    stmt = (select(Organisation, Enterprise, ParkMembership.decided_at)
            .join(Enterprise, Enterprise.organisation_id == Organisation.id)
            .join(ParkMembership, ParkMembership.enterprise_id == Organisation.id)
            .where(ParkMembership.park_id == park_id, ParkMembership.status == "confirmed"))
    if q:
        stmt = stmt.where(or_(Organisation.name.like(f"%{like_literal(q)}%", escape=LIKE_ESCAPE),
                              Organisation.uscc.like(like_literal(q.upper()) + "%", escape=LIKE_ESCAPE)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(page or 1, 1)
    rows = db.session.execute(stmt.order_by(Organisation.name, Organisation.id)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    usage = usage_of([org.id for org, _e, _d in rows])
    from voucher.pagination import Page

    return Page([Member(org, ent, decided, usage[org.id]) for org, ent, decided in rows], page, per_page, total or 0)


def usage_of(enterprise_ids: list[int]) -> dict[int, Usage]:
    """Each enterprise's :class:`Usage` (one query per figure, whatever the number of enterprises)."""
    out = {i: Usage() for i in enterprise_ids}
    if not enterprise_ids:
        return out
    for kind, model in KINDS.items():
        for ent, status, n in db.session.execute(
                select(model.enterprise_id, model.status, func.count())
                .where(model.enterprise_id.in_(enterprise_ids)).group_by(model.enterprise_id, model.status)):
            out[ent].applications.setdefault(kind, {})[status] = int(n)
    for ent, trials, adopted, decisions in db.session.execute(
            select(Trial.enterprise_id, func.count(),
                   func.coalesce(func.sum(case((Trial.adopted.is_(True), 1), else_=0)), 0),
                   func.coalesce(func.sum(case((Trial.adopted.is_not(None), 1), else_=0)), 0))
            .where(Trial.enterprise_id.in_(enterprise_ids)).group_by(Trial.enterprise_id)):
        out[ent].trials, out[ent].adopted, out[ent].decisions = int(trials), int(adopted), int(decisions)
    for ent, granted, paid in db.session.execute(
            select(FundLedgerEntry.enterprise_id, *_ledger_columns())
            .where(FundLedgerEntry.enterprise_id.in_(enterprise_ids)).group_by(FundLedgerEntry.enterprise_id)):
        out[ent].granted, out[ent].paid = _yuan(granted), _yuan(paid)
    for ent, level in maturity_levels(enterprise_ids).items():
        if ent in out:
            out[ent].maturity = level
    return out


def _ledger_columns():
    """granted (reserve − release) and paid (pay − return), summed over the raw integer fen."""
    c = FundLedgerEntry.__table__.c
    fen = type_coerce(c.amount, BigInteger)  # the Money type would convert each row to yuan first
    granted = func.coalesce(func.sum(case((c.kind == "reserve", fen), (c.kind == "release", -fen), else_=0)), 0)
    return granted, func.coalesce(func.sum(paid_delta(c.kind, fen)), 0)


def _yuan(fen) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(ZERO)


def figures(park_id: int) -> ParkFigures:
    """The park's figures over its confirmed members."""
    members = confirmed_ids(park_id)
    count = db.session.scalar(select(func.count()).select_from(members.subquery())) or 0
    pending = db.session.scalar(select(func.count()).where(ParkMembership.park_id == park_id,
                                                           ParkMembership.status == "pending")) or 0
    applications: dict = {}
    filers = set()
    for kind, model in KINDS.items():
        applications[kind] = {s: int(n) for s, n in db.session.execute(
            select(model.status, func.count()).where(model.enterprise_id.in_(members)).group_by(model.status))}
        filers.update(db.session.scalars(select(model.enterprise_id).distinct()
                                         .where(model.enterprise_id.in_(members), model.status != "draft")))
    trials, adopted, decisions = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((Trial.adopted.is_(True), 1), else_=0)), 0),
               func.coalesce(func.sum(case((Trial.adopted.is_not(None), 1), else_=0)), 0))
        .where(Trial.enterprise_id.in_(members))).one()
    granted, paid = db.session.execute(select(*_ledger_columns())
                                       .where(FundLedgerEntry.enterprise_id.in_(members))).one()
    return ParkFigures(
        members=int(count), pending=int(pending), active=len(filers), applications=applications,
        filed={k: sum(n for s, n in v.items() if s != "draft") for k, v in applications.items()},
        approved={k: sum(n for s, n in v.items() if s in APPROVED_STATES) for k, v in applications.items()},
        trials=int(trials), adopted=int(adopted), decisions=int(decisions),
        granted=_yuan(granted), paid=_yuan(paid))


def status_labels() -> dict:
    """Every application status's words (the trial application's set covers the loan and robot ones)."""
    from voucher.applications.queries import STATUS_LABELS as APPLICATION_STATUS_LABELS

    return APPLICATION_STATUS_LABELS


def memberships_of(enterprise_id: int | None) -> list[ParkMembership]:
    """The enterprise's memberships, newest first (its own page shows a declined request's reason)."""
    if enterprise_id is None:
        return []
    return list(db.session.scalars(select(ParkMembership).where(ParkMembership.enterprise_id == enterprise_id)
                                   .order_by(ParkMembership.requested_at.desc(), ParkMembership.id.desc())
                                   .limit(20)))
