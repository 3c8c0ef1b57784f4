"""What the application pages read: the officer's queue, the SME's list, one application's file.

Lists load their rows with joins (enterprise, its profile, solution, provider) in one query
plus the page count, whatever the page size: no N+1.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from voucher.applications.models import APPLICATION_STATES, TrialApplication
from voucher.applications.services import CATALOGUE_STATES, Quota, approval_parameters, attachments, quota
from voucher.appnumbers import number_filter
from voucher.audit.queries import events_for
from voucher.catalogue.models import Solution
from voucher.db import contains_text
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.pagination import seek_or_offset
from voucher.programmes import services as ledger
from voucher.programmes.models import Programme

# Plain statuses: what the state means to a person, never the internal code.
STATUS_LABELS = {
    "draft": _l("Draft (not sent yet)"),
    "submitted": _l("Waiting for the bureau's review"),
    "approved": _l("Approved"),
    "rejected": _l("Not approved"),
    "returned": _l("Returned: please revise"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Approval cancelled"),
    "trial_running": _l("Trial running"),
    "trial_completed": _l("Trial completed"),
    "evaluated": _l("Evaluated"),
    "closed": _l("Closed"),
}

STATUS_BADGES = {
    "draft": "secondary", "submitted": "info", "approved": "success", "rejected": "danger",
    "returned": "warning", "withdrawn": "secondary", "cancelled": "dark", "trial_running": "primary",
    "trial_completed": "primary", "evaluated": "success", "closed": "secondary",
}

# The applicant's next step in each state.
SME_NEXT_STEP = {
    "draft": _l("Check the details, attach your documents and submit it to the bureau."),
    "submitted": _l("Waiting for the bureau's review. Nothing to do for now."),
    "returned": _l("Returned: please revise. Read the bureau's comment, correct the application and submit it again."),
    "approved": _l("Approved: the trial starts when the provider kicks it off."),
    "rejected": _l("Not approved; the reason is shown on the application. You may apply again."),
    "withdrawn": _l("You withdrew this application. Nothing more to do."),
    "cancelled": _l("The approval was cancelled and the reserved amount went back to the fund."),
    "trial_running": _l("Trial running: confirm the provider's milestones."),
    "trial_completed": _l("Trial completed: waiting for the effect evaluation."),
    "evaluated": _l("Evaluated: record whether you will keep using the solution."),
    "closed": _l("Closed. Nothing more to do."),
}

# The bureau's next step in each state.
OFFICER_NEXT_STEP = {
    "draft": _l("The enterprise has not submitted it yet."),
    "submitted": _l("Review it: approve, return for revision, or reject."),
    "returned": _l("Waiting for the enterprise to revise and resubmit."),
    "approved": _l("Approved; the amount is reserved. Waiting for the trial to start."),
    "rejected": _l("Rejected. Nothing more to do."),
    "withdrawn": _l("Withdrawn by the enterprise. Nothing more to do."),
    "cancelled": _l("Cancelled; the reservation was released."),
    "trial_running": _l("Trial running."),
    "trial_completed": _l("Trial completed: assign evaluators."),
    "evaluated": _l("Evaluated."),
    "closed": _l("Closed."),
}

TIMELINE_LABELS = {
    "trial_application.create": _l("Application created as a draft"),
    "trial_application.update": _l("Application edited"),
    "trial_application.attach": _l("Document attached"),
    "trial_application.detach": _l("Document removed"),
    "trial_application.submit": _l("Submitted to the bureau"),
    "trial_application.resume": _l("Reopened for revision"),
    "trial_application.approve": _l("Approved; the amount was reserved in the fund"),
    "trial_application.reject": _l("Not approved"),
    "trial_application.return": _l("Returned for revision"),
    "trial_application.withdraw": _l("Withdrawn by the enterprise"),
    "trial_application.cancel": _l("Approval cancelled; the reservation was released"),
    "trial_application.start_trial": _l("Trial started: the enterprise confirmed the kick-off"),
    "trial_application.complete_trial": _l("Trial completed: the enterprise confirmed the final report"),
    "trial_application.record_evaluation": _l("Effect evaluation recorded"),
    "trial_application.close": _l("Closed: the enterprise recorded its adoption decision"),
}

SORTS = {
    "submitted_desc": _l("Newest submissions first"),
    "submitted_asc": _l("Oldest submissions first"),
    "amount_desc": _l("Largest amount first"),
    "amount_asc": _l("Smallest amount first"),
}

# Statuses the officer's queue can filter on (drafts never reach the bureau).
QUEUE_STATUSES = tuple(s for s in APPLICATION_STATES if s != "draft")


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = "submitted"
    district: str | None = None
    industry: str | None = None
    solution_id: int | None = None
    q: str | None = None
    sort: str = "submitted_desc"
    solution: str | None = None  # part of the solution's name (the filter is a text field, not a 1,000-option list)


def _queue_conditions(filters: QueueFilters, ent_org, prov_org) -> tuple[list, set[str]]:
    """The WHERE clauses of a queue filter and the joined tables they need."""
    app = TrialApplication
    where, needs = [app.submitted_at.is_not(None)], set()
    if filters.status:
        where.append(app.status == filters.status)
    if filters.district:
        where.append(Enterprise.district == filters.district)
        needs.add("enterprise")
    if filters.industry:
        where.append(Enterprise.industry == filters.industry)
        needs.add("enterprise")
    if filters.solution_id:
        where.append(app.solution_id == filters.solution_id)
    if filters.solution:
        where.append(contains_text(Solution.title, filters.solution))
        needs.add("solution")
    if filters.q:
        q = filters.q
        by_number = number_filter(app, q)
        where.append(or_(contains_text(ent_org.name, q), contains_text(ent_org.uscc, q), contains_text(Solution.title, q),
                         *([by_number] if by_number is not None else [])))
        needs |= {"ent_org", "solution"}
    return where, needs


def review_page(filters: QueueFilters, page: int, per_page: int, cursor: str | None = None, *, seek: bool = True):
    """One page of applications that reached the bureau, with enterprise, profile, solution and
    provider loaded in the same query; the total is counted joining only what the filter needs
    (every application has its enterprise, profile, solution and provider: inner joins there
    never change the count).  Keyset-paged (``cursor``; see :func:`voucher.pagination.seek_or_offset`):
    the sort's column and the id, after the status on one index."""
    ent_org = aliased(Organisation, name="ent_org")
    prov_org = aliased(Organisation, name="prov_org")
    app = TrialApplication
    where, needs = _queue_conditions(filters, ent_org, prov_org)
    stmt = (select(app)
            .join(ent_org, app.enterprise)
            .join(Enterprise, Enterprise.organisation_id == app.enterprise_id)
            .join(Solution, app.solution)
            .join(prov_org, app.provider)
            .options(contains_eager(app.enterprise.of_type(ent_org)).contains_eager(ent_org.enterprise),
                     contains_eager(app.solution.of_type(Solution)),
                     contains_eager(app.provider.of_type(prov_org)))
            .where(*where))
    keys, descending = _queue_keys(filters.sort)
    count = select(app.id).select_from(app)
    if "ent_org" in needs:
        count = count.join(ent_org, ent_org.id == app.enterprise_id)
    if "enterprise" in needs:
        count = count.join(Enterprise, Enterprise.organisation_id == app.enterprise_id)
    if "solution" in needs:
        count = count.join(Solution, Solution.id == app.solution_id)
    sort = filters.sort if filters.sort in SORTS else "submitted_desc"
    return seek_or_offset(stmt, keys, list_name=f"trial-queue:{sort}", cursor=cursor, page=page, per_page=per_page,
                          descending=descending, count_stmt=count.where(*where), seek=seek)


def _queue_keys(sort: str | None):
    """The queue's sort keys (unique: the id last) and direction; an index per status serves each."""
    app = TrialApplication
    return {
        "submitted_desc": ((app.submitted_at, app.id), True),
        "submitted_asc": ((app.submitted_at, app.id), False),
        "amount_desc": ((app.requested_amount, app.id), True),
        "amount_asc": ((app.requested_amount, app.id), False),
    }.get(sort) or ((app.submitted_at, app.id), True)


def waiting_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TrialApplication)
                             .where(TrialApplication.status == "submitted")) or 0


def solution_title(solution_id: int | None) -> str | None:
    """The title of the solution a queue link filters on (shown beside the filter), or None."""
    if not solution_id:
        return None
    return db.session.scalar(select(Solution.title).where(Solution.id == solution_id))


def my_page(enterprise_id: int, page: int, per_page: int, status: str | None = None, cursor: str | None = None, *,
            seek: bool = True):
    """The enterprise's applications, newest first, with solution and provider loaded; keyset-paged on
    (created_at, id) after the enterprise (index ``ix_trial_application_enterprise_created``)."""
    app = TrialApplication
    prov_org = aliased(Organisation, name="prov_org")
    stmt = (select(app).join(Solution, app.solution).join(prov_org, app.provider)
            .options(contains_eager(app.solution.of_type(Solution)), contains_eager(app.provider.of_type(prov_org)))
            .where(app.enterprise_id == enterprise_id))
    count = select(app.id).where(app.enterprise_id == enterprise_id)
    if status:
        stmt = stmt.where(app.status == status)
        count = count.where(app.status == status)
    return seek_or_offset(stmt, (app.created_at, app.id), list_name="trial-mine", cursor=cursor, page=page,
                          per_page=per_page, count_stmt=count, seek=seek)


def needing_action_count(enterprise_id: int) -> int:
    """Drafts not yet sent and applications returned for revision."""
    return db.session.scalar(select(func.count()).select_from(TrialApplication)
                             .where(TrialApplication.enterprise_id == enterprise_id,
                                    TrialApplication.status.in_(("draft", "returned")))) or 0


def catalogue_page(q: str | None, page: int, per_page: int):
    """Listed and recommended solutions an SME may pick, searchable by title, category or provider."""
    prov_org = aliased(Organisation, name="prov_org")
    stmt = (select(Solution).join(prov_org, Solution.provider)
            .options(contains_eager(Solution.provider.of_type(prov_org)))
            .where(Solution.status.in_(CATALOGUE_STATES)))
    if q:
        stmt = stmt.where(or_(contains_text(Solution.title, q), contains_text(Solution.description, q),
                              contains_text(prov_org.name, q)))
    return db.paginate(stmt.order_by(Solution.status.desc(), Solution.title, Solution.id), page=page,
                       per_page=per_page, error_out=False)


@dataclass(frozen=True)
class ApplicationFile:
    """Everything the application page shows, read once."""

    application: TrialApplication
    programme: Programme
    enterprise: Organisation
    profile: Enterprise | None
    solution: Solution
    provider: Organisation
    quota: Quota
    balances: ledger.FundBalances
    provider_committed: Decimal
    provider_cap: Decimal  # of the approval's rule version (before approval: the version in force today)
    reserved_for_it: Decimal
    attachments: list
    events: list


def application_file(application: TrialApplication) -> ApplicationFile:
    programme = application.programme
    return ApplicationFile(
        application=application, programme=programme, enterprise=application.enterprise,
        profile=application.enterprise.enterprise, solution=application.solution, provider=application.provider,
        quota=quota(programme, application.enterprise_id), balances=ledger.balances(programme),
        provider_committed=ledger.provider_committed(programme.id, application.provider_id),
        provider_cap=approval_parameters(application)["provider_cap"],
        reserved_for_it=ledger.source_outstanding("trial_application", application.id),
        attachments=attachments(application.id), events=events_for("trial_application", application.id))
