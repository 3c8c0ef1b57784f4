"""Loan interest discounts and robot purchase subsidies: the LPR table, the calculators, the
applications and their review.

Rules enforced here (views and the API only parse and render):
- programme parameters reach the calculations through :func:`params_for` only;
- the benchmark of a loan is the 1-year LPR in force on its contract date (:func:`lpr_in_force`),
  never typed by the enterprise; a loan above benchmark × (1 − margin) is refused before anything
  is saved, with the ceiling in the message;
- an invoice number can be claimed once, system-wide (service check naming the line, backed by
  the UNIQUE ``robot_line.invoice_key``); a withdrawn application gives its invoices back;
- the per-enterprise robot cap uses what the fund ledger already commits to the enterprise;
- only the enterprise's own SME users file, edit, submit and withdraw; only officers decide;
  approval reserves the amount in the fund ledger (budget and caps checked there) and every
  change writes an audit event;
- an officer may cancel an approved grant before any of it is paid or a payment of it is under
  way (:func:`cancel_grant`, used when an objection to its public notice is upheld): what is
  still reserved goes back to the fund.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from voucher.access import can, require
from voucher.audit.services import Actor, record_event
from voucher.auth.policy import ensure_can_read, ensure_own_organisation
from voucher.calc import (
    CalcInputError,
    InterestPeriod,
    LoanDiscountResult,
    LoanParams,
    PrincipalUse,
    RobotLine,
    RobotParams,
    RobotSubsidyResult,
    Step,
    invoice_key,
    loan_discount,
    rate_ceiling,
    robot_subsidy,
)
from voucher.calc.common import fmt_pct
from voucher.db import utcnow
from voucher.documents.models import StoredFile
from voucher.enterprises.models import Organisation
from voucher.errors import (
    N_,
    Conflict,
    Duplicate,
    Forbidden,
    NotFound,
    OverCap,
    TransitionNotAllowed,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.grants import payment_under_way
from voucher.identifiers import invoice_shape_ok, normalise_identifier
from voucher.materials import checklist_for, ensure_complete
from voucher.materials import material as checklist_material
from voucher.money import format_money
from voucher.notifications.services import notify_organisation, notify_role
from voucher.programmes import services as programmes
from voucher.programmes.models import LprRate, Programme
from voucher.storage import DEFAULT_FORMATS, detect_format, format_names, save_upload
from voucher.subsidies.models import (
    APPLICATION_STATES,
    LoanApplication,
    LoanInterestPeriod,
    RobotApplication,
    RobotLineItem,
)
from voucher.workflow import StateMachine, transition

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("999999999999.99")
MAX_PERIODS = 60
# Invoices and loan contracts older than this are typos (1900 was accepted once), never eligible.
EARLIEST_DATE = date(2000, 1, 1)
MAX_LINES = 100

LOAN_SOURCE = "loan_application"
ROBOT_SOURCE = "robot_application"


def _machine(object_type: str) -> StateMachine:
    return StateMachine(object_type, APPLICATION_STATES, (
        transition("submit", ("draft", "returned"), "submitted", "sme"),
        transition("approve", "submitted", "approved", "officer"),
        transition("reject", "submitted", "rejected", "officer", requires_reason=True),
        transition("return", "submitted", "returned", "officer", requires_reason=True),
        transition("withdraw", ("draft", "submitted", "returned"), "withdrawn", "sme"),
        transition("cancel", "approved", "cancelled", "officer", requires_reason=True),  # cancel_grant only
    ))


LOAN_MACHINE = _machine(LOAN_SOURCE)
ROBOT_MACHINE = _machine(ROBOT_SOURCE)
EDITABLE_STATES = ("draft", "returned")


@dataclass(frozen=True)
class _Kind:
    """What differs between the two kinds where the rules are the same."""

    source_type: str
    funding_kind: str
    machine: StateMachine
    model: type
    noun: str
    amount_field: str  # the computed amount (before approval)
    path: str  # the pages' URL segment


KINDS = {
    "loan": _Kind(LOAN_SOURCE, "loan_discount", LOAN_MACHINE, LoanApplication, "loan interest discount",
                  "computed_discount", "loans"),
    "robot": _Kind(ROBOT_SOURCE, "robot_subsidy", ROBOT_MACHINE, RobotApplication, "robot purchase subsidy",
                   "computed_subsidy", "robots"),
}


def local_today() -> date:
    """Today in the bureau's time zone (windows, contract and invoice dates are local dates)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()



class InputRefused(ValidationFailed):
    """Several field problems at once, each with its own English template and figures."""

    def __init__(self, problems: Sequence[tuple[str, str, dict]]) -> None:
        problems = list(problems)
        if len(problems) == 1:
            field, message, params = problems[0]
            super().__init__(message, field=field, **params)
        else:
            super().__init__(N_("Please correct the marked fields."), fields={f: m for f, m, _ in problems})
        self.problems = problems

    def field_messages(self, translate=None) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, template, params in self.problems:
            text = translate(template) if translate else template
            try:
                text = text % params if params else text
            except (KeyError, TypeError, ValueError):
                pass
            out[name] = f"{out[name]} {text}" if name in out else text
        return out


# --- programme parameters ---------------------------------------------------------------------

def params_for(programme: Programme | None) -> tuple[LoanParams, RobotParams]:
    """The calculation parameters of a programme (the domain defaults without one).

    Rule: the calculators, the API and the applications all read the programme's parameters
    through this one function; nothing is hard-coded in a view.
    """
    if programme is None:
        return LoanParams(), RobotParams()
    loan = LoanParams(rate_margin_pct=programme.loan_rate_margin_pct, subsidy_points=programme.loan_subsidy_points,
                      principal_cap=programme.loan_principal_cap, day_basis=int(programme.loan_day_basis))
    robot = RobotParams(base_rate=programme.robot_base_rate, domestic_rate=programme.robot_domestic_rate,
                        pilot_domestic_rate=programme.robot_pilot_domestic_rate,
                        enterprise_cap=programme.robot_enterprise_cap)
    return loan, robot


def loan_params_json(params: LoanParams) -> dict:
    return {"rate_margin_pct": str(params.rate_margin_pct), "subsidy_points": str(params.subsidy_points),
            "principal_cap": str(params.principal_cap), "day_basis": params.day_basis}


def robot_params_json(params: RobotParams) -> dict:
    return {"base_rate": str(params.base_rate), "domestic_rate": str(params.domestic_rate),
            "pilot_domestic_rate": str(params.pilot_domestic_rate), "enterprise_cap": str(params.enterprise_cap)}


def find_programme(programme_id: int | None, field: str = "programme_id") -> Programme | None:
    """The programme whose parameters a calculator uses (None: the defaults)."""
    if programme_id is None:
        return None
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise ValidationFailed("No such programme.", field=field)
    return programme


def programmes_for_calculator() -> list[Programme]:
    return list(db.session.scalars(select(Programme).order_by(Programme.year.desc(), Programme.id.desc())))


def open_programmes(funding_kind: str, today: date | None = None) -> list[Programme]:
    """Programmes that fund this kind and whose application window is open today."""
    today = today or local_today()
    column = {"loan_discount": Programme.funds_loan_discount, "robot_subsidy": Programme.funds_robot_subsidy}[funding_kind]
    return list(db.session.scalars(select(Programme).where(column.is_(True), Programme.opens_on <= today,
                                                           Programme.closes_on >= today)
                                   .order_by(Programme.closes_on, Programme.id)))


def _programme_for_application(programme_id: int | None, funding_kind: str, today: date) -> Programme:
    if programme_id is None:
        raise ValidationFailed("Choose the programme.", field="programme_id")
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise ValidationFailed("No such programme.", field="programme_id")
    if not programme.funds(funding_kind):
        raise ValidationFailed("This programme does not fund this kind of subsidy.", field="programme_id")
    if not programme.is_open_on(today):
        raise ValidationFailed("The programme's application window is %(opens)s to %(closes)s; it is not open today.",
                               field="programme_id", opens=programme.opens_on.isoformat(),
                               closes=programme.closes_on.isoformat())
    return programme


# --- the LPR table ------------------------------------------------------------------------------

def lpr_in_force(day: date, field: str = "contract_date") -> LprRate:
    """The 1-year LPR in force on ``day``: the rate with the latest ``effective_from`` ≤ day.

    Rule: refused (naming ``field``) when the table has no rate in force on that day.
    """
    if not isinstance(day, date):
        raise ValidationFailed("Enter a date.", field=field)
    rate = db.session.scalar(select(LprRate).where(LprRate.effective_from <= day)
                             .order_by(LprRate.effective_from.desc()).limit(1))
    if rate is None:
        first = db.session.scalar(select(func.min(LprRate.effective_from)))
        if first is None:
            raise ValidationFailed("The bureau has not recorded any 1-year LPR yet, so no benchmark is known for "
                                   "%(day)s.", field=field, day=day.isoformat())
        raise ValidationFailed("No 1-year LPR is recorded in force on %(day)s: the bureau's table starts on "
                               "%(first)s.", field=field, day=day.isoformat(), first=first.isoformat())
    return rate


def add_lpr_rate(actor: Actor, effective_from: date, rate_pct: Decimal) -> LprRate:
    """Record the 1-year LPR in force from a date.

    Rule: officers only; one rate per date (a second one is refused naming the existing rate);
    0 < rate ≤ 100 with at most two decimals; audited.
    """
    require(actor, "subsidies.maintain_lpr")
    problems = []
    if not isinstance(effective_from, date):
        problems.append(("effective_from", N_("Enter the date from which the rate applies."), {}))
    if not isinstance(rate_pct, Decimal) or not rate_pct.is_finite() or rate_pct <= 0 or rate_pct > HUNDRED \
            or rate_pct != rate_pct.quantize(Decimal("0.01")):
        problems.append(("rate_pct", N_("Enter the rate in percent, above 0 and at most 100, with at most two decimals."), {}))
    if problems:
        raise InputRefused(problems)
    existing = db.session.scalar(select(LprRate).where(LprRate.effective_from == effective_from))
    if existing is not None:
        raise Duplicate("A rate is already recorded from %(day)s (%(rate)s%%). Each date can have one rate.",
                        field="effective_from", day=effective_from.isoformat(), rate=existing.rate_pct)
    row = LprRate(effective_from=effective_from, rate_pct=rate_pct)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise Duplicate("A rate is already recorded from %(day)s. Each date can have one rate.",
                        field="effective_from", day=effective_from.isoformat()) from None
    record_event(actor, "lpr_rate.created", "lpr_rate", row.id,
                 after={"effective_from": effective_from, "rate_pct": rate_pct})
    return row


# --- calculations with domain errors ----------------------------------------------------------------

_SIMPLE_CALC_MESSAGES = {
    "must be a number, not a boolean": N_("Enter a number."),
    "must be a Decimal, not a float": N_("Enter a number."),
    "must be a number": N_("Enter a number."),
    "must be a finite number": N_("Enter a finite number."),
    "must be greater than zero": N_("Must be greater than zero."),
    "must not be negative": N_("Must not be negative."),
    "must be in whole fen (at most two decimals)": N_("At most two decimals."),
    "must be a date": N_("Enter a date."),
    "at least one interest period is required": N_("Enter at least one interest period."),
    "at least one robot line is required": N_("Enter at least one robot line."),
    "is required": N_("Required."),
    "must be true or false": N_("Must be true or false."),
    "must be a whole number": N_("Enter a whole number."),
    "must be at least 1": N_("Must be at least 1."),
    "must be a positive whole number of days": N_("Must be a positive whole number of days."),
}
_INDEX = re.compile(r"^lines\.(\d+)\.")


def calc_error(err: CalcInputError, field_map: dict[str, str] | None = None) -> ValidationFailed:
    """A calculation's input error as a domain error on the same (dotted) field, in a translatable sentence."""
    field = (field_map or {}).get(err.field, err.field)
    message = err.message
    if message in _SIMPLE_CALC_MESSAGES:
        return ValidationFailed(_SIMPLE_CALC_MESSAGES[message], field=field)
    if message.startswith("must be at most"):
        return ValidationFailed("Must be at most %(limit)s.", field=field, limit=_plain(err.limit))
    if message.startswith("must be at least"):
        return ValidationFailed("Must be at least %(limit)s.", field=field, limit=_plain(err.limit))
    if message.startswith("must be greater than"):
        return ValidationFailed("Must be greater than %(limit)s.", field=field, limit=_plain(err.limit))
    if message == "must be after the start date":
        return ValidationFailed("The end date must be after the start date (%(start)s).", field=field,
                                start=_plain(err.limit))
    if "duplicates line" in message:
        line = _INDEX.match(err.field)
        first = _INDEX.match(str(err.limit))
        return ValidationFailed("Line %(line)s repeats the invoice number of line %(first)s: an invoice can be "
                                "claimed only once.", field=field,
                                line=int(line.group(1)) + 1 if line else "?", first=int(first.group(1)) + 1 if first else "?")
    return ValidationFailed(message, field=field)


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def calculate_loan(benchmark_rate: Decimal, loan_rate: Decimal, periods: Sequence[InterestPeriod],
                   params: LoanParams, field_map: dict[str, str] | None = None,
                   already_subsidised: Sequence[PrincipalUse] = ()) -> LoanDiscountResult:
    """``voucher.calc.loan_discount`` with its input errors as domain errors naming the field."""
    try:
        return loan_discount(benchmark_rate, loan_rate, periods, params, already_subsidised)
    except CalcInputError as err:
        raise calc_error(err, field_map) from None


def calculate_robot(lines: Sequence[RobotLine], pilot_industry: bool, already_granted: Decimal,
                    params: RobotParams) -> RobotSubsidyResult:
    """``voucher.calc.robot_subsidy`` with its input errors as domain errors naming the field."""
    try:
        return robot_subsidy(lines, pilot_industry, already_granted, params)
    except CalcInputError as err:
        raise calc_error(err) from None


def working_json(steps: Iterable[Step]) -> list[dict]:
    """The working as stored: code, English template and values (translated when shown)."""
    return [{"code": s.code, "text": s.text, "values": dict(s.values)} for s in steps]


def render_step(stored: dict | Step, translate=None) -> str:
    """One working line: the template translated first, then filled with its values."""
    if isinstance(stored, Step):
        return stored.render(translate)
    return Step(stored.get("code", ""), stored.get("text", ""), stored.get("values") or {}).render(translate)


def ceiling_refusal(benchmark: LprRate | None, benchmark_rate: Decimal, loan_rate: Decimal, ceiling: Decimal,
                    params: LoanParams, field: str = "loan_rate") -> ValidationFailed:
    if benchmark is not None:
        return ValidationFailed(
            "The loan rate %(rate)s%% is above the eligible ceiling of %(ceiling)s%% (the 1-year LPR of %(lpr)s%% "
            "in force since %(since)s, less %(margin)s%%). Such a loan is not eligible for the interest discount.",
            field=field, rate=fmt_pct(loan_rate), ceiling=fmt_pct(ceiling), lpr=fmt_pct(benchmark_rate),
            since=benchmark.effective_from.isoformat(), margin=fmt_pct(params.rate_margin_pct, 0))
    return ValidationFailed(
        "The loan rate %(rate)s%% is above the eligible ceiling of %(ceiling)s%% (benchmark %(lpr)s%% less "
        "%(margin)s%%). Such a loan is not eligible for the interest discount.",
        field=field, rate=fmt_pct(loan_rate), ceiling=fmt_pct(ceiling), lpr=fmt_pct(benchmark_rate),
        margin=fmt_pct(params.rate_margin_pct, 0))


def check_loan_rate(contract_date: date | None, loan_rate: Decimal | None, programme: Programme | None) -> None:
    """Refuse at once a loan rate above the eligible ceiling for the contract date's LPR (nothing else)."""
    if contract_date is None or loan_rate is None:
        return
    benchmark = lpr_in_force(contract_date)
    params, _ = params_for(programme)
    ceiling = rate_ceiling(benchmark.rate_pct, params)
    if loan_rate > ceiling:
        raise ceiling_refusal(benchmark, benchmark.rate_pct, loan_rate, ceiling, params)


# --- whose enterprise --------------------------------------------------------------------------------

def enterprise_of(actor: Actor) -> Organisation:
    """The acting SME user's registered enterprise.

    Rule: only SME users file subsidy applications, for their own registered enterprise, and
    only small, medium or micro enterprises (not large ones).
    """
    require(actor, "subsidies.file")
    org = db.session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    if org is None or org.kind != "enterprise" or org.enterprise is None:
        raise ValidationFailed("Register your enterprise first: applications are filed for a registered enterprise.")
    if not org.enterprise.is_sme:
        raise Forbidden("Only small, medium and micro enterprises may apply; your enterprise is classed as large.")
    return org


# --- uploads ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str


# Which material of the checklist (voucher.materials) each upload field is.
MATERIAL_OF_FIELD = {("loan_discount", "plan_file"): "transformation_plan",
                     ("loan_discount", "statement_file"): "interest_statement",
                     ("robot_subsidy", "invoice_file"): "vat_invoice"}


def _formats(kind: str, field: str, programme_id: int | None = None) -> tuple[str, tuple[str, ...]]:
    code = MATERIAL_OF_FIELD[(kind, field.rsplit(".", 1)[-1])]
    item = checklist_material(programme_id, kind, code)
    return code, (item.formats if item is not None else DEFAULT_FORMATS)


def _material_kwargs(kind: str, field: str) -> dict:
    code, formats = _formats(kind, field)
    return {"material": code, "formats": formats}


def _check_upload(upload: Upload | None, field: str, required: bool, max_bytes: int, problems: list,
                  formats: tuple[str, ...] = DEFAULT_FORMATS) -> None:
    """Check an upload before anything is written (so a refused form leaves no stray file):
    not empty, within the limit, one of the material's formats by content."""
    if upload is None:
        if required:
            problems.append((field, N_("Attach the file (PDF, JPEG or PNG).") if tuple(formats) == DEFAULT_FORMATS
                             else N_("Attach the file (%(formats)s)."), {"formats": format_names(formats)}))
        return
    stream = upload.stream
    data = stream.read(max_bytes + 1)
    stream.seek(0)
    if not data:
        problems.append((field, N_("The file is empty."), {}))
    elif len(data) > max_bytes:
        problems.append((field, N_("The file is larger than the limit of %(limit)s MB."), {"limit": max_bytes // (1024 * 1024)}))
    elif detect_format(data) not in formats:
        if tuple(formats) == DEFAULT_FORMATS:
            problems.append((field, N_("Only PDF, JPEG or PNG files are accepted (checked by content, not by name)."), {}))
        else:
            problems.append((field, N_("Only these formats are accepted here: %(formats)s (checked by content, not "
                                       "by name)."), {"formats": format_names(formats)}))


def _store(actor: Actor, upload: Upload, *, owner_type: str, owner_id: int, purpose: str, field: str,
           max_bytes: int, formats: tuple[str, ...] = DEFAULT_FORMATS,
           material: str | None = None) -> StoredFile:
    return save_upload(actor, upload.stream, upload.filename, max_bytes=max_bytes,
                       owner_type=owner_type, owner_id=owner_id, purpose=purpose, field=field, formats=formats,
                       material=material)


# --- the checklist of materials (the guide's 材料清单) ---------------------------------------------------

def checklist(kind: str, app):
    """The materials an application of ``kind`` ("loan"/"robot") needs: its programme guide's
    checklist (``voucher.materials.checklist_for``)."""
    return checklist_for(app.programme_id if app is not None else None, KINDS[kind].funding_kind)


def attachments(kind: str, application_id: int) -> list[StoredFile]:
    source = KINDS[kind].source_type
    return list(db.session.scalars(select(StoredFile).where(StoredFile.owner_type == source,
                                                            StoredFile.owner_id == application_id)
                                   .order_by(StoredFile.id)))


def materials_by_code(kind: str, application_id: int) -> dict[str, list[StoredFile]]:
    """The application's files per material code (the plan, statement and invoices uploaded with
    the form count for their materials; a file without a material counts as ``other``)."""
    grouped: dict[str, list[StoredFile]] = {}
    for stored in attachments(kind, application_id):
        grouped.setdefault(stored.material or "other", []).append(stored)
    return grouped


def _editable_own(actor: Actor, kind: str, application_id: int, verb: str):
    if kind not in KINDS:
        raise NotFound("No such application.")
    app = _locked(kind, application_id)
    require(actor, "subsidies.file", app, message="This belongs to another organisation.")
    if app.status not in EDITABLE_STATES:
        raise TransitionNotAllowed(verb)
    return app


def add_materials(actor: Actor, kind: str, application_id: int, uploads: dict[str, list], *,
                  max_bytes: int) -> list[StoredFile]:
    """Attach files to materials of the checklist: ``uploads`` maps a material code to uploads
    (``stream`` and ``filename``), several per material.

    Rule: only the enterprise's own SME users (403), while the application is a draft or returned
    for revision (409); each file one of its material's formats by content, not empty, within the
    size limit, at most the material's number of files.  Every file is checked before any is kept:
    one refused file keeps none, and the message of every material with a refused file shows at
    once.  Each file added writes an audit event.
    """
    app = _editable_own(actor, kind, application_id, "Documents can be added only while the application is a "
                                                     "draft or returned for revision.")
    k = KINDS[kind]
    known = {m.code: m for m in checklist(kind, app)}
    present = materials_by_code(kind, app.id)
    problems: dict[str, str] = {}
    params: dict = {}
    checked: list[tuple[str, Upload, tuple[str, ...]]] = []
    for code, files in uploads.items():
        files = [f for f in files if f is not None and (f.filename or "")]
        if not files:
            continue
        item = known.get(code)
        if item is None:
            raise ValidationFailed("Unknown material %(code)s.", field="file", code=code)
        if len(present.get(code, [])) + len(files) > item.max_files:
            problems[f"material_{code}"] = N_("At most %(max)s files for one material.")
            params["max"] = item.max_files
            continue
        for upload in files:
            found: list = []
            _check_upload(upload, f"material_{code}", True, max_bytes, found, item.formats)
            if found:
                problems.setdefault(found[0][0], found[0][1])
                params.update(found[0][2])
            else:
                checked.append((code, upload, item.formats))
    if problems:
        raise ValidationFailed(next(iter(problems.values())), fields=problems, **params)
    if not checked:
        raise ValidationFailed("Choose a file to upload.", field="file")
    stored_files = [_store(actor, upload, owner_type=k.source_type, owner_id=app.id, purpose="supporting_document",
                           field=f"material_{code}", max_bytes=max_bytes, formats=formats, material=code)
                    for code, upload, formats in checked]
    for stored in stored_files:
        record_event(actor, f"{k.source_type}.attach", k.source_type, app.id,
                     after={"file_id": stored.id, "name": stored.original_name, "sha256": stored.sha256,
                            "size_bytes": stored.size_bytes, "material": stored.material, "status": app.status})
    return stored_files


def remove_material(actor: Actor, kind: str, application_id: int, file_id: int) -> StoredFile:
    """Take a file off the application before (re)submission, e.g. to replace it.

    Rule: only the enterprise's own SME users (403), while a draft or returned (409); audited (name,
    material, SHA-256).  The file is detached (kept, traceable by its hash).  Removing the plan or
    the interest statement of a loan makes the form ask for it again; a robot line's invoice is
    replaced on its line in the form, not removed here.
    """
    app = _editable_own(actor, kind, application_id, "Documents can be removed only while the application is a "
                                                     "draft or returned for revision.")
    k = KINDS[kind]
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.owner_type != k.source_type or stored.owner_id != app.id:
        raise NotFound("No such file.")
    if kind == "robot":
        line = next((x for x in app.lines if x.invoice_file_id == stored.id), None)
        if line is not None:
            raise Conflict("This file is the invoice of robot line %(line)s: to replace it, edit the application "
                           "and attach the new invoice on that line.", line=line.position + 1)
    else:
        if app.plan_file_id == stored.id:
            app.plan_file_id = None
        if app.statement_file_id == stored.id:
            app.statement_file_id = None
    before = {"file_id": stored.id, "name": stored.original_name, "sha256": stored.sha256,
              "material": stored.material, "status": app.status}
    stored.owner_type = f"{k.source_type}_removed"
    db.session.flush()
    record_event(actor, f"{k.source_type}.detach", k.source_type, app.id, before=before)
    return stored


# --- saving an application (both kinds) ---------------------------------------------------------------

def _for_update(model, application_id: int):
    """The application row, locked for the rest of the transaction (404 when there is none)."""
    app = db.session.scalar(select(model).where(model.id == application_id).with_for_update()
                            .execution_options(populate_existing=True))
    if app is None:
        raise NotFound("No such application.")
    return app


def _by_token(model, token: str | None, enterprise_id: int):
    if not token:
        return None
    existing = db.session.scalar(select(model).where(model.client_token == token))
    if existing is not None and existing.enterprise_id != enterprise_id:
        raise Conflict("This form was already used. Reload the page and try again.")
    return existing


def _to_save(actor: Actor, model, org: Organisation, application_id: int | None, client_token: str | None):
    """``(application, repeated)`` for a save.  Creating: ``(None, the application this form's token
    already created, if any)``.  Changing: the application locked, which must be the actor's own
    enterprise's (403) and still a draft or returned (409); ``repeated`` is None."""
    if application_id is None:
        return None, _by_token(model, client_token, org.id)
    app = _for_update(model, application_id)
    ensure_own_organisation(actor, app.enterprise_id)
    if app.status not in EDITABLE_STATES:
        raise TransitionNotAllowed("Only a draft or a returned application can be changed.")
    return app, None


def _start_save(actor: Actor, model, app, programme: Programme, org: Organisation, client_token: str | None,
                rows: str):
    """A new draft added to the session, or ``app`` moved to ``programme`` with its rows (``rows``)
    deleted and flushed, so that the rows saved next (and their unique keys) replace them."""
    if app is None:
        app = model(programme_id=programme.id, enterprise_id=org.id, status="draft",
                    client_token=client_token or None, created_by=actor.user_id)
        db.session.add(app)
    else:
        app.programme_id = programme.id
        getattr(app, rows).clear()
        db.session.flush()
    return app


def _audit_save(actor: Actor, source_type: str, app, before: dict | None, after: dict) -> None:
    """The audit event of a save: ``<source>.created`` (no ``before``) or ``<source>.updated``."""
    record_event(actor, f"{source_type}.{'created' if before is None else 'updated'}", source_type, app.id,
                 before=before, after=after)


# --- loan applications ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodInput:
    start: date | None
    end: date | None
    outstanding_principal: Decimal | None
    interest_paid: Decimal | None


@dataclass(frozen=True)
class LoanInput:
    programme_id: int | None
    bank_name: str
    contract_no: str
    contract_date: date | None
    principal: Decimal | None
    loan_rate: Decimal | None
    term_start: date | None
    term_end: date | None
    periods: tuple[PeriodInput, ...]


def _text(value: str | None) -> str:
    return (value or "").strip()


def _collect(problems: list, func, *args):
    """Call ``func``; a validation refusal becomes one more field problem instead of stopping."""
    try:
        return func(*args)
    except ValidationFailed as err:
        if isinstance(err, InputRefused):
            problems.extend(err.problems)
        else:
            problems.append((err.field or next(iter(err.fields), ""), err.message, err.params))
        return None


def _money_ok(value) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value == value.quantize(Decimal("0.01"))


def _check_loan_input(data: LoanInput, today: date) -> list[tuple[str, str, dict]]:
    problems: list[tuple[str, str, dict]] = []
    if not _text(data.bank_name):
        problems.append(("bank_name", N_("Enter the lending bank."), {}))
    elif len(_text(data.bank_name)) > 200:
        problems.append(("bank_name", N_("At most 200 characters."), {}))
    if not _text(data.contract_no):
        problems.append(("contract_no", N_("Enter the loan contract number."), {}))
    elif len(_text(data.contract_no)) > 64 or len(_contract_key(data.contract_no)) > 64:
        problems.append(("contract_no", N_("At most 64 characters."), {}))
    if data.contract_date is None:
        problems.append(("contract_date", N_("Enter the loan contract date."), {}))
    elif data.contract_date > today:
        problems.append(("contract_date", N_("The contract date cannot be in the future."), {}))
    elif data.contract_date < EARLIEST_DATE:
        problems.append(("contract_date", N_("The contract date cannot be before %(day)s."),
                         {"day": EARLIEST_DATE.isoformat()}))
    if not _money_ok(data.principal) or data.principal <= 0 or data.principal > MAX_AMOUNT:
        problems.append(("principal", N_("Enter the loan principal in yuan, more than zero, with at most two decimals."), {}))
    if not isinstance(data.loan_rate, Decimal) or not data.loan_rate.is_finite() or not (0 < data.loan_rate <= HUNDRED) \
            or data.loan_rate != data.loan_rate.quantize(Decimal("0.01")):
        problems.append(("loan_rate", N_("Enter the loan's annual rate in percent, above 0 and at most 100, with at most "
                                      "two decimals."), {}))
    if data.term_start is None:
        problems.append(("term_start", N_("Enter the first day of the loan term."), {}))
    if data.term_end is None:
        problems.append(("term_end", N_("Enter the last day of the loan term."), {}))
    if data.term_start and data.term_end and data.term_end <= data.term_start:
        problems.append(("term_end", N_("The loan term must end after it starts."), {}))
    if data.term_start and data.contract_date and data.term_start < data.contract_date:
        problems.append(("term_start", N_("The loan term cannot start before the contract date (%(day)s)."),
                         {"day": data.contract_date.isoformat()}))

    periods = list(data.periods)
    if not periods:
        problems.append(("periods", N_("Enter at least one interest period."), {}))
    if len(periods) > MAX_PERIODS:
        problems.append(("periods", N_("At most %(max)s interest periods per application."), {"max": MAX_PERIODS}))
    complete = []
    for i, p in enumerate(periods):
        prefix = f"periods.{i}"
        row_ok = True
        for name, message in (("start", N_("Enter the first day of the period.")),
                              ("end", N_("Enter the end day of the period.")),
                              ("outstanding_principal", N_("Enter the outstanding principal.")),
                              ("interest_paid", N_("Enter the interest actually paid."))):
            if getattr(p, name) is None:
                problems.append((f"{prefix}.{name}", message, {}))
                row_ok = False
        for name in ("outstanding_principal", "interest_paid"):
            value = getattr(p, name)
            if value is not None and (not _money_ok(value) or value < 0 or value > MAX_AMOUNT):
                problems.append((f"{prefix}.{name}", N_("Enter an amount in yuan, not negative, with at most two decimals."), {}))
                row_ok = False
        if p.start and p.end and p.end <= p.start:
            problems.append((f"{prefix}.end", N_("The end date must be after the start date (%(start)s)."),
                             {"start": p.start.isoformat()}))
            row_ok = False
        if p.end and p.end > today:
            problems.append((f"{prefix}.end", N_("Claim only periods that have ended (the end is in the future)."), {}))
            row_ok = False
        if row_ok and data.term_start and data.term_end and (p.start < data.term_start or p.end > data.term_end):
            problems.append((f"{prefix}.start", N_("The period must lie within the loan term (%(start)s to %(end)s)."),
                             {"start": data.term_start.isoformat(), "end": data.term_end.isoformat()}))
        if row_ok and _money_ok(data.principal) and p.outstanding_principal > data.principal:
            problems.append((f"{prefix}.outstanding_principal",
                             N_("The outstanding principal cannot exceed the loan principal (%(principal)s)."),
                             {"principal": format_money(data.principal)}))
        if row_ok:
            complete.append((i, p))
    ordered = sorted(complete, key=lambda ip: ip[1].start)
    for (i, a), (j, b) in zip(ordered, ordered[1:]):
        if b.start < a.end:
            problems.append((f"periods.{j}.start", N_("This period overlaps period %(other)s: each day is claimed once."),
                             {"other": i + 1}))
    return problems


def _contract_key(contract_no: str) -> str:
    return normalise_identifier(contract_no)


def _check_loan_overlap(enterprise_id: int, contract_no: str, periods: Sequence[PeriodInput],
                        exclude_id: int | None) -> list[tuple[str, str, dict]]:
    """The same loan's days may not be claimed in two live applications."""
    stmt = (select(LoanApplication.id, LoanApplication.number, LoanApplication.contract_no, LoanInterestPeriod.start_date,
                   LoanInterestPeriod.end_date)
            .join(LoanInterestPeriod, LoanInterestPeriod.application_id == LoanApplication.id)
            .where(LoanApplication.enterprise_id == enterprise_id,
                   LoanApplication.status.notin_(("withdrawn", "rejected"))))
    if exclude_id is not None:
        stmt = stmt.where(LoanApplication.id != exclude_id)
    # Compared by the stored normalised key (indexed): "WZ–2025–0001" and "ｗｚ-2025-0001" are one loan.
    # Not a UNIQUE constraint (one contract has a claim per run of periods): the overlapping-period
    # check per enterprise is this one, run under the enterprise's row lock the save takes, so two
    # saves for one enterprise cannot both pass it.
    stmt = stmt.where(LoanApplication.contract_key == _contract_key(contract_no))
    problems = []
    claimed = list(db.session.execute(stmt))
    for i, p in enumerate(periods):
        for row in claimed:
            if p.start < row.end_date and row.start_date < p.end:
                problems.append((f"periods.{i}.start", N_("Days of this period (%(start)s to %(end)s) are already claimed "
                                 "for this loan contract in your application no. %(other)s."),
                                 {"start": row.start_date.isoformat(), "end": row.end_date.isoformat(),
                                  "other": row.number or row.id}))
                break
    return problems


@dataclass(frozen=True)
class LoanPreview:
    benchmark: LprRate
    params: LoanParams
    result: LoanDiscountResult


def principal_already_subsidised(enterprise_id: int, exclude_id: int | None = None) -> list[PrincipalUse]:
    """What the enterprise already receives the loan discount on, by day: the periods (or their
    stored day segments) of its approved loan applications, in every programme and for every
    contract.

    Rule (domain §10): claims are served in the order approved, so only approved claims count
    (a cancelled one gave its reservation back; submitted ones are not served yet).
    """
    stmt = (select(LoanInterestPeriod.start_date, LoanInterestPeriod.end_date, LoanInterestPeriod.eligible_principal,
                   LoanInterestPeriod.segments)
            .join(LoanApplication, LoanApplication.id == LoanInterestPeriod.application_id)
            .where(LoanApplication.enterprise_id == enterprise_id, LoanApplication.status == "approved"))
    if exclude_id is not None:
        stmt = stmt.where(LoanApplication.id != exclude_id)
    uses = []
    for start, end, principal, segments in db.session.execute(stmt):
        if segments:
            uses += [PrincipalUse(date.fromisoformat(a), date.fromisoformat(b), Decimal(v)) for a, b, v in segments]
        else:
            uses.append(PrincipalUse(start, end, principal))
    return [u for u in uses if u.principal > 0]


def _segments_json(result) -> list | None:
    return [[x.start.isoformat(), x.end.isoformat(), format(x.principal, "f")] for x in result.segments] or None


def compute_loan(data: LoanInput, programme: Programme, already: Sequence[PrincipalUse] = ()) -> LoanPreview:
    """The discount an application would get: benchmark from the LPR table, the programme's parameters,
    on what remains of the enterprise's daily principal cap after ``already`` (its approved claims).

    Rule: a loan above the ceiling is refused on ``loan_rate`` with the ceiling in the message.
    """
    benchmark = lpr_in_force(data.contract_date)
    params, _ = params_for(programme)
    periods = [InterestPeriod(p.start, p.end, p.outstanding_principal, p.interest_paid) for p in data.periods]
    result = calculate_loan(benchmark.rate_pct, data.loan_rate, periods, params, already_subsidised=already)
    if not result.eligible:
        raise ceiling_refusal(benchmark, benchmark.rate_pct, data.loan_rate, result.rate_ceiling, params)
    return LoanPreview(benchmark, params, result)


def save_loan_application(actor: Actor, data: LoanInput, *, plan: Upload | None, statement: Upload | None,
                          max_bytes: int, application_id: int | None = None,
                          client_token: str | None = None, today: date | None = None) -> LoanApplication:
    """Create (or, while a draft or returned, change) the enterprise's loan-discount application.

    Rule: the SME's own registered enterprise; an open programme that funds loan discounts;
    complete and consistent loan data (periods inside the term, not overlapping each other nor
    periods of the same contract claimed in another live application); the benchmark is the LPR
    in force on the contract date; a rate above the ceiling, a nil discount, a missing or
    non-PDF/JPEG/PNG plan or interest statement is refused before anything is saved.  The
    computed discount, working and parameters are stored; a repeated form (same token) creates
    nothing new.  Contract numbers are compared normalised (one loan under any spelling); on days
    the enterprise's approved claims use part of the principal cap, only what remains is discounted.
    """
    today = today or local_today()
    org = enterprise_of(actor)
    # One loan save or approval per enterprise at a time (the enterprise's row lock): the overlap
    # check by contract key and the principal already subsidised read below hold against a
    # concurrent save or approval.  Lock order: a changed application's own row first, then the
    # enterprise's (as approval takes them); a new one has no row yet, so the lock comes before
    # the token lookup and a repeated form waits for, and finds, the first.
    if application_id is None:
        _lock_enterprise(org.id)
    app, repeated = _to_save(actor, LoanApplication, org, application_id, client_token)
    if repeated is not None:
        return repeated
    if application_id is not None:
        _lock_enterprise(org.id)
    problems = _check_loan_input(data, today)
    programme = _collect(problems, _programme_for_application, data.programme_id, "loan_discount", today)
    if data.contract_date is not None and not any(f in ("contract_date", "loan_rate") for f, _, _ in problems):
        # Refused at once, whatever else is wrong: the ceiling is the first thing an enterprise must know.
        _collect(problems, check_loan_rate, data.contract_date, data.loan_rate, programme)
    _check_upload(plan, "plan_file", app is None or app.plan_file_id is None, max_bytes, problems,
                  _formats("loan_discount", "plan_file")[1])
    _check_upload(statement, "statement_file", app is None or app.statement_file_id is None, max_bytes, problems,
                  _formats("loan_discount", "statement_file")[1])
    if problems:
        raise InputRefused(problems)
    # The figure shown to the applicant: on what remains of the enterprise's daily principal cap
    # after its approved claims; rechecked at approval (served in the order approved).
    preview = compute_loan(data, programme, principal_already_subsidised(org.id, app.id if app else None))
    result = preview.result
    if result.total_discount <= 0:
        raise ValidationFailed("The computed discount is %(total)s: there is nothing to claim.", field="periods",
                               total=format_money(result.total_discount))
    problems = _check_loan_overlap(org.id, data.contract_no, data.periods, app.id if app else None)
    if problems:
        raise InputRefused(problems)

    before = None if app is None else _loan_snapshot(app)
    app = _start_save(actor, LoanApplication, app, programme, org, client_token, "periods")
    app.bank_name = _text(data.bank_name)
    app.contract_no = _text(data.contract_no)  # sets contract_key (the model's validator)
    app.contract_date = data.contract_date
    app.principal = data.principal
    app.loan_rate = data.loan_rate
    app.term_start = data.term_start
    app.term_end = data.term_end
    app.benchmark_rate = preview.benchmark.rate_pct
    app.benchmark_effective_from = preview.benchmark.effective_from
    app.rate_ceiling = fmt_pct(result.rate_ceiling, 2, 6)
    app.computed_discount = result.total_discount
    app.working = working_json(result.working)
    app.params = loan_params_json(preview.params)
    for i, (p, r) in enumerate(zip(data.periods, result.periods)):
        app.periods.append(LoanInterestPeriod(position=i, start_date=p.start, end_date=p.end,
                                              outstanding_principal=r.outstanding_principal,
                                              interest_paid=r.interest_paid, days=r.days,
                                              eligible_principal=r.eligible_principal, discount=r.discount,
                                              capped_by_interest_paid=r.capped_by_interest_paid,
                                              segments=_segments_json(r)))
    db.session.flush()
    if plan is not None:
        app.plan_file_id = _store(actor, plan, owner_type=LOAN_SOURCE, owner_id=app.id, purpose="loan_plan",
                                  field="plan_file", max_bytes=max_bytes,
                                  **_material_kwargs("loan_discount", "plan_file")).id
    if statement is not None:
        app.statement_file_id = _store(actor, statement, owner_type=LOAN_SOURCE, owner_id=app.id,
                                       purpose="loan_interest_statement", field="statement_file",
                                       max_bytes=max_bytes,
                                       **_material_kwargs("loan_discount", "statement_file")).id
    db.session.flush()
    _audit_save(actor, LOAN_SOURCE, app, before, _loan_snapshot(app))
    return app


def _loan_snapshot(app: LoanApplication) -> dict:
    return {"programme_id": app.programme_id, "bank_name": app.bank_name, "contract_no": app.contract_no,
            "contract_date": app.contract_date, "principal": app.principal, "loan_rate": app.loan_rate,
            "term": [app.term_start, app.term_end], "benchmark_rate": app.benchmark_rate,
            "rate_ceiling": app.rate_ceiling, "computed_discount": app.computed_discount,
            "periods": [[p.start_date, p.end_date, p.outstanding_principal, p.interest_paid, p.discount]
                        for p in app.periods],
            "plan_file_id": app.plan_file_id, "statement_file_id": app.statement_file_id}


def get_loan_application(actor: Actor, application_id: int) -> LoanApplication:
    """A loan application the actor may read. Rule: the enterprise's own users and bureau roles; others 403."""
    return get_application(actor, "loan", application_id)


# --- robot applications ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RobotLineInput:
    model: str
    manufacturer: str
    domestic: bool
    quantity: int | None
    unit_price_excl_vat: Decimal | None
    invoice_no: str
    invoice_date: date | None
    invoice_file: Upload | None = None


@dataclass(frozen=True)
class RobotInput:
    programme_id: int | None
    lines: tuple[RobotLineInput, ...]


def _check_robot_lines(lines: Sequence[RobotLineInput], today: date) -> list[tuple[str, str, dict]]:
    problems: list[tuple[str, str, dict]] = []
    if not lines:
        problems.append(("lines", N_("Enter at least one robot line."), {}))
    if len(lines) > MAX_LINES:
        problems.append(("lines", N_("At most %(max)s robot lines per application."), {"max": MAX_LINES}))
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        prefix = f"lines.{i}"
        for name, limit, message in (("model", 120, N_("Enter the robot model.")),
                                     ("manufacturer", 200, N_("Enter the manufacturer.")),
                                     ("invoice_no", 64, N_("Enter the invoice number."))):
            value = _text(getattr(line, name))
            if not value:
                problems.append((f"{prefix}.{name}", message, {}))
            elif len(value) > limit:
                problems.append((f"{prefix}.{name}", N_("At most %(max)s characters."), {"max": limit}))
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or not (1 <= line.quantity <= 10000):
            problems.append((f"{prefix}.quantity", N_("Enter the number of robots, from 1 to 10000."), {}))
        price = line.unit_price_excl_vat
        if not _money_ok(price) or price <= 0 or price > MAX_AMOUNT:
            problems.append((f"{prefix}.unit_price_excl_vat",
                             N_("Enter the unit price excluding VAT in yuan, more than zero, with at most two decimals."), {}))
        if line.invoice_date is None:
            problems.append((f"{prefix}.invoice_date", N_("Enter the invoice date."), {}))
        elif line.invoice_date > today:
            problems.append((f"{prefix}.invoice_date", N_("The invoice date cannot be in the future."), {}))
        elif line.invoice_date < EARLIEST_DATE:
            problems.append((f"{prefix}.invoice_date", N_("The invoice date cannot be before %(day)s."),
                             {"day": EARLIEST_DATE.isoformat()}))
        key = invoice_key(line.invoice_no or "")
        if key and len(_text(line.invoice_no)) <= 64 and not invoice_shape_ok(line.invoice_no):
            problems.append((f"{prefix}.invoice_no", N_("Line %(line)s: %(invoice)s is not a VAT invoice number. Enter "
                             "the invoice code (10 or 12 digits) followed by the 8-digit invoice number, or the "
                             "20-digit number of a fully digital invoice (数电票)."),
                             {"line": i + 1, "invoice": _text(line.invoice_no)}))
        elif key:
            if key in seen:
                problems.append((f"{prefix}.invoice_no", N_("Line %(line)s repeats the invoice number of line %(first)s: "
                                 "an invoice can be claimed only once."), {"line": i + 1, "first": seen[key] + 1}))
            else:
                seen[key] = i
    return problems


def _check_invoices_unclaimed(lines: Sequence[RobotLineInput], enterprise_id: int,
                              exclude_application_id: int | None) -> list[tuple[str, str, dict]]:
    """Invoice numbers already claimed in any other application (system-wide) are refused, naming the line."""
    keys = {invoice_key(line.invoice_no): i for i, line in enumerate(lines) if _text(line.invoice_no)}
    if not keys:
        return []
    stmt = (select(RobotLineItem.invoice_key, RobotApplication.number, RobotApplication.enterprise_id)
            .join(RobotApplication, RobotApplication.id == RobotLineItem.application_id)
            .where(RobotLineItem.invoice_key.in_(list(keys))))
    if exclude_application_id is not None:
        stmt = stmt.where(RobotLineItem.application_id != exclude_application_id)
    problems = []
    for key, other_id, other_enterprise in db.session.execute(stmt):
        i = keys[key]
        if other_enterprise == enterprise_id:
            problems.append((f"lines.{i}.invoice_no", N_("Line %(line)s: invoice %(invoice)s is already claimed in your "
                             "application no. %(other)s."),
                             {"line": i + 1, "invoice": _text(lines[i].invoice_no), "other": other_id}))
        else:
            # Deliberately names no other enterprise: its data stays private.
            problems.append((f"lines.{i}.invoice_no", N_("Line %(line)s: invoice %(invoice)s is already claimed in "
                             "another application. An invoice can be claimed only once."),
                             {"line": i + 1, "invoice": _text(lines[i].invoice_no)}))
    return problems


@dataclass(frozen=True)
class RobotPreview:
    params: RobotParams
    pilot_industry: bool
    already_granted: Decimal
    result: RobotSubsidyResult


def compute_robot(lines: Sequence[RobotLineInput], programme: Programme, org: Organisation) -> RobotPreview:
    """The subsidy an application would get: pilot tier from the enterprise's industry, the
    enterprise cap less what the ledger already commits to its robot subsidies in the programme."""
    _, params = params_for(programme)
    pilot = org.enterprise.industry in (programme.pilot_industries or [])
    already = programmes.enterprise_committed(programme.id, org.id, "robot_subsidy")
    calc_lines = [RobotLine(_text(x.model), _text(x.manufacturer), bool(x.domestic), x.quantity, x.unit_price_excl_vat,
                            _text(x.invoice_no), x.invoice_date) for x in lines]
    result = calculate_robot(calc_lines, pilot, already, params)
    return RobotPreview(params, pilot, already, result)


def save_robot_application(actor: Actor, data: RobotInput, *, max_bytes: int,
                           application_id: int | None = None, client_token: str | None = None,
                           today: date | None = None) -> RobotApplication:
    """Create (or, while a draft or returned, change) the enterprise's robot-subsidy application.

    Rule: the SME's own registered enterprise; an open programme that funds robot subsidies;
    complete lines with an invoice upload each (PDF/JPEG/PNG); an invoice number claimed twice
    in the application or already claimed in any other application is refused naming the line;
    the subsidy is computed with the enterprise cap less what it already has committed; a nil
    subsidy is refused.  Nothing is saved when refused; a repeated form creates nothing new.
    """
    today = today or local_today()
    org = enterprise_of(actor)
    app, repeated = _to_save(actor, RobotApplication, org, application_id, client_token)
    if repeated is not None:
        return repeated
    lines = list(data.lines)
    problems = _check_robot_lines(lines, today)
    programme = _collect(problems, _programme_for_application, data.programme_id, "robot_subsidy", today)
    problems += _check_invoices_unclaimed(lines, org.id, app.id if app else None)
    old_files = {}
    if app is not None:
        old_files = {invoice_key(line.invoice_no): line.invoice_file_id for line in app.lines}
    for i, line in enumerate(lines):
        has_old = bool(old_files.get(invoice_key(line.invoice_no or "")))
        _check_upload(line.invoice_file, f"lines.{i}.invoice_file", not has_old, max_bytes, problems,
                      _formats("robot_subsidy", "invoice_file")[1])
    if problems:
        raise InputRefused(problems)
    preview = compute_robot(lines, programme, org)
    result = preview.result
    if result.total_subsidy <= 0:
        raise OverCap("Nothing can be granted: the enterprise's robot-subsidy cap of %(cap)s in this programme is "
                      "used up (%(used)s already committed).", field="lines",
                      cap=format_money(preview.params.enterprise_cap), used=format_money(preview.already_granted))

    before = None if app is None else _robot_snapshot(app)
    app = _start_save(actor, RobotApplication, app, programme, org, client_token, "lines")  # old invoice keys gone
    app.pilot_industry = preview.pilot_industry
    app.industry = org.enterprise.industry
    app.already_granted = preview.already_granted
    app.uncapped_total = result.uncapped_total
    app.computed_subsidy = result.total_subsidy
    app.cap_applied = result.cap_applied
    app.working = working_json(result.working)
    app.params = robot_params_json(preview.params)
    db.session.flush()
    try:
        with db.session.begin_nested():
            for i, (line, r) in enumerate(zip(lines, result.lines)):
                file_id = old_files.get(invoice_key(line.invoice_no))
                if line.invoice_file is not None:
                    file_id = _store(actor, line.invoice_file, owner_type=ROBOT_SOURCE, owner_id=app.id,
                                     purpose="robot_invoice", field=f"lines.{i}.invoice_file",
                                     max_bytes=max_bytes,
                                     **_material_kwargs("robot_subsidy", "invoice_file")).id
                app.lines.append(RobotLineItem(
                    position=i, model=_text(line.model), manufacturer=_text(line.manufacturer),
                    domestic=bool(line.domestic), quantity=line.quantity, unit_price_excl_vat=line.unit_price_excl_vat,
                    invoice_no=_text(line.invoice_no), invoice_key=invoice_key(line.invoice_no),
                    invoice_date=line.invoice_date, invoice_file_id=file_id, rate=r.rate,
                    eligible_cost=r.eligible_cost, subsidy=r.subsidy, granted=r.granted))
            db.session.flush()
    except IntegrityError as exc:
        if "invoice_key" not in str(exc.orig).lower():
            raise
        # Another application claimed one of these invoices after the check above.
        with db.session.no_autoflush:
            again = _check_invoices_unclaimed(lines, org.id, app.id)
        raise InputRefused(again or
                           [("lines", N_("An invoice number of these lines was just claimed in another application."), {})]) \
            from None
    _audit_save(actor, ROBOT_SOURCE, app, before, _robot_snapshot(app))
    return app


def _robot_snapshot(app: RobotApplication) -> dict:
    return {"programme_id": app.programme_id, "pilot_industry": app.pilot_industry,
            "already_granted": app.already_granted, "uncapped_total": app.uncapped_total,
            "computed_subsidy": app.computed_subsidy, "cap_applied": app.cap_applied,
            "lines": [[x.model, x.manufacturer, x.domestic, x.quantity, x.unit_price_excl_vat, x.invoice_no,
                       x.invoice_date, x.rate, x.subsidy, x.granted, x.invoice_file_id] for x in app.lines]}


def get_robot_application(actor: Actor, application_id: int) -> RobotApplication:
    """A robot application the actor may read. Rule: the enterprise's own users and bureau roles; others 403."""
    return get_application(actor, "robot", application_id)


def get_application(actor: Actor, kind: str, application_id: int):
    """An application of either kind the actor may read. Rule: the enterprise's own users and bureau
    roles; others 403; an unknown kind or id is not found."""
    if kind not in KINDS:
        raise NotFound("No such application.")
    app = db.session.get(KINDS[kind].model, application_id)
    if app is None:
        raise NotFound("No such application.")
    require(actor, "subsidies.read", app, message="You may not see this.")
    return app


# --- review: submit, withdraw, approve, reject, return --------------------------------------------------

_NOTICES = {
    ("loan", "approve"): N_("Your loan interest discount application no. %(id)s was approved: %(amount)s is reserved "
                         "for your enterprise. Payment follows the public notice."),
    ("loan", "reject"): N_("Your loan interest discount application no. %(id)s was rejected: %(reason)s"),
    ("loan", "return"): N_("Your loan interest discount application no. %(id)s was returned for revision: %(reason)s"),
    ("robot", "approve"): N_("Your robot purchase subsidy application no. %(id)s was approved: %(amount)s is reserved "
                          "for your enterprise. Payment follows the public notice."),
    ("robot", "reject"): N_("Your robot purchase subsidy application no. %(id)s was rejected: %(reason)s"),
    ("robot", "return"): N_("Your robot purchase subsidy application no. %(id)s was returned for revision: %(reason)s"),
}
_SUBMITTED_NOTICE = {
    "loan": N_("Loan interest discount application no. %(id)s from %(enterprise)s is waiting for review."),
    "robot": N_("Robot purchase subsidy application no. %(id)s from %(enterprise)s is waiting for review."),
}


def detail_path(kind: str, application_id: int) -> str:
    return f"/subsidies/{KINDS[kind].path}/{application_id}"


def _locked(kind: str, application_id: int):
    return _for_update(KINDS[kind].model, application_id)


def _precheck(k: _Kind, app, action: str, actor: Actor) -> None:
    """The state machine's own checks, before any ledger write (409 for the state, 403 for the role)."""
    t = k.machine.find(app.status, action)
    if t is None:
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action=action, state=app.status)
    if actor.role not in t.roles:
        raise Forbidden("Your role may not %(action)s this item.", action=action)


def act(actor: Actor, kind: str, application_id: int, action: str, reason: str | None = None,
        today: date | None = None):
    """Move an application through its review.

    Rule: the enterprise's own SME users submit (drafts and returned ones, while the programme's
    window is open) and withdraw (a withdrawn robot application gives its invoices back); only
    officers approve, reject (with a reason) or return (with a comment).  Approval reserves the
    computed amount in the fund ledger under the programme lock — refused with the figures when
    the budget or the enterprise's cap is short (a robot subsidy is cut to what remains of the
    cap) — and each decision notifies the enterprise.  ``cancel`` is :func:`cancel_grant`.
    """
    if kind not in KINDS:
        raise NotFound("No such application.")
    if action == "cancel":  # never a bare state change: the reservation must go back with it
        return cancel_grant(actor, kind, application_id, reason)
    k = KINDS[kind]
    app = _locked(kind, application_id)
    if can(actor, "subsidies.file"):
        require(actor, "subsidies.file", app, message="This belongs to another organisation.")
    elif not can(actor, "subsidies.decide"):
        ensure_can_read(actor, app.enterprise_id)
    _precheck(k, app, action, actor)
    today = today or local_today()
    details: dict[str, Any] = {}
    amount_field = k.amount_field

    if action == "submit":
        programme = programmes.get_programme(app.programme_id)
        if not programme.is_open_on(today):
            raise ValidationFailed("The programme's application window is %(opens)s to %(closes)s; it is not open "
                                   "today.", opens=programme.opens_on.isoformat(), closes=programme.closes_on.isoformat())
        if kind == "loan" and app.periods:
            # Fixed again at submission: approvals since the save may have used the enterprise's cap.
            _fix_loan_figures(app, recompute_loan(app))
        if getattr(app, amount_field) <= 0:
            raise ValidationFailed("There is nothing to claim in this application.")
        ensure_complete(checklist(kind, app), materials_by_code(kind, app.id))
        app.submitted_at = utcnow()
        details["amount"] = getattr(app, amount_field)
    elif action == "approve":
        computed = getattr(app, amount_field)
        amount = _approval_amount(kind, app)
        if programmes.source_outstanding(k.source_type, app.id) > 0:
            raise Conflict("An amount is already reserved for this application.")
        programmes.reserve(actor, app.programme_id, funding_kind=k.funding_kind, amount=amount,
                           enterprise_id=app.enterprise_id, source_type=k.source_type, source_id=app.id,
                           note=f"{k.source_type} {app.id}")
        app.approved_amount = amount
        app.decided_at = utcnow()
        details.update(amount=amount, computed=computed)
    elif action in ("reject", "return"):
        app.decided_at = utcnow()
    elif action == "withdraw" and kind == "robot":
        for line in app.lines:
            line.invoice_key = None  # the invoices may be claimed again
    event = k.machine.apply(app, action, actor, reason=reason, details=details)
    if action in ("reject", "return"):
        app.decision_reason = event.reason

    if action == "submit":
        notify_role("officer", _SUBMITTED_NOTICE[kind], detail_path(kind, app.id), id=app.number,
                    enterprise=app.enterprise.name)
    elif (kind, action) in _NOTICES:
        notify_organisation(app.enterprise_id, _NOTICES[(kind, action)], detail_path(kind, app.id), id=app.number,
                            amount=format_money(app.approved_amount), reason=app.decision_reason or "")
    db.session.flush()
    return app


REASON_MAX = 2000
_CANCEL_NOTICES = {
    "loan": N_("The approval of your loan interest discount application no. %(id)s was cancelled and the %(amount)s "
               "reserved for it returned to the fund; it will not be paid. Reason: %(reason)s"),
    "robot": N_("The approval of your robot purchase subsidy application no. %(id)s was cancelled and the %(amount)s "
                "reserved for it returned to the fund; it will not be paid. Its invoices stay claimed. "
                "Reason: %(reason)s"),
}


def cancel_grant(actor: Actor, kind: str, application_id: int, reason: str | None):
    """Cancel an approved loan interest discount or robot purchase subsidy and give its
    reservation back to the fund (used when an officer upholds an objection to its public notice).

    Rule: officers only (403); only an approved grant (409 for any other state); a reason is
    required (at most 2,000 characters).  Refused (``Conflict``, nothing changed) once any of the
    grant has been paid (a ``pay`` entry in the fund ledger) or while a disbursement of it is live
    (prepared, approved, in a batch or paid): finance must reject it, or the bank's failure be
    recorded, first.  Otherwise everything still reserved for the grant is released (ledger
    ``release``), the reason is kept as the decision reason, the state machine moves it to
    ``cancelled`` and writes the audit event (with the amount released), and the enterprise is
    notified.  Lock order as ``applications.services.cancel``: the application row, then the
    programme row (the ledger) — taken before the checks, so a payment cannot slip in between —
    then the application's own changes.  The grant leaves the payment queue (only approved grants
    are payable) and is not announced again.  A cancelled robot application keeps its invoices
    claimed, like a rejected one; a cancelled loan application likewise keeps its interest days
    claimed (a rejected one gives them back): they were granted once, so a new claim for them is
    refused.
    """
    if kind not in KINDS:
        raise NotFound("No such application.")
    k = KINDS[kind]
    require(actor, "subsidies.decide", message="Only a programme officer may cancel a grant.")
    app = _locked(kind, application_id)
    _precheck(k, app, "cancel", actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    programmes.lock_programme(app.programme_id)  # serialises with ledger.pay before the checks below
    paid = programmes.source_paid(k.source_type, app.id)
    if paid > 0:
        raise Conflict("%(amount)s of this grant has already been paid, so it cannot be cancelled.",
                       amount=format_money(paid))
    under_way = payment_under_way(k.source_type, app.id)  # payments answers (voucher.grants)
    if under_way is not None:
        raise Conflict("A payment of this grant is under way (%(reference)s), so it cannot be cancelled. Finance "
                       "must reject that disbursement, or record the bank's failure, first.",
                       reference=under_way)
    entry = programmes.release(actor, k.source_type, app.id, note=f"{k.source_type} {app.id} cancelled")
    released = entry.amount if entry is not None else ZERO
    app.decision_reason = reason
    app.decided_at = utcnow()
    k.machine.apply(app, "cancel", actor, reason=reason, details={"released": released})
    notify_organisation(app.enterprise_id, _CANCEL_NOTICES[kind], detail_path(kind, app.id), id=app.number,
                        amount=format_money(released), reason=reason)
    db.session.flush()
    return app


def robot_cap_left(programme: Programme, enterprise_id: int) -> tuple[Decimal, Decimal]:
    """``(committed, remaining)`` of an enterprise's robot-subsidy cap in a programme.

    Rule: the per-enterprise cap less what the fund ledger already commits to the enterprise's
    robot subsidies in the programme, never below zero.
    """
    committed = programmes.enterprise_committed(programme.id, enterprise_id, "robot_subsidy")
    return committed, max(programme.robot_enterprise_cap - committed, ZERO)


def _lock_enterprise(enterprise_id: int) -> None:
    """The enterprise's row lock for the rest of the transaction (after the application's row, before
    the programme's): what holds the loan rules per enterprise (one contract's days claimed once,
    the principal cap per enterprise and day) against concurrent saves and approvals."""
    db.session.execute(select(Organisation.id).where(Organisation.id == enterprise_id).with_for_update())


def _stored_loan_params(app: LoanApplication) -> LoanParams:
    stored = app.params or {}
    if not all(k in stored for k in ("rate_margin_pct", "subsidy_points", "principal_cap", "day_basis")):
        return params_for(programmes.get_programme(app.programme_id))[0]
    return LoanParams(rate_margin_pct=Decimal(stored["rate_margin_pct"]), subsidy_points=Decimal(stored["subsidy_points"]),
                      principal_cap=Decimal(stored["principal_cap"]), day_basis=int(stored["day_basis"]))


def recompute_loan(app: LoanApplication) -> LoanDiscountResult:
    """The application's discount with its stored figures and parameters, on what remains of the
    enterprise's daily principal cap after its other approved claims now."""
    periods = [InterestPeriod(p.start_date, p.end_date, p.outstanding_principal, p.interest_paid) for p in app.periods]
    return calculate_loan(app.benchmark_rate, app.loan_rate, periods, _stored_loan_params(app),
                          already_subsidised=principal_already_subsidised(app.enterprise_id, app.id))


def _fix_loan_figures(app: LoanApplication, result: LoanDiscountResult) -> None:
    """Store a recomputed discount on the application (periods, working) when it changed."""
    if result.total_discount == app.computed_discount and all(
            row.eligible_principal == r.eligible_principal and row.segments == _segments_json(r)
            for row, r in zip(app.periods, result.periods)):
        return
    app.computed_discount = result.total_discount
    app.working = working_json(result.working)
    for row, r in zip(app.periods, result.periods):
        row.eligible_principal = r.eligible_principal
        row.discount = r.discount
        row.capped_by_interest_paid = r.capped_by_interest_paid
        row.segments = _segments_json(r)


def _loan_approval_amount(app: LoanApplication) -> Decimal:
    """Approval fixes the discount in the order approved (domain §10): under the enterprise's row
    lock — taken after the application's row, before the programme's (the ledger) — the discount is
    computed again on what remains of the enterprise's daily principal cap after its approved
    claims, so two approvals at once cannot both take the whole cap (the second waits for the
    first's commit, then reads it).  A changed figure replaces the stored one, with its working."""
    _lock_enterprise(app.enterprise_id)
    if not app.periods:  # no periods stored (not made by the application form): nothing to recheck by day
        return app.computed_discount
    result = recompute_loan(app)
    if result.total_discount <= 0:
        raise OverCap("The enterprise's loan principal cap of %(cap)s a day is used up on the days of this claim by "
                      "its earlier approved claims: nothing can be approved.", field="amount",
                      cap=format_money(_stored_loan_params(app).principal_cap))
    _fix_loan_figures(app, result)
    return result.total_discount


def _approval_amount(kind: str, app) -> Decimal:
    """What approval reserves: the discount on what remains of the enterprise's daily principal cap;
    for robots, the computed subsidy cut to what remains of the enterprise's cap now (other robot
    subsidies may have been approved since)."""
    if kind == "loan":
        return _loan_approval_amount(app)
    programme = programmes.lock_programme(app.programme_id)
    committed, remaining = robot_cap_left(programme, app.enterprise_id)
    if remaining <= 0:
        raise OverCap("The enterprise's robot-subsidy cap of %(cap)s in this programme is used up (%(used)s already "
                      "committed): nothing can be approved.", field="amount",
                      cap=format_money(programme.robot_enterprise_cap), used=format_money(committed))
    return min(app.computed_subsidy, remaining)


def approval_preview(kind: str, app) -> dict:
    """For the officer's page: what approval would reserve now and what the fund has available."""
    programme = programmes.get_programme(app.programme_id)
    bal = programmes.balances(programme)
    out = {"available": bal.available, "budget": bal.budget, "amount": None, "cap_remaining": None}
    if kind == "loan":
        out["amount"] = (recompute_loan(app).total_discount if app.status == "submitted" and app.periods
                         else app.computed_discount)
    else:
        _committed, remaining = robot_cap_left(programme, app.enterprise_id)
        out["cap_remaining"] = remaining
        out["amount"] = min(app.computed_subsidy, remaining)
    return out


def application_file(actor: Actor, kind: str, application_id: int, file_id: int) -> StoredFile:
    """An evidence file of an application. Rule: only who may read the application (its enterprise's
    users, bureau roles) may download; a file of another object is not found."""
    app = get_application(actor, kind, application_id)
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.owner_type != KINDS[kind].source_type or stored.owner_id != app.id:
        raise NotFound("No such file.")
    return stored
