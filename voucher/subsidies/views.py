"""Pages: public calculators, the LPR table, SME applications and the officers' review.

Over 600 lines, on purpose: one blueprint for both kinds of subsidy (calculators, LPR table,
forms, pages, review queue); the two kinds share every handler through ``_Pages``, so splitting
by kind would duplicate them.  The rules are in the split services (``common``, ``loans``, …).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.access import can
from voucher.audit.labels import event_label
from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import current_actor, roles_required
from voucher.calc import InterestPeriod, RobotLine
from voucher.calc.common import fmt_pct
from voucher.deadlines import deadline_text, review_deadline
from voucher.errors import DomainError, Forbidden, NotFound, ValidationFailed
from voucher.extensions import csrf
from voucher.figures_cache import cached_figure
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.materials import checklist_for, missing_required
from voucher.money import format_money
from voucher.pagination import bounded_int, cursor_arg, page_arg
from voucher.reference import INDUSTRIES, label
from voucher.storage import send_stored
from voucher.subsidies import period_table, queries, services
from voucher.subsidies.access import RULES as ACCESS
from voucher.subsidies.forms import (
    DecisionForm,
    LoanApplicationForm,
    LoanCalculatorForm,
    LprRateForm,
    RobotApplicationForm,
    RobotCalculatorForm,
    filled_rows,
)
from voucher.subsidies.models import APPLICATION_STATES

bp = Blueprint("subsidies", __name__, url_prefix="/subsidies")

KIND_LABELS = {"loan": _l("Loan interest discount"), "robot": _l("Robot purchase subsidy")}
STATUS_LABELS = {
    "draft": _l("Draft (not yet sent)"),
    "submitted": _l("Waiting for the bureau's review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "returned": _l("Returned for revision"),
    "withdrawn": _l("Withdrawn"),
    "cancelled": _l("Grant cancelled"),
}
SME_NEXT_STEPS = {
    "draft": _l("Check the computed amount and the working, then submit the application to the bureau."),
    "submitted": _l("Nothing to do now: the bureau is reviewing your application."),
    "returned": _l("Revise the application as the bureau asks, then submit it again."),
    "approved": _l("The amount is reserved for your enterprise; it is paid after the public notice period."),
    "rejected": _l("The application was rejected; the reason is shown on the application."),
    "withdrawn": _l("You withdrew this application; its invoices and periods may be claimed again."),
    "cancelled": _l("The bureau cancelled this grant after its public notice; it will not be paid. The reason is "
                    "shown on the application."),
}
BUREAU_NEXT_STEPS = {
    "draft": _l("The enterprise has not submitted it yet."),
    "submitted": _l("Review it: approve, return it for revision, or reject it."),
    "returned": _l("Waiting for the enterprise to revise and resubmit."),
    "approved": _l("Approved: the amount is reserved in the fund ledger."),
    "rejected": _l("Rejected."),
    "withdrawn": _l("Withdrawn by the enterprise."),
    "cancelled": _l("Cancelled after approval: the reserved amount went back to the fund and it is not paid."),
}
ACTION_LABELS = {
    "created": _l("Application created"),
    "updated": _l("Application changed"),
    "submit": _l("Submitted to the bureau"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "return": _l("Returned for revision"),
    "withdraw": _l("Withdrawn"),
    "cancel": _l("Grant cancelled, reservation released"),
    "attach": _l("Document attached"),
    "detach": _l("Document removed"),
}
DETAIL = {"loan": "subsidies.loan_detail", "robot": "subsidies.robot_detail"}


@bp.context_processor
def _page_helpers():
    return {"status_label": lambda code: str(STATUS_LABELS.get(code, code)),
            "kind_label": lambda code: str(KIND_LABELS.get(code, code)),
            "statuses": APPLICATION_STATES, "fmt_pct": fmt_pct,
            "period_limits": {"rows": period_table.MAX_ROWS, "kb": period_table.MAX_FILE_BYTES // 1024,
                              "chars": period_table.MAX_TEXT}}


def _page() -> int:
    return page_arg()


def _per_page() -> int:
    return current_app.config["PAGE_SIZE"]


# --- putting service errors on row forms ---------------------------------------------------------

def _resolve(form, name: str, rows: dict):
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in rows and bounded_int(parts[1], minimum=0) is not None:
        index = bounded_int(parts[1], minimum=0)
        if index < len(rows[parts[0]]):
            return getattr(rows[parts[0]][index], parts[2], None)
        return None
    if len(parts) == 1:
        field = getattr(form, name, None)
        return field if hasattr(field, "errors") else None
    return None


def place_errors(err: DomainError, form, rows: dict | None = None) -> None:
    """A refused service call's messages on the (row) fields they name; the rest flashed."""
    messages = err.field_messages(_)
    leftovers = []
    for name, message in messages.items():
        field = _resolve(form, name, rows or {})
        if field is None:
            leftovers.append(message)
        else:
            field.errors = list(field.errors or []) + [message]
    if not messages:
        leftovers.append(err.render(_))
    for message in leftovers:
        flash(message, "danger")


def _has_errors(form) -> bool:
    for field in form:
        if field.type == "FieldList":
            if field.errors and any(isinstance(e, str) for e in field.errors):
                return True
            for entry in field.entries:
                if any(f.errors for f in entry.form):
                    return True
        elif field.errors:
            return True
    return False


def _set_value(field, value) -> None:
    field.data = value
    field.raw_data = [format(value, "f") if value is not None else ""]


def _steps(working) -> list[str]:
    return [services.render_step(s, _) for s in working]


# --- interest periods pasted or uploaded as a table ------------------------------------------------

IMPORT_COLUMN_LABELS = {"start": _l("Period start"), "end": _l("Period end"),
                        "outstanding_principal": _l("Outstanding principal (yuan)"),
                        "interest_paid": _l("Interest paid (yuan)")}


def _import_message(error: period_table.CellError) -> str:
    text = _(error.message, **error.params)
    if error.row is not None and error.column is not None:
        return _("Row %(row)s, column “%(column)s”: %(message)s", row=error.row,
                 column=IMPORT_COLUMN_LABELS[error.column], message=text)
    if error.row is not None:
        return _("Row %(row)s: %(message)s", row=error.row, message=text)
    return text


def _import_periods(form, source, files):
    """Read the pasted text or the uploaded .xlsx into the form's period rows (nothing saved).

    Returns what the page shows: ``{"errors": [...]}`` (every bad cell at once; the rows are left
    as they were) or ``{"rows": [...]}`` (the rows as read, for checking before saving)."""
    upload = files.get("periods_file") if files else None
    if upload is not None and getattr(upload, "filename", ""):
        if not upload.filename.lower().endswith(".xlsx"):
            parsed = period_table.ParsedTable(errors=[period_table.CellError(
                None, None, "This is not an Excel .xlsx file (an old .xls file: save it as .xlsx first).")])
        else:
            parsed = period_table.parse_xlsx(upload.stream)
    elif (source.get("periods_paste") or "").strip():
        parsed = period_table.parse_text(source.get("periods_paste"))
    else:
        return {"errors": [_("Paste the table into the box or choose an .xlsx file first.")]}
    if parsed.errors:
        return {"errors": [_import_message(e) for e in parsed.errors]}
    rows = form.periods
    rows.entries = []
    rows.last_index = -1
    for r in parsed.rows:
        rows.append_entry({"start": r.start, "end": r.end, "outstanding_principal": r.outstanding_principal,
                           "interest_paid": r.interest_paid})
    if len(rows.entries) < rows.max_entries:
        rows.append_entry()
    return {"rows": parsed.rows}


@bp.get("/periods-template.xlsx")
def periods_template():
    """The interest-period table as an empty .xlsx with the headings the import reads (public)."""
    headings = {key: str(label) for key, label in IMPORT_COLUMN_LABELS.items()}
    notes = [_("One row per interest period that has ended, as on the bank's interest statement."),
             _("Dates as YYYY-MM-DD; amounts in yuan (1,200,000.00 or 3500万 are read too)."),
             _("Enter values, not formulas: a formula is refused."),
             _("At most %(max)s rows.", max=period_table.MAX_ROWS)]
    data = period_table.template_xlsx(headings, notes)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=interest-periods.xlsx"})


# --- public calculators ------------------------------------------------------------------------------

def _programme_choices():
    return [("", _("Default parameters of the rules"))] + [
        (p.id, f"{p.name} ({p.year})") for p in services.programmes_for_calculator()]


def _calculator_params(form):
    """(loan, robot) parameters of the programme chosen on a calculator; the rules' defaults when none is found."""
    try:
        return services.params_for(services.find_programme(form.programme_id.data))
    except DomainError:
        return services.params_for(None)


@bp.route("/calculator/loan", methods=["GET", "POST"])
@csrf.exempt  # the POST only reads an uploaded period table into the page: it changes nothing
def calculator_loan():
    """The loan interest-discount calculator (public; changes nothing). GET calculates; a POST
    (multipart, for the file) only reads an uploaded period table into the rows."""
    source = request.form if request.method == "POST" else request.args
    form = LoanCalculatorForm(formdata=source if source else None)
    form.programme_id.choices = _programme_choices()
    action = source.get("action", "calculate")
    result = params = lpr = imported = None
    status = 200
    if request.method == "POST" or action == "import_periods":
        imported = _import_periods(form, source, request.files)
        status = 422 if "errors" in imported else 200
    elif not request.args:
        try:
            lpr = services.lpr_in_force(services.local_today())
            _set_value(form.benchmark_rate, lpr.rate_pct)
        except ValidationFailed:
            pass
    elif action == "add_row":
        form.periods.append_entry()
    elif action == "lookup":
        if form.contract_date.data is None:
            form.contract_date.errors = list(form.contract_date.process_errors) or [
                _("Enter the contract date to look up the LPR in force on it.")]
        else:
            try:
                lpr = services.lpr_in_force(form.contract_date.data)
                _set_value(form.benchmark_rate, lpr.rate_pct)
            except DomainError as err:
                place_errors(err, form)
        status = 422 if form.contract_date.errors else 200
    else:
        valid = form.validate()
        rows = filled_rows(form.periods)
        benchmark = form.benchmark_rate.data
        if valid and benchmark is None:
            if form.contract_date.data is not None:
                try:
                    lpr = services.lpr_in_force(form.contract_date.data)
                    benchmark = lpr.rate_pct
                    _set_value(form.benchmark_rate, benchmark)
                except DomainError as err:
                    place_errors(err, form)
            else:
                form.benchmark_rate.errors = [_("Enter the benchmark rate, or a contract date to look it up.")]
        if valid and benchmark is not None and not _has_errors(form):
            try:
                programme = services.find_programme(form.programme_id.data)
                params, _robot = services.params_for(programme)
                periods = [InterestPeriod(r.start.data, r.end.data, r.outstanding_principal.data, r.interest_paid.data)
                           for r in rows]
                result = services.calculate_loan(benchmark, form.loan_rate.data, periods, params)
            except DomainError as err:
                place_errors(err, form, {"periods": rows})
        status = 422 if _has_errors(form) else 200
    if params is None:
        params, _robot = _calculator_params(form)
    return render_template("subsidies/calculator_loan.html", form=form, result=result, params=params, lpr=lpr,
                           imported=imported, working=_steps(result.working) if result else []), status


@bp.get("/calculator/robot")
def calculator_robot():
    """The robot purchase-subsidy calculator (public; GET, changes nothing)."""
    form = RobotCalculatorForm(formdata=request.args if request.args else None)
    form.programme_id.choices = _programme_choices()
    action = request.args.get("action", "calculate")
    result = None
    status = 200
    if request.args and action == "add_row":
        form.lines.append_entry()
    elif request.args:
        valid = form.validate()
        rows = filled_rows(form.lines)
        if valid:
            try:
                programme = services.find_programme(form.programme_id.data)
                _loan, params = services.params_for(programme)
                lines = [RobotLine(r.model.data.strip(), (r.manufacturer.data or "").strip() or "-", bool(r.domestic.data),
                                   r.quantity.data, r.unit_price_excl_vat.data,
                                   (r.invoice_no.data or "").strip() or _("not entered (%(n)s)", n=i + 1),
                                   r.invoice_date.data or services.local_today())
                         for i, r in enumerate(rows)]
                result = services.calculate_robot(lines, bool(form.pilot_industry.data),
                                                  form.already_granted.data or services.ZERO, params)
            except DomainError as err:
                place_errors(err, form, {"lines": rows})
        status = 422 if _has_errors(form) else 200
    _loan, params = _calculator_params(form)
    return render_template("subsidies/calculator_robot.html", form=form, result=result, params=params,
                           pilot_industries=_pilot_industries(form),
                           working=_steps(result.working) if result else []), status


def _pilot_industries(form) -> list[str]:
    """The pilot industries, in words, of the programme chosen on the calculator (else of the one open)."""
    try:
        programme = services.find_programme(form.programme_id.data)
    except DomainError:
        programme = None
    if programme is None:
        open_now = services.open_programmes("robot_subsidy")
        programme = open_now[0] if len(open_now) == 1 else None
    return [label(INDUSTRIES, code) for code in (programme.pilot_industries or [])] if programme else []


# --- the LPR table -----------------------------------------------------------------------------------

@bp.route("/lpr", methods=["GET", "POST"])
@roles_required(*ACCESS["subsidies.lpr_rates"].roles)
def lpr_rates():
    """The 1-year LPR table: officers add rates; auditors read it."""
    fmt = requested_format() if request.method == "GET" else None
    if fmt:
        everything = queries.lpr_page(1, EXPORT_LIMIT)
        return send(fmt, "lpr-rates", [_("In force from"), _("1-year LPR (percent)")],
                    ([r.effective_from.isoformat(), r.rate_pct] for r in everything.items), everything.total)
    form = LprRateForm()
    status = 200
    if request.method == "POST":
        if not can(current_actor(), "subsidies.maintain_lpr"):
            raise Forbidden("Only programme officers maintain the LPR table.")
        if form.validate_on_submit():
            try:
                row = services.add_lpr_rate(current_actor(), form.effective_from.data, form.rate_pct.data)
            except DomainError as err:
                place_errors(err, form)
            else:
                flash(_("The 1-year LPR of %(rate)s%% from %(day)s is recorded.", rate=row.rate_pct,
                        day=row.effective_from.isoformat()), "success")
                return redirect(url_for("subsidies.lpr_rates"))
        status = 422
    pagination = queries.lpr_page(_page(), _per_page())
    try:
        today_rate = services.lpr_in_force(services.local_today())
    except ValidationFailed:
        today_rate = None
    return render_template("subsidies/lpr.html", form=form, pagination=pagination, today_rate=today_rate), status


# --- SME: my applications ----------------------------------------------------------------------------

def _own_enterprise_or_page():
    """The SME's enterprise, or a page explaining what to do first (and a 403 for large enterprises)."""
    try:
        return services.enterprise_of(current_actor()), None
    except Forbidden as err:
        return None, (render_template("subsidies/need_enterprise.html", message=err.render(_)), 403)
    except DomainError as err:
        return None, (render_template("subsidies/need_enterprise.html", message=err.render(_)), 200)


def _export_mine(fmt: str, kind: str, pagination):
    """The enterprise's applications of one kind, as its list shows them."""
    programmes = queries.programme_names(a.programme_id for a in pagination.items)

    def amount(a):
        if a.approved_amount is not None:
            return a.approved_amount
        return getattr(a, services.KINDS[kind].amount_field)

    def what(a):
        return f"{a.bank_name} · {a.contract_no}" if kind == "loan" else _("%(n)s lines", n=len(a.lines))

    return send(fmt, "my-loan-discounts" if kind == "loan" else "my-robot-subsidies",
                [_("Application number"), _("Programme"), _("Loan contract") if kind == "loan" else _("Robot lines"), _("Amount"),
                 _("Status"), _("Next step"), _("Submitted")],
                ([a.number, programmes.get(a.programme_id, ""), what(a), amount(a), str(STATUS_LABELS.get(a.status, a.status)),
                  str(SME_NEXT_STEPS.get(a.status, "")), local_time(a.submitted_at)] for a in pagination.items),
                pagination.total)


def _my_list(kind: str):
    """An SME's applications of one kind (its own enterprise's), exported as shown."""
    org, page = _own_enterprise_or_page()
    if page:
        return page
    list_query = _PAGES[kind].list_query
    fmt = requested_format()
    if fmt:
        return _export_mine(fmt, kind, list_query(org.id, 1, EXPORT_LIMIT, seek=False))
    pagination = list_query(org.id, 1, _per_page(), cursor_arg())
    return render_template("subsidies/my_list.html", kind=kind, pagination=pagination, next_steps=SME_NEXT_STEPS,
                           programmes=queries.programme_names(a.programme_id for a in pagination.items),
                           open_programmes=services.open_programmes(services.KINDS[kind].funding_kind))


@bp.get("/loans")
@roles_required(*ACCESS["subsidies.file"].roles)
def my_loans():
    return _my_list("loan")


@bp.get("/robots")
@roles_required(*ACCESS["subsidies.file"].roles)
def my_robots():
    return _my_list("robot")


def _open_programme_choices(kind: str, current_id: int | None = None):
    programmes = services.open_programmes(kind)
    choices = [(p.id, f"{p.name} ({p.year})") for p in programmes]
    if current_id is not None and all(c[0] != current_id for c in choices):
        names = queries.programme_names([current_id])
        if current_id in names:
            choices.append((current_id, names[current_id]))
    if len(choices) != 1:
        choices.insert(0, ("", _("— choose —")))
    return choices


def _upload(file_storage):
    if file_storage is None or not getattr(file_storage, "filename", None):
        return None
    return services.Upload(file_storage.stream, file_storage.filename)


def _save_options(form, app) -> dict:
    """Where uploads go, and which application a form saves (a new one: with the form's token)."""
    return {"max_bytes": current_app.config["UPLOAD_MAX_BYTES"],
            "application_id": app.id if app else None, "client_token": None if app else form.client_token.data}


# --- the checklist of materials (the trial form's panel: templates/applications/_materials.html) ----------

# Materials the form asks for in fields of their own (the plan and statement of a loan, each robot
# line's invoice); the checklist panel of the form takes every other material.
FIELD_MATERIALS = {"loan": ("transformation_plan", "interest_statement"), "robot": ("vat_invoice",)}


def _material_uploads(checklist) -> dict[str, list]:
    """The files sent per material of the checklist (``material_<code>``, several each)."""
    return {m.code: [f for f in request.files.getlist(f"material_{m.code}") if f and f.filename]
            for m in checklist}


def _material_errors(err: DomainError) -> dict[str, str]:
    return {k[len("material_"):]: v for k, v in err.field_messages(_).items() if k.startswith("material_")}


def _form_programme_id(form):
    """The programme the form is for: the one chosen, else the only one it offers."""
    if isinstance(form.programme_id.data, int):
        return form.programme_id.data
    ids = [c[0] for c in form.programme_id.choices or () if isinstance(c[0], int)]
    return ids[0] if len(ids) == 1 else None


def _materials_context(kind: str, app, programme_id=None, errors=None, *, on_form: bool = False) -> dict:
    from voucher.applications.forms import RemoveFileForm, UploadForm

    checklist = services.checklist(kind, app) if app is not None else \
        checklist_for(programme_id if isinstance(programme_id, int) else None, services.KINDS[kind].funding_kind)
    if on_form:
        checklist = tuple(m for m in checklist if m.code not in FIELD_MATERIALS[kind])
    files = services.materials_by_code(kind, app.id) if app is not None else {}
    return {"checklist": checklist, "files_by_material": files, "material_errors": errors or {},
            "missing_materials": missing_required(checklist, files) if app is not None else [],
            "remove_form": RemoveFileForm(prefix="remove", formdata=None),
            "upload_form": UploadForm(prefix="upload", formdata=None),
            "download_endpoint": f"subsidies.{kind}_file", "remove_endpoint": f"subsidies.{kind}_remove_file",
            "upload_endpoint": f"subsidies.{kind}_upload",
            "max_upload_mb": current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)}


# --- loan application form ---------------------------------------------------------------------------

def _loan_input(form) -> services.LoanInput:
    rows = filled_rows(form.periods)
    return services.LoanInput(
        programme_id=form.programme_id.data, bank_name=form.bank_name.data or "", contract_no=form.contract_no.data or "",
        contract_date=form.contract_date.data, principal=form.principal.data, loan_rate=form.loan_rate.data,
        term_start=form.term_start.data, term_end=form.term_end.data,
        periods=tuple(services.PeriodInput(r.start.data, r.end.data, r.outstanding_principal.data, r.interest_paid.data)
                      for r in rows))


def _save_loan(actor, form, app):
    return services.save_loan_application(
        actor, _loan_input(form), plan=_upload(form.plan_file.data), statement=_upload(form.statement_file.data),
        **_save_options(form, app))


def _loan_form_data(app) -> dict:
    periods = [{"start": p.start_date, "end": p.end_date, "outstanding_principal": p.outstanding_principal,
                "interest_paid": p.interest_paid} for p in app.periods]
    return {"programme_id": app.programme_id, "bank_name": app.bank_name, "contract_no": app.contract_no,
            "contract_date": app.contract_date, "principal": app.principal, "loan_rate": app.loan_rate,
            "term_start": app.term_start, "term_end": app.term_end, "periods": periods + [{}]}


def _ceiling_at_once(form) -> None:
    """Even when other fields are still missing, say at once when the rate is above the ceiling."""
    if form.loan_rate.errors or form.contract_date.errors:
        return
    try:
        programme = services.find_programme(form.programme_id.data) if form.programme_id.data else None
        services.check_loan_rate(form.contract_date.data, form.loan_rate.data, programme)
    except DomainError as err:
        place_errors(err, form)


def _loan_form_page(form, app, org, material_errors=None, imported=None):
    benchmark = None
    if form.contract_date.data and not form.contract_date.errors:
        try:
            benchmark = services.lpr_in_force(form.contract_date.data)
        except DomainError:
            benchmark = None
    return render_template("subsidies/loan_form.html", form=form, app=app, org=org, benchmark=benchmark,
                           imported=imported,
                           **_materials_context("loan", app, _form_programme_id(form), material_errors, on_form=True))


# --- robot application form --------------------------------------------------------------------------

def _robot_input(form) -> services.RobotInput:
    rows = filled_rows(form.lines)
    return services.RobotInput(
        programme_id=form.programme_id.data,
        lines=tuple(services.RobotLineInput(
            model=r.model.data or "", manufacturer=r.manufacturer.data or "", domestic=bool(r.domestic.data),
            quantity=r.quantity.data, unit_price_excl_vat=r.unit_price_excl_vat.data, invoice_no=r.invoice_no.data or "",
            invoice_date=r.invoice_date.data, invoice_file=_upload(r.invoice_file.data)) for r in rows))


def _save_robot(actor, form, app):
    return services.save_robot_application(actor, _robot_input(form), **_save_options(form, app))


def _robot_form_data(app) -> dict:
    lines = [{"model": x.model, "manufacturer": x.manufacturer, "domestic": x.domestic, "quantity": x.quantity,
              "unit_price_excl_vat": x.unit_price_excl_vat, "invoice_no": x.invoice_no,
              "invoice_date": x.invoice_date} for x in app.lines]
    return {"programme_id": app.programme_id, "lines": lines + [{}]}


def _robot_cap_figures(org, programme_id):
    """What the enterprise already has committed against its robot cap in the chosen (or only) programme."""
    programmes = services.open_programmes("robot_subsidy")
    programme = next((p for p in programmes if p.id == programme_id), programmes[0] if len(programmes) == 1 else None)
    if programme is None:
        return None
    cap = services.params_for(programme)[1].enterprise_cap  # the rule version in force today
    committed, remaining = services.robot_cap_left(programme, org.id, cap)
    return {"programme": programme, "cap": cap, "committed": committed,
            "remaining": remaining, "pilot": org.enterprise.industry in (programme.pilot_industries or []),
            "industry": label(INDUSTRIES, org.enterprise.industry)}


def _robot_form_page(form, app, org, material_errors=None):
    return render_template("subsidies/robot_form.html", form=form, app=app, org=org,
                           cap=_robot_cap_figures(org, form.programme_id.data),
                           **_materials_context("robot", app, _form_programme_id(form), material_errors, on_form=True))


# --- the application forms of both kinds ----------------------------------------------------------------

@dataclass(frozen=True)
class _Pages:
    """What the SME's pages of one kind use where the page logic is the same."""

    list_query: Callable  # (enterprise_id, page, per_page, cursor, *, seek) → the enterprise's applications
    form_class: type
    rows: str  # the form's FieldList of rows (and the dotted prefix of the service's field names)
    form_data: Callable  # application → the edit form's data
    form_page: Callable  # (form, application or None, organisation) → the form page
    save: Callable  # (actor, form, application or None) → the saved application
    saved: Any  # the message after saving
    file_ids: Callable  # application → its evidence file ids
    refused_post: Callable | None = None  # (form) → None: more messages when the form itself is refused


_PAGES = {
    "loan": _Pages(queries.enterprise_loans, LoanApplicationForm, "periods", _loan_form_data, _loan_form_page,
                   _save_loan, _l("Saved as a draft. Check the computed discount and the working below, then submit "
                                  "the application."),
                   file_ids=lambda app: [app.plan_file_id, app.statement_file_id], refused_post=_ceiling_at_once),
    "robot": _Pages(queries.enterprise_robots, RobotApplicationForm, "lines", _robot_form_data, _robot_form_page,
                    _save_robot, _l("Saved as a draft. Check the computed subsidy and the working below, then submit "
                                    "the application."),
                    file_ids=lambda app: [x.invoice_file_id for x in app.lines]),
}


def _handle_form(kind: str, form, org, app=None):
    """Add a row, or save the application and show it; a refused save shows the form again (422)."""
    pages = _PAGES[kind]
    rows = getattr(form, pages.rows)
    if request.method == "POST" and request.form.get("action") == "add_row":
        rows.append_entry()
        return pages.form_page(form, app, org), 200
    if kind == "loan" and request.method == "POST" and request.form.get("action") == "import_periods":
        # Reading the table saves nothing (CSRF is still checked for every POST by CSRFProtect).
        imported = _import_periods(form, request.form, request.files)
        return pages.form_page(form, app, org, imported=imported), (422 if "errors" in imported else 200)
    material_errors: dict = {}
    if form.validate_on_submit():
        try:
            saved = pages.save(current_actor(), form, app)
            # The checklist's other materials chosen on the form are kept with the saved draft (one
            # refused file refuses the save: the request rolls back).
            uploads = _material_uploads(services.checklist(kind, saved))
            if any(uploads.values()):
                services.add_materials(current_actor(), kind, saved.id, uploads,
                                       max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            material_errors = _material_errors(err)
            if not material_errors:
                place_errors(err, form, {pages.rows: filled_rows(rows)})
        else:
            flash(str(pages.saved), "success")
            return redirect(url_for(DETAIL[kind], application_id=saved.id))
    elif request.method == "POST" and pages.refused_post:
        pages.refused_post(form)
    return pages.form_page(form, app, org, material_errors), (422 if request.method == "POST" else 200)


def _new(kind: str):
    org, page = _own_enterprise_or_page()
    if page:
        return page
    # "Apply with these figures": the calculator's query carries its inputs (same field names) into the form.
    carried = request.method == "GET" and request.args.get("from") == "calculator"
    form = _PAGES[kind].form_class(formdata=request.args) if carried else _PAGES[kind].form_class()
    form.programme_id.choices = _open_programme_choices(services.KINDS[kind].funding_kind)
    if carried:
        flash(_("Filled in from the calculator: check the figures, add the contract details and the documents, "
                "then save."), "info")
    return _handle_form(kind, form, org)


def _edit(kind: str, application_id: int):
    actor = current_actor()
    app = services.get_application(actor, kind, application_id)
    if app.enterprise_id != actor.organisation_id:
        raise Forbidden("This belongs to another organisation.")
    if app.status not in services.EDITABLE_STATES:
        flash(_("Only a draft or a returned application can be changed."), "warning")
        return redirect(url_for(DETAIL[kind], application_id=app.id))
    org, page = _own_enterprise_or_page()
    if page:
        return page
    pages = _PAGES[kind]
    if request.method == "POST":
        form = pages.form_class()
    else:
        form = pages.form_class(formdata=None, data=pages.form_data(app))
    form.programme_id.choices = _open_programme_choices(services.KINDS[kind].funding_kind, app.programme_id)
    return _handle_form(kind, form, org, app)


@bp.route("/loans/new", methods=["GET", "POST"])
@roles_required(*ACCESS["subsidies.file"].roles)
def loan_new():
    return _new("loan")


@bp.route("/loans/<int:application_id>/edit", methods=["GET", "POST"])
@roles_required(*ACCESS["subsidies.file"].roles)
def loan_edit(application_id: int):
    return _edit("loan", application_id)


@bp.route("/robots/new", methods=["GET", "POST"])
@roles_required(*ACCESS["subsidies.file"].roles)
def robot_new():
    return _new("robot")


@bp.route("/robots/<int:application_id>/edit", methods=["GET", "POST"])
@roles_required(*ACCESS["subsidies.file"].roles)
def robot_edit(application_id: int):
    return _edit("robot", application_id)


# --- application pages, files and decisions ----------------------------------------------------------------

def _history(kind: str, app) -> list[dict]:
    rows = []
    for event in queries.history(services.KINDS[kind].source_type, app.id):
        action = event.action.rsplit(".", 1)[-1]
        amount = (event.after or {}).get("amount", (event.after or {}).get("released"))
        rows.append({"at": event.occurred_at, "who": event.actor_label, "role": event.actor_role,
                     "what": str(ACTION_LABELS[action]) if action in ACTION_LABELS else event_label(event.action), "reason": event.reason, "amount": amount})
    return rows


def _detail_page(kind: str, application_id: int, *, decision_form=None, error: str | None = None, status: int = 200,
                 material_errors: dict | None = None):
    from voucher.amendments import queries as amendment_queries
    from voucher.recovery import queries as recovery_queries
    from voucher.timeline import build as build_timeline

    actor = current_actor()
    services.get_application(actor, kind, application_id)  # 404 / 403 first
    app = queries.with_rows(kind, application_id)
    machine = services.KINDS[kind].machine
    source_type = services.KINDS[kind].source_type
    timeline = build_timeline(source_type, machine, app, queries.history(source_type, app.id), with_payment=True)
    own = can(actor, "subsidies.file", app)
    actions = machine.available(app.status, actor.role) if (own or can(actor, "subsidies.decide")) else []
    approval = services.approval_preview(kind, app) if "approve" in actions else None
    next_steps = SME_NEXT_STEPS if own else BUREAU_NEXT_STEPS
    return render_template(
        f"subsidies/{kind}_detail.html", app=app, kind=kind, actions=actions, own=own, approval=approval,
        files=queries.files_by_id(_PAGES[kind].file_ids(app)), history=_history(kind, app), timeline=timeline,
        working=_steps(app.working or []), next_step=next_steps.get(app.status),
        programme=queries.programme_names([app.programme_id]).get(app.programme_id),
        confirm=ConfirmForm(), decision_form=decision_form or DecisionForm(), error=error,
        industry=label(INDUSTRIES, app.enterprise.enterprise.industry) if app.enterprise.enterprise else "",
        can_edit_materials=own and app.status in services.EDITABLE_STATES,
        **amendment_queries.page_context(actor, source_type, app.id, app.status, app),
        **recovery_queries.page_context(actor, source_type, app.id),
        **_materials_context(kind, app, errors=material_errors)), status


@bp.get("/loans/<int:application_id>")
@roles_required(*ACCESS["subsidies.read"].roles)
def loan_detail(application_id: int):
    return _detail_page("loan", application_id)


@bp.get("/robots/<int:application_id>")
@roles_required(*ACCESS["subsidies.read"].roles)
def robot_detail(application_id: int):
    return _detail_page("robot", application_id)


_DONE = {
    "submit": _l("The application is submitted. The bureau will review it."),
    "withdraw": _l("The application is withdrawn."),
    "approve": _l("Approved: %(amount)s is reserved in the fund ledger and the enterprise is notified."),
    "reject": _l("Rejected; the enterprise is notified."),
    "return": _l("Returned to the enterprise for revision; it is notified."),
}


def _act(kind: str, application_id: int, action: str):
    if action not in _DONE:
        raise NotFound("No such action.")
    allowed = {role for t in services.KINDS[kind].machine.transitions if t.action == action for role in t.roles}
    if current_actor().role not in allowed:
        raise Forbidden("Your role may not %(action)s this item.", action=action)
    needs_reason = action in ("reject", "return")
    form = DecisionForm() if needs_reason else ConfirmForm()
    form.action_name = action
    if not form.validate_on_submit():
        if needs_reason and not form.errors.get("csrf_token"):
            return _detail_page(kind, application_id, decision_form=form, status=422)
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for(DETAIL[kind], application_id=application_id)), 303
    try:
        app = services.act(current_actor(), kind, application_id, action,
                           reason=form.reason.data if needs_reason else None)
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        if needs_reason:
            place_errors(err, form)
        return _detail_page(kind, application_id, decision_form=form if needs_reason else None,
                            error=err.render(_), status=err.status)
    flash(str(_DONE[action]) % {"amount": format_money(app.approved_amount)} if action == "approve"
          else str(_DONE[action]), "success")
    return redirect(url_for(DETAIL[kind], application_id=app.id))


@bp.post("/loans/<int:application_id>/<action>")
@roles_required(*ACCESS["subsidies.act"].roles)
def loan_action(application_id: int, action: str):
    return _act("loan", application_id, action)


@bp.post("/robots/<int:application_id>/<action>")
@roles_required(*ACCESS["subsidies.act"].roles)
def robot_action(application_id: int, action: str):
    return _act("robot", application_id, action)


def _download(kind: str, application_id: int, file_id: int):
    stored = services.application_file(current_actor(), kind, application_id, file_id)
    return send_stored(stored, max_age=None)


@bp.get("/loans/<int:application_id>/files/<int:file_id>")
@roles_required(*ACCESS["subsidies.read"].roles)
def loan_file(application_id: int, file_id: int):
    return _download("loan", application_id, file_id)


@bp.get("/robots/<int:application_id>/files/<int:file_id>")
@roles_required(*ACCESS["subsidies.read"].roles)
def robot_file(application_id: int, file_id: int):
    return _download("robot", application_id, file_id)


def _upload_materials(kind: str, application_id: int):
    """Add files to materials of the checklist (several per material at once)."""
    from voucher.applications.forms import UploadForm

    actor = current_actor()
    services.get_application(actor, kind, application_id)  # 403/404 before reading the files
    form = UploadForm(prefix="upload")
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for(DETAIL[kind], application_id=application_id), 303)
    app = services.get_application(actor, kind, application_id)
    try:
        stored = services.add_materials(actor, kind, application_id, _material_uploads(services.checklist(kind, app)),
                                        max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        errors = _material_errors(err)
        return _detail_page(kind, application_id, error=None if errors else err.render(_), status=err.status,
                            material_errors=errors)
    flash(_("%(count)s documents attached: %(names)s.", count=len(stored),
            names=", ".join(s.original_name for s in stored)), "success")
    return redirect(url_for(DETAIL[kind], application_id=application_id) + "#materials", 303)


def _remove_material(kind: str, application_id: int, file_id: int):
    """Take a file off before (re)submission (to replace it, upload the new one)."""
    from voucher.applications.forms import RemoveFileForm

    actor = current_actor()
    services.get_application(actor, kind, application_id)  # 403/404 first
    if not RemoveFileForm(prefix="remove").validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for(DETAIL[kind], application_id=application_id), 303)
    try:
        stored = services.remove_material(actor, kind, application_id, file_id)
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        return _detail_page(kind, application_id, error=err.render(_), status=err.status)
    flash(_("Document %(name)s removed.", name=stored.original_name), "success")
    return redirect(url_for(DETAIL[kind], application_id=application_id) + "#materials", 303)


@bp.post("/loans/<int:application_id>/materials")
@roles_required("sme")
def loan_upload(application_id: int):
    return _upload_materials("loan", application_id)


@bp.post("/robots/<int:application_id>/materials")
@roles_required("sme")
def robot_upload(application_id: int):
    return _upload_materials("robot", application_id)


@bp.post("/loans/<int:application_id>/files/<int:file_id>/remove")
@roles_required("sme")
def loan_remove_file(application_id: int, file_id: int):
    return _remove_material("loan", application_id, file_id)


@bp.post("/robots/<int:application_id>/files/<int:file_id>/remove")
@roles_required("sme")
def robot_remove_file(application_id: int, file_id: int):
    return _remove_material("robot", application_id, file_id)



# --- the bureau's review queue -----------------------------------------------------------------------------

@bp.get("/review")
@roles_required(*ACCESS["subsidies.review_queue"].roles)
def review_queue():
    kind = request.args.get("kind") or None
    if kind not in (None, "loan", "robot"):
        kind = None
    status = request.args.get("status") or None
    if status not in APPLICATION_STATES:
        status = None
    q = (request.args.get("q") or "").strip()[:100] or None
    fmt = requested_format()
    if fmt:

        everything = queries.review_page(kind, status, q, 1, EXPORT_LIMIT, seek=False)
        return send(fmt, "subsidy-applications",
                    [_("Kind"), _("Application number"), _("Enterprise"), _("Programme"), _("Amount"), _("Submitted"), _("Status"),
                     _("Review deadline")],
                    ([str(KIND_LABELS[r.kind]), r.number, r.enterprise_name, r.programme_name, r.amount,
                      local_time(r.submitted_at), str(STATUS_LABELS.get(r.status, r.status)),
                      deadline_text(review_deadline(r.submitted_at)) if r.status == "submitted" and r.submitted_at
                      else ""] for r in everything.items), everything.total)
    pagination = queries.review_page(kind, status, q, 1, _per_page(), cursor_arg())
    deadlines = {(r.kind, r.id): review_deadline(r.submitted_at) for r in pagination.items
                 if r.status == "submitted" and r.submitted_at}
    return render_template("subsidies/review.html", pagination=pagination, kind=kind, status=status, q=q or "",
                           detail=DETAIL, deadlines=deadlines)


# --- start-page panels -------------------------------------------------------------------------------------

def _sme_panel(actor):
    try:
        org = services.enterprise_of(actor)
    except DomainError:
        return None
    loans, robots = queries.enterprise_counts(org.id)
    return {"title": _("Loan discounts and robot subsidies"),
            "text": _("Work out what your enterprise could receive, then apply."),
            "items": [(_("Loan discount applications"), loans), (_("Robot subsidy applications"), robots)],
            "link": ("subsidies.my_loans", _("My loan discount applications"))}


def _officer_panel(actor):
    waiting = cached_figure("subsidy_waiting_count", (), lambda: queries.review_count(None, "submitted"))
    return {"title": _("Subsidy applications"),
            "items": [(_("Waiting for review"), waiting)],
            "link": ("subsidies.review_queue", _("Open the review queue"), {"status": "submitted"})}
