"""Loan interest discounts and robot purchase subsidies: what the two kinds share.

The kinds (``KINDS``) and their one state machine, the programme's parameters, the calculators
with their input errors as domain errors, whose enterprise files, uploads checked before anything
is written, saving a draft, and reading an application.

Rules enforced here (views and the API only parse and render):
- programme parameters reach the calculations through :func:`params_for` only;
- only the enterprise's own SME users file, for a registered small, medium or micro enterprise
  (:func:`enterprise_of`); an application is read only by its enterprise's users and bureau roles
  (:func:`get_application`);
- an application is filed in a programme that funds its kind and whose window is open.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.auth.policy import ensure_own_organisation
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
    loan_discount,
    robot_subsidy,
)
from voucher.db import utcnow
from voucher.documents.models import StoredFile
from voucher.enterprises.models import Organisation
from voucher.errors import (
    N_,
    Conflict,
    Forbidden,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.materials import material as checklist_material
from voucher.programmes import services as programmes
from voucher.programmes.models import Programme
from voucher.storage import DEFAULT_FORMATS, detect_format, format_names, save_upload
from voucher.subsidies.models import (
    APPLICATION_STATES,
    LoanApplication,
    RobotApplication,
)
from voucher.workflow import StateMachine, transition

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("999999999999.99")
MAX_PERIODS = 60
# Invoices and loan contracts older than this are typos (1900 was accepted once), never eligible.
EARLIEST_DATE = date(2000, 1, 1)
# The calculators take no date after this either (a typo such as 0001-01-01 or 9999-12-31 gave a period of
# hundreds of thousands of days).
LATEST_DATE = date(2099, 12, 31)
DATE_RANGE_MESSAGE = N_("Enter a date from %(earliest)s to %(latest)s.")


def date_out_of_range(value: date | None) -> bool:
    """Whether a date a calculator was given lies outside :data:`EARLIEST_DATE`..:data:`LATEST_DATE`."""
    return value is not None and not EARLIEST_DATE <= value <= LATEST_DATE
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

def params_for(programme: Programme | None, day: date | None = None) -> tuple[LoanParams, RobotParams]:
    """The calculation parameters of a programme's rule version in force on ``day`` (today by
    default; the domain defaults without a programme).

    Rule: the calculators, the API and the applications all read the programme's parameters
    through this one function (or :func:`versioned_params`), never the programme's columns;
    nothing is hard-coded in a view.
    """
    if programme is None:
        return LoanParams(), RobotParams()
    _version, loan, robot = versioned_params(programme.id, day)
    return loan, robot


def versioned_params(programme_id: int, day: date | None = None):
    """``(rule version, LoanParams, RobotParams)`` in force on ``day`` (today by default)."""
    version, values = programmes.parameters_on(programme_id, day or local_today())
    loan, robot = params_of(values)
    return version, loan, robot


def application_params(app) -> tuple[LoanParams, RobotParams]:
    """The parameters an application's decision used: its rule version's (else, for a row without
    one, the version in force on the day it was submitted or created)."""
    if app.rule_version_id is not None:
        return params_of(programmes.parse_parameters(programmes.get_version(app.rule_version_id).parameters))
    day = (app.submitted_at or app.created_at or utcnow()).astimezone(ZoneInfo("Asia/Shanghai")).date()
    return versioned_params(app.programme_id, day)[1:]


def params_of(values: dict) -> tuple[LoanParams, RobotParams]:
    """A rule version's parsed parameters as the calculations' parameter classes."""
    loan = LoanParams(rate_margin_pct=values["loan_rate_margin_pct"], subsidy_points=values["loan_subsidy_points"],
                      principal_cap=values["loan_principal_cap"], day_basis=int(values["loan_day_basis"]))
    robot = RobotParams(base_rate=values["robot_base_rate"], domestic_rate=values["robot_domestic_rate"],
                        pilot_domestic_rate=values["robot_pilot_domestic_rate"],
                        enterprise_cap=values["robot_enterprise_cap"])
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


# --- reading and locking an application -----------------------------------------------------------

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


def detail_path(kind: str, application_id: int) -> str:
    return f"/subsidies/{KINDS[kind].path}/{application_id}"


def _locked(kind: str, application_id: int):
    return _for_update(KINDS[kind].model, application_id)
