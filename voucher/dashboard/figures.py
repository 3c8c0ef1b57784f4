"""The dashboards' figures, read from the fund ledger and the records (never from stored totals).

Every function is a fixed number of grouped queries, whatever the size of the programme.  Money
is summed as the stored integer fen (exact on both backends) and converted once to ``Decimal``.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, and_, case, func, select, type_coerce

from voucher.applications.models import TrialApplication
from voucher.audit.models import AuditEvent
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.programmes.models import FundLedgerEntry, Programme, paid_delta, reserved_delta

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0.00")


def _fen(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def _raw(column):
    return type_coerce(column, BigInteger)


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def _programme_filter(stmt, column, programme_id: int | None):
    return stmt.where(column == programme_id) if programme_id else stmt


# --- fund use --------------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM (local time)
    reserved: Decimal
    released: Decimal
    paid: Decimal


def _local_month(column):
    """The local (Asia/Shanghai, UTC+8 all year: no daylight saving) calendar month of a UTC
    timestamp as 'YYYY-MM', computed in SQL so the ledger is grouped in the database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def fund_by_month(programme_id: int | None = None, months: int | None = None) -> list[MonthFigures]:
    """New reservations, releases and payments per local calendar month, oldest first, with every
    month between the first and the last entry (months without entries show zeros).

    One grouped query (month × kind): the ledger is never read row by row.
    """
    month = _local_month(FundLedgerEntry.created_at)
    stmt = select(month, FundLedgerEntry.kind, func.sum(_raw(FundLedgerEntry.amount))).group_by(
        month, FundLedgerEntry.kind)
    stmt = _programme_filter(stmt, FundLedgerEntry.programme_id, programme_id)
    sums: dict[str, dict[str, int]] = {}
    for key, kind, fen in db.session.execute(stmt):
        bucket = sums.setdefault(key, {"reserve": 0, "release": 0, "pay": 0})
        if kind in ("return", "recover"):  # a returned payment (退汇) or recovered money (追回) counts against the month's payments
            bucket["pay"] -= int(fen or 0)
        else:
            bucket[kind] += int(fen or 0)
    if not sums:
        return []
    first, last = min(sums), max(sums)
    out, (y, m) = [], map(int, first.split("-"))
    while f"{y:04d}-{m:02d}" <= last:
        key = f"{y:04d}-{m:02d}"
        b = sums.get(key, {"reserve": 0, "release": 0, "pay": 0})
        out.append(MonthFigures(key, _fen(b["reserve"]), _fen(b["release"]), _fen(b["pay"])))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out[-months:] if months else out


@dataclass(frozen=True)
class GroupFigures:
    code: str
    committed: Decimal  # reserved now + paid
    paid: Decimal

    @property
    def reserved(self) -> Decimal:
        return self.committed - self.paid


def _grouped(group_column, programme_id: int | None, join_enterprise: bool) -> list[GroupFigures]:
    fen = _raw(FundLedgerEntry.amount)
    committed = func.coalesce(func.sum(case((FundLedgerEntry.kind == "reserve", fen),
                                            (FundLedgerEntry.kind == "release", -fen), else_=0)), 0)
    paid = func.coalesce(func.sum(paid_delta(FundLedgerEntry.kind, fen)), 0)
    stmt = select(group_column, committed, paid)
    if join_enterprise:
        stmt = stmt.join(Enterprise, Enterprise.organisation_id == FundLedgerEntry.enterprise_id)
    stmt = _programme_filter(stmt, FundLedgerEntry.programme_id, programme_id).group_by(group_column)
    rows = [GroupFigures(code, _fen(c), _fen(p)) for code, c, p in db.session.execute(stmt)]
    rows = [r for r in rows if r.committed or r.paid]
    return sorted(rows, key=lambda r: (-r.committed, r.code))


def fund_by_district(programme_id: int | None = None) -> list[GroupFigures]:
    """Committed (reserved + paid) and paid per district of the enterprise (ledger ⋈ enterprise)."""
    return _grouped(Enterprise.district, programme_id, True)


def fund_by_industry(programme_id: int | None = None) -> list[GroupFigures]:
    """Committed and paid per industry of the enterprise (ledger ⋈ enterprise)."""
    return _grouped(Enterprise.industry, programme_id, True)


def fund_by_kind(programme_id: int | None = None) -> list[GroupFigures]:
    """Committed and paid per kind of support (trial voucher, loan discount, robot subsidy)."""
    return _grouped(FundLedgerEntry.funding_kind, programme_id, False)


def paid_between(start: date, end: date, programme_id: int | None = None, provider_id: int | None = None,
                 enterprise_id: int | None = None) -> Decimal:
    """Payments from the ledger with a local date in [start, end)."""
    lo = datetime(start.year, start.month, start.day, tzinfo=LOCAL_TZ)
    hi = datetime(end.year, end.month, end.day, tzinfo=LOCAL_TZ)
    stmt = select(func.coalesce(func.sum(paid_delta(FundLedgerEntry.kind, _raw(FundLedgerEntry.amount))), 0)).where(
        FundLedgerEntry.kind.in_(("pay", "return")), FundLedgerEntry.created_at >= lo, FundLedgerEntry.created_at < hi)
    stmt = _programme_filter(stmt, FundLedgerEntry.programme_id, programme_id)
    if provider_id is not None:
        stmt = stmt.where(FundLedgerEntry.provider_id == provider_id, FundLedgerEntry.funding_kind == "trial_voucher")
    if enterprise_id is not None:
        stmt = stmt.where(FundLedgerEntry.enterprise_id == enterprise_id)
    return _fen(db.session.scalar(stmt))


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def reserved_outstanding(programme_id: int | None = None, provider_id: int | None = None) -> Decimal:
    """What is reserved and not yet paid or released (all grants, or a provider's trial vouchers)."""
    fen = _raw(FundLedgerEntry.amount)
    stmt = select(func.coalesce(func.sum(reserved_delta(FundLedgerEntry.kind, fen)), 0))
    stmt = _programme_filter(stmt, FundLedgerEntry.programme_id, programme_id)
    if provider_id is not None:
        stmt = stmt.where(FundLedgerEntry.provider_id == provider_id, FundLedgerEntry.funding_kind == "trial_voucher")
    return _fen(db.session.scalar(stmt))


def payments_to_provider(provider_id: int, limit: int = 10) -> list[tuple]:
    """The latest trial-voucher payments to a provider: (time, amount, milestone, enterprise, solution)."""
    from voucher.catalogue.models import Solution
    from voucher.payments.models import Disbursement

    returned = select(Disbursement.id).where(Disbursement.ledger_entry_id == FundLedgerEntry.id,
                                             Disbursement.status == "returned").exists()
    stmt = (select(FundLedgerEntry.created_at, FundLedgerEntry.amount, FundLedgerEntry.milestone,
                   Organisation.name, Solution.title, TrialApplication.id)
            .join(Organisation, Organisation.id == FundLedgerEntry.enterprise_id)
            .join(TrialApplication, and_(FundLedgerEntry.source_type == "trial_application",
                                         TrialApplication.id == FundLedgerEntry.source_id))
            .join(Solution, Solution.id == TrialApplication.solution_id)
            .where(FundLedgerEntry.kind == "pay", FundLedgerEntry.provider_id == provider_id,
                   ~returned)  # a payment the bank returned (退汇) is not a payment to the provider
            .order_by(FundLedgerEntry.created_at.desc(), FundLedgerEntry.id.desc()).limit(limit))
    return list(db.session.execute(stmt).tuples())


# --- trials ----------------------------------------------------------------------------------

def trial_outcomes(programme_id: int | None = None, provider_id: int | None = None) -> dict[str, int]:
    """passed / failed (evaluated trials) and pending (started, not yet evaluated) and waiting
    (opened, kick-off not confirmed); a trial cancelled with its approval never ran and is left out."""
    from voucher.trials.models import Trial

    bucket = case((Trial.outcome == "passed", "passed"), (Trial.outcome == "failed", "failed"),
                  (Trial.status == "open", "waiting"), else_="pending")
    stmt = select(bucket, func.count()).where(Trial.status != "cancelled").group_by(bucket)
    stmt = _programme_filter(stmt, Trial.programme_id, programme_id)
    if provider_id is not None:
        stmt = stmt.where(Trial.provider_id == provider_id)
    counts = {"passed": 0, "failed": 0, "pending": 0, "waiting": 0}
    counts.update({k: int(n) for k, n in db.session.execute(stmt)})
    return counts


def adoption(programme_id: int | None = None, provider_id: int | None = None) -> dict:
    """Adoption decisions: adopted, not adopted, decisions still to record (evaluated trials), and
    the rate (adopted / decisions, percent to 0.1; None before the first decision)."""
    from voucher.trials.models import Trial

    stmt = select(func.coalesce(func.sum(case((Trial.adopted.is_(True), 1), else_=0)), 0),
                  func.coalesce(func.sum(case((Trial.adopted.is_(False), 1), else_=0)), 0),
                  func.coalesce(func.sum(case((Trial.status == "evaluated", 1), else_=0)), 0))
    stmt = _programme_filter(stmt, Trial.programme_id, programme_id)
    if provider_id is not None:
        stmt = stmt.where(Trial.provider_id == provider_id)
    adopted, declined, waiting = (int(v) for v in db.session.execute(stmt).one())
    decisions = adopted + declined
    rate = (Decimal(adopted) * 100 / decisions).quantize(Decimal("0.1")) if decisions else None
    return {"adopted": adopted, "declined": declined, "waiting": waiting, "rate": rate}


def overdue_trials(limit: int = 10, today: date | None = None, provider_id: int | None = None):
    """Running trials past their end date, the longest overdue first: (trial id, end date,
    enterprise, solution id, application number)."""
    from voucher.trials.models import Trial

    today = today or local_today()
    stmt = (select(Trial.id, Trial.end_date, Organisation.name, Trial.solution_id, TrialApplication.number)
            .join(Organisation, Organisation.id == Trial.enterprise_id)
            .join(TrialApplication, TrialApplication.id == Trial.application_id)
            .where(Trial.status == "running", Trial.end_date < today).order_by(Trial.end_date, Trial.id))
    if provider_id is not None:
        stmt = stmt.where(Trial.provider_id == provider_id)
    return list(db.session.execute(stmt.limit(limit)).tuples())


def trial_status_counts(provider_id: int | None = None, enterprise_id: int | None = None) -> dict[str, int]:
    from voucher.trials.models import Trial

    stmt = select(Trial.status, func.count()).group_by(Trial.status)
    if provider_id is not None:
        stmt = stmt.where(Trial.provider_id == provider_id)
    if enterprise_id is not None:
        stmt = stmt.where(Trial.enterprise_id == enterprise_id)
    return {s: int(n) for s, n in db.session.execute(stmt)}


# --- applications ----------------------------------------------------------------------------

def application_status_counts(programme_id: int | None = None) -> dict[str, int]:
    """Trial-voucher applications that reached the bureau (drafts are the enterprise's own), by status."""
    stmt = (select(TrialApplication.status, func.count()).where(TrialApplication.submitted_at.is_not(None))
            .group_by(TrialApplication.status))
    stmt = _programme_filter(stmt, TrialApplication.programme_id, programme_id)
    return {s: int(n) for s, n in db.session.execute(stmt)}


@dataclass(frozen=True)
class Waiting:
    """An application waiting for the bureau's review."""

    kind: str  # trial | loan | robot
    id: int
    enterprise: str
    amount: Decimal
    submitted_at: datetime
    number: str | None = None  # the application number (受理编号)


def _waiting_kinds():
    """(kind, model, amount column) of the three kinds of application the bureau reviews."""
    from voucher.subsidies.models import LoanApplication, RobotApplication

    return (("trial", TrialApplication, TrialApplication.requested_amount),
            ("loan", LoanApplication, LoanApplication.computed_discount),
            ("robot", RobotApplication, RobotApplication.computed_subsidy))


def waiting_for_review(limit: int | None = None) -> list[Waiting]:
    """Applications submitted and not yet decided (trial vouchers and both subsidies), the
    longest waiting first; with ``limit``, only the oldest ``limit`` (each kind's query is
    bounded by the index on (status, submitted_at), so the page never reads the whole queue)."""
    rows: list[Waiting] = []
    for kind, model, amount in _waiting_kinds():
        stmt = (select(model.id, Organisation.name, amount, model.submitted_at, model.number)
                .join(Organisation, Organisation.id == model.enterprise_id)
                .where(model.status == "submitted", model.submitted_at.is_not(None))
                .order_by(model.submitted_at, model.id))
        if limit:
            stmt = stmt.limit(limit)
        rows += [Waiting(kind, *r) for r in db.session.execute(stmt)]
    rows.sort(key=lambda r: (r.submitted_at, r.kind, r.id))
    return rows[:limit] if limit else rows


def waiting_counts(before: list[datetime]) -> tuple[int, list[int]]:
    """How many applications wait for review, and how many of them were submitted before each
    of the instants ``before``: per kind of application, a COUNT of the queue on its (status,
    submitted_at) index, and the count of the few submitted since the earliest instant, split by
    instant (so the CASE runs over recent rows only, not over every waiting application)."""
    total, since = 0, [0] * len(before)
    earliest = min(before) if before else None
    for _kind, model, _amount in _waiting_kinds():
        waiting = (model.status == "submitted", model.submitted_at.is_not(None))
        total += int(db.session.scalar(select(func.count()).select_from(model).where(*waiting)) or 0)
        if earliest is None:
            continue
        cols = [func.coalesce(func.sum(case((model.submitted_at >= t, 1), else_=0)), 0) for t in before]
        row = db.session.execute(select(*cols).where(*waiting, model.submitted_at >= earliest)).one()
        since = [n + int(v) for n, v in zip(since, row)]
    return total, [total - n for n in since]


def review_times(programme_id: int | None = None, limit: int = 500) -> list[tuple[datetime, datetime]]:
    """(submitted, decided) of the latest decided trial-voucher applications, for the mean review time."""
    stmt = (select(TrialApplication.submitted_at, TrialApplication.decided_at)
            .where(TrialApplication.submitted_at.is_not(None), TrialApplication.decided_at.is_not(None))
            .order_by(TrialApplication.decided_at.desc()).limit(limit))
    stmt = _programme_filter(stmt, TrialApplication.programme_id, programme_id)
    return list(db.session.execute(stmt).tuples())


# --- audit -----------------------------------------------------------------------------------

# Actions an auditor watches: parameter changes, refusals, account changes, revocations, rescoring.
SENSITIVE_ACTIONS = (
    "programme.parameters_changed", "trial_application.reject", "trial_application.cancel",
    "loan_application.reject", "robot_application.reject", "disbursement.reject", "disbursement.void_approval",
    "payment_batch.cancel", "notice_objection.uphold", "user.deactivated", "user.password_reset", "user.updated",
    "document.revoked", "api_token.revoked", "trial.rescore", "evaluator_assignment.correct",
    "evaluator_assignment.remove", "solution.delist", "solution.reject",
)


def sensitive_events(limit: int = 10) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(SENSITIVE_ACTIONS))
                                   .order_by(AuditEvent.id.desc()).limit(limit)))


def user_counts() -> dict:
    from voucher.auth.models import User

    rows = db.session.execute(select(User.role, User.active, func.count()).group_by(User.role, User.active))
    out: dict = {"by_role": OrderedDict(), "inactive": 0, "total": 0}
    for role, active, n in rows:
        out["by_role"][role] = out["by_role"].get(role, 0) + int(n)
        out["total"] += int(n)
        if not active:
            out["inactive"] += int(n)
    return out


def programme_choices() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Programme.id, Programme.name)
                                   .order_by(Programme.year.desc(), Programme.id.desc())).tuples())
