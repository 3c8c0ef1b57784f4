"""Trial-voucher applications: the rules and every state change.

Plain arguments and an :class:`Actor` in, domain exceptions out; services only flush (the
request commits).  The rules (domain section 2):

* only an SME user of a registered small/medium/micro enterprise files, edits, submits or
  withdraws, and only its own enterprise's applications; a provider never does (403);
* the solution is listed or recommended; the amount is at most its trial price, and the
  enterprise's quota use in the programme (reserved + paid, from the fund ledger) plus the
  amount is at most the programme's cap per enterprise (200,000 by default);
* the programme funds trial vouchers and is open on the submission date;
* the declared contract and trial start dates are not before the submission date;
* approval re-checks everything under the programme's row lock through
  :func:`voucher.programmes.services.reserve` (budget and caps), so the fund is never
  over-committed; cancelling an approval releases its reservation;
* submitting is refused while a required material of the checklist (``voucher.materials``) has no
  file, naming every missing one;
* the same form token submitted twice (double click, retried POST) yields one application.

Lock order, for every writer here: the application row, then the programme row (inside the
ledger functions), then the audit chain.  Keeping one order means concurrent approvals queue
instead of deadlocking.

Over 600 lines, on purpose: the trial application's one state machine and every rule that
guards its transitions (cap, programme window, materials, decisions, withdrawal) read as one
sequence; the materials and the trial that follows an approval already live elsewhere
(``voucher.materials``, the trials' transition listener).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.access import require
from voucher.applications.models import (
    APPLICATION_STATES,
    BASELINE_MAX,
    EDITABLE_STATES,
    INDICATOR_CODES,
    PERCENT_MAX,
    TrialApplication,
    baseline_column,
    indicator_max,
)
from voucher.audit.services import Actor, record_event
from voucher.catalogue.models import Solution
from voucher.db import utcnow
from voucher.documents.models import StoredFile
from voucher.enterprises.models import Enterprise
from voucher.errors import N_, DomainError, Forbidden, NotFound, OverCap, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.materials import (
    attach_files,
    attached_file,
    by_material,
    checklist_for,
    detach_file,
    ensure_complete,
    files_of,
    missing_required,
)
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role
from voucher.programmes import services as ledger
from voucher.programmes.models import Programme
from voucher.workflow import StateMachine, transition

SOURCE_TYPE = "trial_application"
FUNDING_KIND = "trial_voucher"
CATALOGUE_STATES = ("listed", "recommended")
ZERO = Decimal("0.00")
NEED_MAX = 4000
REASON_MAX = 2000
LOCAL_TZ = "Asia/Shanghai"



MACHINE = StateMachine("trial_application", APPLICATION_STATES, (
    transition("submit", ("draft", "returned"), "submitted", "sme"),
    transition("approve", "submitted", "approved", "officer"),
    transition("reject", "submitted", "rejected", "officer", requires_reason=True),
    transition("return", "submitted", "returned", "officer", requires_reason=True),
    # Editing a returned application brings it back to draft (the SME resumes work on it).
    transition("resume", "returned", "draft", "sme"),
    transition("withdraw", ("draft", "submitted", "returned"), "withdrawn", "sme"),
    transition("cancel", "approved", "cancelled", "officer", requires_reason=True),
    # The trial's course (the trials module moves the application along these; declared here so
    # the whole machine is in one place and does not depend on which module was imported first).
    transition("start_trial", "approved", "trial_running", "sme"),
    transition("complete_trial", "trial_running", "trial_completed", "sme"),
    transition("record_evaluation", "trial_completed", "evaluated", ("evaluator", "officer")),
    transition("close", "evaluated", "closed", "sme"),
))

# A percentage figure's message, before or after the trial (its limit is its own, not the shared ``max``).
PERCENT_FIGURE_MESSAGE = N_("A percentage is a number from 0 to 100 with at most two decimals.")


def local_today(tz: str = LOCAL_TZ) -> date:
    """The calendar date in the programme's city: submission dates are local dates."""
    return datetime.now(ZoneInfo(tz)).date()


def application_link(application_id: int) -> str:
    """The application page's path, for notifications (services build no URLs from a request)."""
    return f"/applications/{application_id}"


@dataclass(frozen=True)
class Quota:
    """An enterprise's trial-voucher quota in one programme (used = reserved + paid in the ledger)."""

    cap: Decimal
    used: Decimal

    @property
    def remaining(self) -> Decimal:
        return max(self.cap - self.used, ZERO)


@dataclass
class Content:
    """What the SME writes on the form (everything but the programme and the solution)."""

    requested_amount: Decimal | None
    need_statement: str
    contract_date: date | None
    trial_start_date: date | None
    baselines: dict[str, Decimal | None]


# --- reading --------------------------------------------------------------------------------

def quota(programme: Programme, enterprise_id: int, day: date | None = None) -> Quota:
    """The quota under the rule version in force on ``day`` (today by default)."""
    _version, parameters = ledger.parameters_on(programme.id, day or local_today())
    return Quota(parameters["trial_cap_per_enterprise"],
                 ledger.enterprise_committed(programme.id, enterprise_id, FUNDING_KIND))


def approval_parameters(application: TrialApplication) -> dict:
    """The rule parameters of an application's approval: its stored rule version's; without one (not
    yet approved), the version in force today."""
    if application.rule_version_id is not None:
        return ledger.parse_parameters(ledger.get_version(application.rule_version_id).parameters)
    return ledger.parameters_on(application.programme_id, local_today())[1]


def open_programmes(day: date | None = None) -> list[Programme]:
    """Programmes that fund trial vouchers and accept applications on ``day`` (newest first)."""
    day = day or local_today()
    return list(db.session.scalars(
        select(Programme).where(Programme.funds_trial_voucher.is_(True), Programme.opens_on <= day,
                                Programme.closes_on >= day).order_by(Programme.opens_on.desc(), Programme.id.desc())))


def current_programme(day: date | None = None) -> Programme | None:
    """The programme an SME's quota is shown for: the newest open one, else the newest that funds trials."""
    day = day or local_today()
    found = open_programmes(day)
    if found:
        return found[0]
    return db.session.scalar(select(Programme).where(Programme.funds_trial_voucher.is_(True), Programme.opens_on <= day)
                             .order_by(Programme.opens_on.desc(), Programme.id.desc()).limit(1))


def get_programme_or_none(programme_id: int | None) -> Programme | None:
    return db.session.get(Programme, programme_id) if programme_id else None


def get_application(actor: Actor, application_id: int) -> TrialApplication:
    """The application, if the actor may see it.

    Rule: the enterprise's own users and the bureau's readers (officer, finance, auditor) see
    it; anyone else gets 403.
    """
    application = db.session.get(TrialApplication, application_id)
    if application is None:
        raise NotFound("No such application.")
    require(actor, "applications.read", application, message="You may not see this.")
    return application


def _locked(application_id: int) -> TrialApplication:
    """The application row under a lock for the rest of the transaction, read fresh."""
    application = db.session.scalar(select(TrialApplication).where(TrialApplication.id == application_id)
                                     .with_for_update().execution_options(populate_existing=True))
    if application is None:
        raise NotFound("No such application.")
    return application


def own_enterprise(actor: Actor) -> Enterprise:
    """The SME profile the actor applies for.

    Rule: only SME users file applications (a provider or bureau user gets 403); the
    enterprise must have registered its profile and be small, medium or micro.
    """
    require(actor, "applications.file", message="Only enterprise (SME) users may file, change or submit a trial-voucher application.")
    enterprise = db.session.get(Enterprise, actor.organisation_id) if actor.organisation_id else None
    if enterprise is None or enterprise.organisation.kind != "enterprise":
        raise ValidationFailed("Register your enterprise's profile before applying for a trial voucher.")
    if not enterprise.is_sme:
        raise ValidationFailed("Only small, medium and micro enterprises may apply; your enterprise is registered "
                               "as a large enterprise.")
    return enterprise


def _ensure_owner(actor: Actor, application: TrialApplication) -> None:
    require(actor, "applications.file", message="Only enterprise (SME) users may file, change or submit a trial-voucher application.")
    require(actor, "applications.file", application, message="This application belongs to another enterprise.")


def _ensure_officer(actor: Actor) -> None:
    require(actor, "applications.decide", message="Only a programme officer may decide on applications.")


def catalogue_solution(solution_id: int | None) -> Solution:
    solution = db.session.get(Solution, solution_id) if solution_id else None
    if solution is None:
        raise ValidationFailed("Choose a solution from the catalogue.", field="solution_id")
    return solution


# --- rules ----------------------------------------------------------------------------------

def check_rules(programme: Programme, enterprise_id: int, solution: Solution, amount: Decimal, *,
                day: date, check_window: bool = True) -> Quota:
    """Programme, solution, trial price and quota rules; returns the quota it checked against.

    Rule: the programme funds trial vouchers and (when ``check_window``) is open on ``day``; the
    solution is listed or recommended; the amount is at most the trial price; the quota used
    plus the amount is at most the programme's cap per enterprise.  Messages state the limit and
    what remains.
    """
    if not programme.funds(FUNDING_KIND):
        raise ValidationFailed("The programme %(programme)s does not fund trial vouchers.", field="programme_id",
                               programme=programme.name)
    if check_window and not programme.is_open_on(day):
        raise ValidationFailed("The programme %(programme)s accepts applications from %(opens)s to %(closes)s; "
                               "the submission date %(day)s is outside that window.", field="programme_id",
                               programme=programme.name, opens=programme.opens_on.isoformat(),
                               closes=programme.closes_on.isoformat(), day=day.isoformat())
    if solution.status not in CATALOGUE_STATES:
        raise ValidationFailed("This solution is not in the catalogue (listed or recommended), so it cannot be "
                               "chosen for a trial.", field="solution_id")
    q = quota(programme, enterprise_id, day)
    if amount > solution.trial_price:
        raise OverCap("The requested amount %(requested)s is above the solution's trial price of %(price)s, the most "
                      "a voucher can pay for this trial (your enterprise's remaining quota is %(remaining)s of "
                      "%(cap)s).", field="requested_amount", requested=format_money(amount),
                      price=format_money(solution.trial_price), remaining=format_money(q.remaining),
                      cap=format_money(q.cap))
    if q.used + amount > q.cap:
        # The same message (and translation) as the ledger's own check at approval.
        raise OverCap("Over the enterprise's cap of %(cap)s in this programme: %(used)s is already used, "
                      "%(remaining)s remains, %(requested)s was requested.", field="requested_amount",
                      cap=format_money(q.cap), used=format_money(q.used), remaining=format_money(q.remaining),
                      requested=format_money(amount))
    return q


DATE_BEFORE_SUBMISSION = {
    "contract_date": N_("The contract date %(contract)s is before the submission date %(day)s: a trial contracted "
                        "before the application is submitted is not eligible."),
    "trial_start_date": N_("The trial start date %(start)s is before the submission date %(day)s: a trial started "
                           "before the application is submitted is not eligible."),
}


def check_dates(contract_date: date | None, trial_start_date: date | None, day: date) -> None:
    """Rule: no retrospective claims — neither declared date may be before the submission date."""
    fields = {}
    if contract_date is not None and contract_date < day:
        fields["contract_date"] = DATE_BEFORE_SUBMISSION["contract_date"]
    if trial_start_date is not None and trial_start_date < day:
        fields["trial_start_date"] = DATE_BEFORE_SUBMISSION["trial_start_date"]
    if fields:
        first = next(iter(fields.values()))
        raise ValidationFailed(first, fields=fields, day=day.isoformat(),
                               contract=contract_date.isoformat() if contract_date else "",
                               start=trial_start_date.isoformat() if trial_start_date else "")


def programme_period(programme: Programme) -> tuple[date, date]:
    """The days a trial funded by the programme may be contracted and started: from the day the
    programme opens to 31 December of the year after the one its application window closes in (an
    application approved late in the year may start its trial in the next one)."""
    return programme.opens_on, date(max(programme.year, programme.closes_on.year) + 1, 12, 31)


DATE_OUTSIDE_PROGRAMME = {
    "contract_date": N_("The contract date %(contract)s is outside the programme's period, %(first)s to %(last)s."),
    "trial_start_date": N_("The trial start date %(start)s is outside the programme's period, %(first)s to "
                           "%(last)s."),
}


def check_programme_period(programme: Programme, contract_date: date | None, trial_start_date: date | None) -> None:
    """Rule: the declared contract date and trial start date lie within the programme's period
    (:func:`programme_period`); outside it the field says the period."""
    first, last = programme_period(programme)
    fields = {name: DATE_OUTSIDE_PROGRAMME[name]
              for name, value in (("contract_date", contract_date), ("trial_start_date", trial_start_date))
              if value is not None and not first <= value <= last}
    if fields:
        raise ValidationFailed(next(iter(fields.values())), fields=fields, first=first.isoformat(),
                               last=last.isoformat(), contract=contract_date.isoformat() if contract_date else "",
                               start=trial_start_date.isoformat() if trial_start_date else "")


def _content_problems(content: Content, day: date) -> ValidationFailed | None:
    """Every problem of the content at once (one error naming each bad field), or None."""
    fields: dict[str, str] = {}
    params: dict = {}
    amount = content.requested_amount
    if (not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0
            or amount != amount.quantize(Decimal("0.01"))):
        fields["requested_amount"] = N_("Enter the requested amount in yuan (more than zero, at most two decimals).")
    statement = (content.need_statement or "").strip()
    if not statement:
        fields["need_statement"] = N_("Describe what your enterprise needs the solution for.")
    elif len(statement) > NEED_MAX:
        fields["need_statement"] = N_("The need statement is limited to %(max)s characters.")
        params["max"] = NEED_MAX
    if content.contract_date is None:
        fields["contract_date"] = N_("Enter the contract date.")
    if content.trial_start_date is None:
        fields["trial_start_date"] = N_("Enter the trial start date.")
    try:
        check_dates(content.contract_date, content.trial_start_date, day)
    except ValidationFailed as err:
        fields.update(err.fields)
        params.update(err.params)
    unknown = set(content.baselines) - set(INDICATOR_CODES)
    if unknown:
        raise ValidationFailed("Unknown indicator %(code)s.", code=sorted(unknown)[0])
    given = bad = 0
    for code in INDICATOR_CODES:
        value = content.baselines.get(code)
        if value is None:
            continue
        if (not isinstance(value, Decimal) or not value.is_finite() or value < 0 or value > indicator_max(code)
                or value != value.quantize(Decimal("0.01"))):
            if indicator_max(code) == PERCENT_MAX:
                fields[f"baseline_{code}"] = PERCENT_FIGURE_MESSAGE
            else:
                fields[f"baseline_{code}"] = N_("A baseline figure is a number from 0 to %(max)s with at most two "
                                               "decimals.")
                params["max"] = format(BASELINE_MAX, ",")
            bad += 1
        given += 1
    if not given:
        fields[f"baseline_{INDICATOR_CODES[0]}"] = N_("Give at least one baseline figure: the current value the "
                                                     "trial should improve.")
    if not fields:
        return None
    return ValidationFailed(next(iter(fields.values())), fields=fields, **params)


def _check_content(content: Content, day: date) -> None:
    """Rule: amount, need statement, declared dates and baselines; every bad field is named at once."""
    problem = _content_problems(content, day)
    if problem is not None:
        raise problem


def content_problems(content: Content, day: date, *, programme: Programme | None, enterprise_id: int | None,
                     solution: Solution | None) -> list[ValidationFailed]:
    """For a form that refused some fields already: every other rule's refusal, to show all at once
    (the content rules, the programme's period, and the price and quota rules when the amount is a
    number)."""
    found: list = []
    try:
        problem = _content_problems(content, day)
    except ValidationFailed as err:
        problem = err
    if problem is not None:
        found.append(problem)
    if programme is not None:
        try:
            check_programme_period(programme, content.contract_date, content.trial_start_date)
        except ValidationFailed as err:
            found.append(err)
        amount = content.requested_amount
        if solution is not None and enterprise_id is not None and isinstance(amount, Decimal) and amount > 0:
            try:
                check_rules(programme, enterprise_id, solution, amount, day=day)
            except DomainError as err:
                found.append(err)
    return found


def industry_mismatch(enterprise: Enterprise | None, solution: Solution) -> bool:
    """A warning, not a refusal: the enterprise's industry is not among the solution's target industries
    (a solution with no target industries suits every industry)."""
    targets = list(solution.target_industries or [])
    return bool(enterprise is not None and enterprise.industry and targets and enterprise.industry not in targets)


def _snapshot(application: TrialApplication) -> dict:
    return {"programme_id": application.programme_id, "solution_id": application.solution_id,
            "provider_id": application.provider_id, "requested_amount": application.requested_amount,
            "contract_date": application.contract_date, "trial_start_date": application.trial_start_date,
            "need_statement": application.need_statement,
            **{baseline_column(c): v for c, v in application.baselines.items()}}


def _apply_content(application: TrialApplication, content: Content) -> None:
    application.requested_amount = content.requested_amount
    application.need_statement = content.need_statement.strip()
    application.contract_date = content.contract_date
    application.trial_start_date = content.trial_start_date
    for code in INDICATOR_CODES:
        setattr(application, baseline_column(code), content.baselines.get(code))


# --- the SME's side -------------------------------------------------------------------------

def _by_token(token: str) -> TrialApplication | None:
    return db.session.scalar(select(TrialApplication).where(TrialApplication.idempotency_token == token))


def _same_owner(existing: TrialApplication, actor: Actor) -> TrialApplication:
    if existing.enterprise_id != actor.organisation_id:
        raise Forbidden("This application belongs to another enterprise.")
    return existing


def create_application(actor: Actor, *, token: str, programme_id: int | None, solution_id: int | None,
                       content: Content, today: date | None = None) -> tuple[TrialApplication, bool]:
    """Save a new application as a draft; returns (application, created).

    Rule: an SME of a registered SME enterprise only (provider → 403); all of
    :func:`check_rules` and the content rules (dates not before today, at least one baseline).
    The form's token is unique: the same token again — a double click, a retried POST, two
    requests at the same instant — returns the first application instead of a second one.
    """
    token = (token or "").strip()
    if not 16 <= len(token) <= 64:
        raise ValidationFailed("The form is incomplete or outdated; reload the page and try again.")
    require(actor, "applications.file", message="Only enterprise (SME) users may file, change or submit a trial-voucher application.")
    existing = _by_token(token)
    if existing is not None:
        return _same_owner(existing, actor), False
    enterprise = own_enterprise(actor)
    day = today or local_today()
    programme = db.session.get(Programme, programme_id) if programme_id else None
    if programme is None:
        raise ValidationFailed("Choose a programme that is accepting applications.", field="programme_id")
    solution = catalogue_solution(solution_id)
    _check_content(content, day)
    check_programme_period(programme, content.contract_date, content.trial_start_date)
    check_rules(programme, enterprise.organisation_id, solution, content.requested_amount, day=day)
    application = TrialApplication(programme_id=programme.id, enterprise_id=enterprise.organisation_id,
                                   solution_id=solution.id, provider_id=solution.provider_id, status="draft",
                                   idempotency_token=token, created_by=actor.user_id)
    _apply_content(application, content)
    try:
        with db.session.begin_nested():
            db.session.add(application)
            db.session.flush()
    except IntegrityError:
        # Another request with the same token got there first (it waited for us on the unique index).
        existing = _by_token(token)
        if existing is None:
            raise
        return _same_owner(existing, actor), False
    record_event(actor, "trial_application.create", "trial_application", application.id,
                 after={"status": "draft", **_snapshot(application)})
    return application, True


def update_application(actor: Actor, application_id: int, content: Content,
                       today: date | None = None) -> TrialApplication:
    """Change a draft's (or a returned application's) content.

    Rule: only the enterprise's own SME users (an officer or provider gets 403), only while it is
    a draft or returned; a returned application goes back to draft.  The same rules as on
    creation apply.
    """
    application = _locked(application_id)
    _ensure_owner(actor, application)
    if application.status not in EDITABLE_STATES:
        raise TransitionNotAllowed("This application can no longer be changed.")
    day = today or local_today()
    _check_content(content, day)
    check_programme_period(application.programme, content.contract_date, content.trial_start_date)
    check_rules(application.programme, application.enterprise_id, application.solution, content.requested_amount,
                day=day)
    if application.status == "returned":
        MACHINE.apply(application, "resume", actor)
    before = _snapshot(application)
    _apply_content(application, content)
    application.updated_at = utcnow()
    db.session.flush()
    after = _snapshot(application)
    changed = {k for k in after if before[k] != after[k]}
    if changed:
        record_event(actor, "trial_application.update", "trial_application", application.id,
                     before={k: before[k] for k in sorted(changed)}, after={k: after[k] for k in sorted(changed)})
    return application


def submit(actor: Actor, application_id: int, today: date | None = None) -> TrialApplication:
    """Send the application to the bureau.

    Rule: only its enterprise's SME users; everything is checked again on the submission date
    (window, catalogue, trial price, quota, no contract or trial start before that date).  A
    repeated submit of an application already submitted changes nothing (idempotent).
    """
    application = _locked(application_id)
    _ensure_owner(actor, application)
    if application.status == "submitted":
        return application
    if MACHINE.find(application.status, "submit") is None:
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action="submit", state=application.status)
    day = today or local_today()
    _check_content(Content(application.requested_amount, application.need_statement, application.contract_date,
                           application.trial_start_date, application.baselines), day)
    check_programme_period(application.programme, application.contract_date, application.trial_start_date)
    check_rules(application.programme, application.enterprise_id, application.solution,
                application.requested_amount, day=day)
    ensure_complete(checklist(application), materials_by_code(application.id))
    MACHINE.apply(application, "submit", actor, details={"submitted_on": day})
    application.submitted_at = utcnow()
    db.session.flush()
    MACHINE.publish(application, "submit", actor)  # risk signals follow (voucher.risk.services.on_submit)
    notify_role("officer", N_("A trial-voucher application %(number)s from %(enterprise)s (%(amount)s) is waiting for review."),
                application_link(application.id), number=application.number, enterprise=application.enterprise.name,
                amount=format_money(application.requested_amount))
    return application


def withdraw(actor: Actor, application_id: int, reason: str | None = None) -> TrialApplication:
    """Rule: its enterprise's SME users may withdraw a draft, submitted or returned application
    (never reserved, so the quota is untouched); an approved one is cancelled by an officer."""
    application = _locked(application_id)
    _ensure_owner(actor, application)
    MACHINE.apply(application, "withdraw", actor, reason=(reason or "")[:REASON_MAX] or None)
    db.session.flush()
    return application


def checklist(application: TrialApplication):
    """The materials this application needs (``voucher.materials``)."""
    return checklist_for(application.programme_id, FUNDING_KIND)


def materials_by_code(application_id: int) -> dict[str, list[StoredFile]]:
    """The application's files per material code (a file without a material counts as ``other``)."""
    return by_material(attachments(application_id))


def missing_materials(application: TrialApplication) -> list:
    return missing_required(checklist(application), materials_by_code(application.id))


def add_materials(actor: Actor, application_id: int, uploads: dict[str, list], *,
                  max_bytes: int) -> list[StoredFile]:
    """Attach files to materials of the checklist: ``uploads`` maps a material code to uploads
    (objects with ``stream`` and ``filename``), several per material.

    Rule: only the enterprise's own SME users, while the application is a draft or returned for
    revision; each file one of its material's formats by content, not empty, within the size
    limit, at most the material's number of files.  Every file is checked before any is kept: one
    refused file keeps none (the messages name every material that had a refused file).  Each
    file added writes an audit event (after a return, the bureau sees what was added).
    """
    application = _locked(application_id)
    _ensure_owner(actor, application)
    if application.status not in EDITABLE_STATES:
        raise TransitionNotAllowed("Documents can be added only while the application is a draft or returned "
                                   "for revision.", field="file")
    return attach_files(actor, uploads, checklist=checklist(application), present=materials_by_code(application.id),
                        owner_type=SOURCE_TYPE, owner_id=application.id, status=application.status,
                        max_bytes=max_bytes)


def add_attachment(actor: Actor, application_id: int, stream: BinaryIO, filename: str, *,
                   max_bytes: int, material: str = "other") -> StoredFile:
    """Attach one supporting document to a material of the checklist (``other`` when not said);
    the rules of :func:`add_materials`."""

    class _One:
        pass

    one = _One()
    one.stream, one.filename = stream, filename or "file"
    return add_materials(actor, application_id, {material: [one]},
                         max_bytes=max_bytes)[0]


def remove_attachment(actor: Actor, application_id: int, file_id: int) -> StoredFile:
    """Take a file off the application before (re)submission, e.g. to replace it.

    Rule: only the enterprise's own SME users, while the application is a draft or returned for
    revision; audited (name, material, SHA-256).  The stored file is detached (its owner cleared)
    and kept, so what was once submitted can still be traced by its hash in the audit trail.
    """
    application = _locked(application_id)
    _ensure_owner(actor, application)
    if application.status not in EDITABLE_STATES:
        raise TransitionNotAllowed("Documents can be removed only while the application is a draft or returned "
                                   "for revision.")
    stored = attached_file(file_id, SOURCE_TYPE, application.id)
    if stored is None:
        raise NotFound("No such document.")
    return detach_file(actor, stored, owner_type=SOURCE_TYPE, owner_id=application.id, status=application.status)


def attachments(application_id: int) -> list[StoredFile]:
    return files_of(SOURCE_TYPE, application_id)


def get_attachment(actor: Actor, application_id: int, file_id: int) -> StoredFile:
    """Rule: a document is given only to those who may see its application (403 otherwise)."""
    get_application(actor, application_id)
    stored = attached_file(file_id, SOURCE_TYPE, application_id)
    if stored is None:
        raise NotFound("No such document.")
    return stored


# --- the bureau's side ----------------------------------------------------------------------

def _decide(actor: Actor, application: TrialApplication, action: str, reason: str | None) -> None:
    """Refuse before any ledger write: role (403), wrong state (409), missing reason."""
    _ensure_officer(actor)
    t = MACHINE.find(application.status, action)
    if t is None:
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action=action, state=application.status)
    reason = (reason or "").strip()
    if t.requires_reason and not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)


def _record_decision(actor: Actor, application: TrialApplication, reason: str | None) -> None:
    application.decided_at = utcnow()
    application.decided_by = actor.user_id
    application.decision_reason = (reason or "").strip() or None
    db.session.flush()


def approve(actor: Actor, application_id: int, comment: str | None = None) -> TrialApplication:
    """Approve a submitted application and reserve its amount in the fund ledger.

    Rule: officers only (403); the solution must still be in the catalogue and the amount within
    its trial price; the reservation is made by ``programmes.services.reserve`` under the
    programme's row lock, which refuses when the available budget is short
    (``BudgetExhausted``) or the enterprise's (or provider's) cap would be exceeded
    (``OverCap``), with the figures.  A second approval of the same application is refused.
    """
    application = _locked(application_id)
    _decide(actor, application, "approve", comment)
    solution = application.solution
    today = local_today()
    check_rules(application.programme, application.enterprise_id, solution, application.requested_amount,
                day=today, check_window=False)
    # The approval is decided under the rule version in force on the day of approval (issue 19 §3).
    version, parameters = ledger.parameters_on(application.programme_id, today)
    inputs = {"amount": str(application.requested_amount),
              "enterprise_committed_before": str(ledger.enterprise_committed(
                  application.programme_id, application.enterprise_id, FUNDING_KIND)),
              "provider_committed_before": str(ledger.provider_committed(application.programme_id,
                                                                        solution.provider_id)),
              "trial_cap_per_enterprise": str(parameters["trial_cap_per_enterprise"]),
              "provider_cap": str(parameters["provider_cap"]), "advance_pct": str(parameters["advance_pct"])}
    entry = ledger.reserve(actor, application.programme_id, funding_kind=FUNDING_KIND,
                           amount=application.requested_amount, enterprise_id=application.enterprise_id,
                           source_type=SOURCE_TYPE, source_id=application.id, provider_id=solution.provider_id,
                           note=f"trial application {application.id}", rule_version=version)
    application.rule_version_id = version.id
    application.rule_inputs = inputs
    MACHINE.apply(application, "approve", actor, reason=comment,
                  details={"reserved": application.requested_amount, "ledger_entry_id": entry.id})
    _record_decision(actor, application, comment)
    # The approval is announced here, after its own writes and before the SME is told: the trials
    # domain (subscribed in trials.services.register) opens the trial, in this transaction.
    MACHINE.publish(application, "approve", actor)
    notify_organisation(application.enterprise_id,
                        N_("Your trial-voucher application %(number)s for %(solution)s was approved: %(amount)s is reserved. "
                           "The trial starts when the provider kicks it off."),
                        application_link(application.id), number=application.number, solution=solution.title,
                        amount=format_money(application.requested_amount))
    return application


def reject(actor: Actor, application_id: int, reason: str) -> TrialApplication:
    """Rule: officers only; a submitted application; the reason is required and shown to the SME.
    Nothing was reserved, so the quota is untouched."""
    application = _locked(application_id)
    _decide(actor, application, "reject", reason)
    MACHINE.apply(application, "reject", actor, reason=reason)
    _record_decision(actor, application, reason)
    notify_organisation(application.enterprise_id,
                        N_("Your trial-voucher application %(number)s for %(solution)s was not approved. Reason: %(reason)s"),
                        application_link(application.id), number=application.number, solution=application.solution.title,
                        reason=application.decision_reason)
    return application


def return_for_revision(actor: Actor, application_id: int, comment: str) -> TrialApplication:
    """Rule: officers only; a submitted application goes back to the SME with a required comment
    saying what to revise."""
    application = _locked(application_id)
    _decide(actor, application, "return", comment)
    MACHINE.apply(application, "return", actor, reason=comment)
    _record_decision(actor, application, comment)
    notify_organisation(application.enterprise_id,
                        N_("Your trial-voucher application %(number)s for %(solution)s was returned for revision: %(comment)s"),
                        application_link(application.id), number=application.number, solution=application.solution.title,
                        comment=application.decision_reason)
    return application


def cancel(actor: Actor, application_id: int, reason: str) -> TrialApplication:
    """Cancel an approval and release its reservation to the fund.

    Rule: officers only; an approved application (the trial has not started); the reason is
    required; everything still reserved for it goes back to the fund (ledger ``release``); its
    trial, not yet started, is cancelled with it.
    """
    application = _locked(application_id)
    _decide(actor, application, "cancel", reason)
    entry = ledger.release(actor, SOURCE_TYPE, application.id, note=f"trial application {application.id} cancelled")
    MACHINE.apply(application, "cancel", actor, reason=reason,
                  details={"released": entry.amount if entry else ZERO})
    _record_decision(actor, application, reason)
    # Announced after the release and the decision: the trials domain (subscribed in
    # trials.services.register) cancels the trial, not yet started, in this transaction.
    MACHINE.publish(application, "cancel", actor, reason=application.decision_reason)
    notify_organisation(application.enterprise_id,
                        N_("The approval of your trial-voucher application %(number)s for %(solution)s was cancelled and the "
                           "reserved amount returned to the fund. Reason: %(reason)s"),
                        application_link(application.id), number=application.number, solution=application.solution.title,
                        reason=application.decision_reason)
    return application
