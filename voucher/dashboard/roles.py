"""What each role's dashboard shows, assembled from the figures, the charts and the other
domains' read functions.  Read-only: nothing here changes state."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.audit.services import Actor
from voucher.dashboard import charts, figures
from voucher.deadlines import LOCAL_TZ, latest_overdue_start, local_date, local_today, review_deadline, waited
from voucher.extensions import db
from voucher.figures_cache import cached_figure
from voucher.workdays import CalendarUnknown, working_days_between

ZERO = Decimal("0.00")

KIND_LABELS = {"trial": _l("Trial voucher"), "loan": _l("Loan interest discount"), "robot": _l("Robot purchase subsidy")}
DETAIL_ENDPOINTS = {"trial": ("applications.detail", "application_id"), "loan": ("subsidies.loan_detail", "application_id"),
                    "robot": ("subsidies.robot_detail", "application_id")}

SENSITIVE_LABELS = {
    "programme.parameters_changed": _l("Programme parameters changed"),
    "trial_application.reject": _l("Trial-voucher application rejected"),
    "trial_application.cancel": _l("Trial-voucher approval cancelled"),
    "loan_application.reject": _l("Loan-discount application rejected"),
    "robot_application.reject": _l("Robot-subsidy application rejected"),
    "disbursement.reject": _l("Disbursement rejected"),
    "disbursement.void_approval": _l("Disbursement approval voided"),
    "payment_batch.cancel": _l("Payment batch cancelled"),
    "notice_objection.uphold": _l("Objection to a public notice upheld"),
    "user.deactivated": _l("User account deactivated"),
    "user.password_reset": _l("Password reset by an administrator"),
    "user.updated": _l("User account changed (role or organisation)"),
    "document.revoked": _l("Document revoked"),
    "api_token.revoked": _l("API token revoked"),
    "trial.rescore": _l("Trial score changed after a correction"),
    "evaluator_assignment.correct": _l("Evaluation form corrected"),
    "evaluator_assignment.remove": _l("Evaluator removed from a trial"),
    "solution.delist": _l("Solution delisted"),
    "solution.reject": _l("Solution not listed after screening"),
}


@dataclass(frozen=True)
class WaitingRow:
    item: figures.Waiting
    deadline: object
    waited: int | None


def _current_programme():
    from voucher.applications.services import current_programme
    from voucher.dashboard.queries import shared

    return shared(("current_programme",), current_programme)


def _balances(programme):
    from voucher.programmes.services import balances

    return balances(programme) if programme is not None else None


def waiting_rows(limit: int = 6) -> list[WaitingRow]:
    """The ``limit`` most urgent applications waiting for review, with their deadlines.

    A review deadline is a fixed number of working days after the submission day, so the most
    urgent are the oldest: only the oldest ``limit`` rows are read and given a deadline (then
    ordered as the queue orders them, a deadline the calendar does not know last)."""
    today = local_today()
    rows = [WaitingRow(w, review_deadline(w.submitted_at, today), waited(w.submitted_at, today))
            for w in cached_figure("waiting_for_review", (limit,), lambda: figures.waiting_for_review(limit=limit))]
    rows.sort(key=lambda r: (r.deadline.sort_key, r.item.submitted_at))
    return rows


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)


def _overdue_before(today: date, days: int) -> datetime | None:
    """The instant before which every waiting application is past its review deadline (the local
    midnight after :func:`voucher.deadlines.latest_overdue_start`); None when no recent day has a
    known, passed deadline (a calendar year nobody knows)."""
    last = latest_overdue_start(today, days)
    return _local_midnight(last + timedelta(days=1)) if last is not None else None


AGE_EDGES = (2, 5, 10)  # the queue-age chart's buckets: 0–2, 3–5, 6–10, more than 10 working days


def _age_edges(today: date) -> tuple[dict[int, date | None], date | None]:
    """For each bucket edge k, the earliest local day that has waited at most k working days;
    and the first day the calendar knows (older days have an unknown wait and are left out, as
    a row-by-row count leaves them out).  Walks back from today a few weeks, day by day."""
    edges: dict[int, date | None] = {}
    floor, day = None, today
    for _day in range(400):
        try:
            w = working_days_between(day, today)
        except CalendarUnknown:
            floor = day + timedelta(days=1)
            break
        if w > AGE_EDGES[-1]:
            break
        for k in AGE_EDGES:
            if w <= k:
                edges[k] = day
        day -= timedelta(days=1)
    return {k: edges.get(k, floor) for k in AGE_EDGES}, floor


def waiting_summary(today: date | None = None) -> dict:
    """The review queue's size, how many are past their review deadline, and how long they have
    waited (the queue-age buckets), from counting queries: no application is read one by one."""
    from flask import current_app

    today = today or local_today()
    overdue_at = _overdue_before(today, int(current_app.config["REVIEW_DEADLINE_WORKING_DAYS"]))
    edges, floor = _age_edges(today)
    instants = [_local_midnight(edges[k]) for k in AGE_EDGES]
    extra = [t for t in (overdue_at, _local_midnight(floor) if floor else None) if t is not None]
    total, below = figures.waiting_counts(instants + extra)
    b2, b5, b10 = below[:3]
    rest = below[3:]
    overdue = rest.pop(0) if overdue_at is not None else 0
    known_below = rest.pop(0) if floor else 0
    return {"total": total, "overdue": overdue,
            "ages": [total - b2, b2 - b5, b5 - b10, b10 - known_below]}


def mean_review_days(programme_id: int | None) -> Decimal | None:
    """Mean working days from submission to decision over the latest decided applications."""
    memo: dict = {}  # many of the 500 share their (submission day, decision day): count each pair once
    spans = []
    for submitted, decided in figures.review_times(programme_id):
        key = (local_date(submitted), local_date(decided))
        if key not in memo:
            memo[key] = waited(*key)
        if memo[key] is not None:
            spans.append(memo[key])
    if not spans:
        return None
    return (Decimal(sum(spans)) / len(spans)).quantize(Decimal("0.1"))


def officer(actor: Actor) -> dict:
    from voucher.applications.queries import STATUS_LABELS

    programme = _current_programme()
    pid = programme.id if programme else None
    summary = cached_figure("waiting_summary", (), waiting_summary)
    overdue = figures.overdue_trials(limit=100)
    return {
        "programme": programme, "balances": _balances(programme),
        "waiting": waiting_rows(6), "waiting_total": summary["total"],
        "review_overdue": summary["overdue"],
        "overdue_trials": overdue[:6], "overdue_total": len(overdue), "solution_titles": _titles(t[3] for t in overdue[:6]),
        "mean_review": cached_figure("mean_review_days", (pid,), lambda: mean_review_days(pid)),
        "charts": [charts.application_statuses(pid, STATUS_LABELS), charts.queue_age(summary["ages"], summary["total"]),
                   charts.fund_over_time(pid), charts.trial_outcomes(pid)],
    }


def _titles(solution_ids) -> dict[int, str]:
    from sqlalchemy import select

    from voucher.catalogue.models import Solution

    ids = list(set(solution_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(Solution.id, Solution.title).where(Solution.id.in_(ids))).all())


def _payable_item(p, today: date) -> dict:
    return {"label": p.payee_name, "enterprise": p.enterprise_name, "amount": p.amount, "milestone": p.milestone,
            "kind": p.funding_kind, "hold": p.hold_text if p.hold else None, "deadline": p.deadline(today),
            "source": (p.source_type, p.source_id)}


def payable_overview(limit: int, payee_id: int | None = None) -> tuple[list[dict], object]:
    """The ``limit`` most urgent payable items (with their deadlines) and the figures over all of
    them (``payments.queries.PayableSummary``), from one SQL statement shared by the start page's
    cards: no payable item beyond those shown is read."""
    from voucher.dashboard.queries import shared
    from voucher.payments.queries import payable_overview as overview

    today = local_today()
    n = max(limit, 8)
    shown, summary = shared(("payable_overview", today, payee_id, n),
                            lambda: cached_figure("payable_overview", (today, payee_id, n),
                                                  lambda: _without_bank_details(overview(n, today, payee_id))))
    return [_payable_item(p, today) for p in shown[:limit]], summary


def _without_bank_details(overview: tuple) -> tuple:
    """The overview as the start page shows it: the payee's account and bank are not kept in the cache."""
    from dataclasses import replace

    shown, summary = overview
    return [replace(p, bank_name=None, bank_account=None, bank_code=None) for p in shown], summary


def _payment_counts() -> dict:
    try:
        from voucher.payments.models import Disbursement, PaymentBatch
    except ImportError:  # pragma: no cover
        return {}
    from sqlalchemy import func, select

    prepared = db.session.scalar(select(func.count()).select_from(Disbursement)
                                 .where(Disbursement.status == "prepared")) or 0
    approved = db.session.scalar(select(func.count()).select_from(Disbursement)
                                 .where(Disbursement.status == "approved")) or 0
    batches = db.session.scalar(select(func.count()).select_from(PaymentBatch)
                                .where(PaymentBatch.status == "confirmed")) or 0
    return {"prepared": prepared, "approved": approved, "open_batches": batches}


def _paid_between(start: date, end: date):
    return cached_figure("paid_between", (start, end), lambda: figures.paid_between(start, end))


def finance(actor: Actor) -> dict:
    programme = _current_programme()
    pid = programme.id if programme else None
    today = local_today()
    shown, summary = payable_overview(8)
    return {
        "programme": programme, "balances": _balances(programme),
        "payables": shown, "payable_total": summary.total, "payable_ready": summary.ready,
        "payable_amount": summary.ready_amount, "payment_overdue": summary.overdue,
        # Sums over the ledger and counts over the disbursements grow with them: kept with the other
        # start-page figures until the next recorded change (voucher.figures_cache).
        "paid_month": _paid_between(figures.month_start(today), figures.next_month(today)),
        "paid_year": _paid_between(today.replace(month=1, day=1), today.replace(year=today.year + 1, month=1, day=1)),
        "reserved": cached_figure("reserved_outstanding", (), figures.reserved_outstanding),
        "payments": cached_figure("payment_counts", (), _payment_counts),
        "charts": [charts.fund_over_time(pid), charts.fund_by_kind(pid)],
    }


def sme(actor: Actor) -> dict:
    from sqlalchemy import select

    from voucher.applications import queries as app_queries
    from voucher.applications import services as app_services
    from voucher.applications.models import TrialApplication

    org_id = actor.organisation_id
    if org_id is None:
        return {}
    from sqlalchemy.orm import joinedload

    from voucher.dashboard.queries import shared

    programme = _current_programme()
    quota = (shared(("quota", programme.id, org_id), lambda: app_services.quota(programme, org_id))
             if programme else None)
    recent = list(db.session.scalars(select(TrialApplication).where(TrialApplication.enterprise_id == org_id)
                                     .options(joinedload(TrialApplication.solution))
                                     .order_by(TrialApplication.updated_at.desc(), TrialApplication.id.desc()).limit(6)))
    returned = [a for a in recent if a.status == "returned"]
    from voucher.trials.queries import sme_counts

    counts = shared(("sme_counts", org_id), lambda: sme_counts(org_id))
    if returned:
        step = (_("An application was returned for revision: read the bureau's comment, revise it and submit it again."),
                ("applications.detail", {"application_id": returned[0].id}), _("Revise the application"))
    elif counts["to_confirm"]:
        step = (_("The provider reported a milestone: confirm it or dispute it with a reason."), ("trials.mine", {}),
                _("My trials"))
    elif counts["adoption"]:
        step = (_("Record whether your enterprise will pay to keep using the solution, and why."), ("trials.mine", {}),
                _("My trials"))
    elif any(a.status == "draft" for a in recent):
        draft = next(a for a in recent if a.status == "draft")
        step = (_("A draft application is not sent yet: check it, attach your documents and submit it."),
                ("applications.detail", {"application_id": draft.id}), _("Open the draft"))
    else:
        step = (_("Choose a solution from the catalogue and apply for a trial voucher."),
                ("applications.new_application", {}), _("Apply for a trial voucher"))
    percent = None
    if quota is not None and quota.cap:
        percent = int(min(quota.used / quota.cap * 100, Decimal(100)))
    return {"programme": programme, "quota": quota, "quota_percent": percent, "recent": recent,
            "status_labels": app_queries.STATUS_LABELS, "status_badges": app_queries.STATUS_BADGES,
            "next_steps": app_queries.SME_NEXT_STEP, "next_step": step}


def provider(actor: Actor) -> dict:
    from voucher.trials import queries as trial_queries

    org_id = actor.organisation_id
    if org_id is None:
        return {}
    today = local_today()
    page = trial_queries.my_trials_page(provider_id=org_id, page=1, per_page=6)
    return {
        "trials": page.items, "trials_total": page.total, "trial_labels": trial_queries.STATUS_LABELS,
        "trial_badges": trial_queries.STATUS_BADGES,
        "payments": figures.payments_to_provider(org_id, limit=6),
        "paid_year": figures.paid_between(today.replace(month=1, day=1),
                                          today.replace(year=today.year + 1, month=1, day=1), provider_id=org_id),
        "reserved": figures.reserved_outstanding(provider_id=org_id),
        "payable_count": payable_overview(0, payee_id=org_id)[1].total,
        "milestone_labels": {"advance": _l("Advance"), "balance": _l("Balance"), "full": _l("Full amount")},
        "charts": [charts.provider_trials(org_id, trial_queries.STATUS_LABELS),
                   charts.trial_outcomes(provider_id=org_id), charts.adoption(provider_id=org_id)],
    }


def auditor(actor: Actor) -> dict:
    from voucher.dashboard.chain import chain_status

    programme = _current_programme()
    pid = programme.id if programme else None
    return {"chain": chain_status(), "sensitive": figures.sensitive_events(12), "sensitive_labels": SENSITIVE_LABELS,
            "charts": [charts.fund_over_time(pid), charts.trial_outcomes(pid)]}


def admin(actor: Actor) -> dict:
    from sqlalchemy import select

    from voucher.audit.models import AuditEvent

    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "user",
                                                              AuditEvent.action.in_(("user.created", "user.updated",
                                                                                     "user.deactivated",
                                                                                     "user.activated",
                                                                                     "user.password_reset")))
                                     .order_by(AuditEvent.id.desc()).limit(8)))
    return {"users": figures.user_counts(), "user_events": events}


def evaluator(actor: Actor) -> dict:
    from voucher.trials import queries as trial_queries

    page = trial_queries.evaluator_page(actor.user_id, 1, 6)
    return {"assignments": page.items, "assignment_labels": trial_queries.ASSIGNMENT_STATUS_LABELS}


BUILDERS = {"officer": officer, "finance": finance, "sme": sme, "provider": provider, "auditor": auditor,
            "admin": admin, "evaluator": evaluator}


def statistics(programme_id: int | None) -> list:
    from voucher.applications.queries import STATUS_LABELS

    return [charts.fund_over_time(programme_id), charts.fund_by_kind(programme_id),
            charts.fund_by_district(programme_id), charts.fund_by_industry(programme_id),
            charts.trial_outcomes(programme_id), charts.adoption(programme_id),
            charts.application_statuses(programme_id, STATUS_LABELS)]
