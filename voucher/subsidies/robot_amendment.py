"""Amending an approved robot purchase subsidy (变更申请, issue 18 §4): a replaced invoice on one line
(its number, date and unit price).  Used by :class:`voucher.subsidies.grant.RobotSubsidy`.

Rules: only an approved grant, nothing of it paid, no disbursement of it under way; the replaced line
obeys the application form's line rules (``robots._check_robot_lines``: a VAT invoice number, a date
not in the future, a positive price with at most two decimals) and an invoice is claimed once
system-wide (``robots._check_invoices_unclaimed``); the subsidy is recomputed by the same
``voucher.calc`` function with the application's stored parameters and the enterprise's cap less its
other robot grants; the ledger releases or reserves the difference (the enterprise's cap checked
again there, under the programme's lock).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from voucher.calc import RobotLine, RobotParams, invoice_key
from voucher.errors import Conflict, DomainError, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services as programmes
from voucher.subsidies.amendment import ensure_amendable as _loan_style_checks
from voucher.subsidies.common import (
    _check_upload,
    _formats,
    _material_kwargs,
    _store,
    _text,
    application_params,
    calculate_robot,
    working_json,
)
from voucher.subsidies.models import RobotApplication
from voucher.subsidies.robots import RobotLineInput, _check_invoices_unclaimed, _check_robot_lines

SOURCE_TYPE = "robot_application"
FIELDS = ("line", "invoice_no", "invoice_date", "unit_price_excl_vat", "invoice_file")


def _max_bytes() -> int:
    from flask import current_app

    return current_app.config["UPLOAD_MAX_BYTES"]
_FIELD_OF = {"invoice_no": "invoice_no", "invoice_date": "invoice_date", "unit_price_excl_vat": "unit_price_excl_vat"}


def _application(source_id: int) -> RobotApplication:
    app = db.session.get(RobotApplication, source_id)
    if app is None:
        raise NotFound("No such application.")
    return app


def _line_text(line) -> str:
    return f"{line.invoice_no}/{line.invoice_date.isoformat()}/{line.unit_price_excl_vat}"


def subject(source_id: int):
    from voucher.grants import AmendmentSubject

    app = _application(source_id)
    values = {f"line_{line.position}": _line_text(line) for line in app.lines}
    values["approved_amount"] = str(app.approved_amount) if app.approved_amount is not None else ""
    return AmendmentSubject(SOURCE_TYPE, app.id, app.programme_id, app.enterprise_id, app.number, app.status, values)


def ensure_amendable(app: RobotApplication) -> None:
    _loan_style_checks(app, SOURCE_TYPE)


def _params(app: RobotApplication) -> RobotParams:
    stored = app.params or {}
    if not all(k in stored for k in ("base_rate", "domestic_rate", "pilot_domestic_rate", "enterprise_cap")):
        return application_params(app)[1]
    return RobotParams(base_rate=Decimal(stored["base_rate"]), domestic_rate=Decimal(stored["domestic_rate"]),
                       pilot_domestic_rate=Decimal(stored["pilot_domestic_rate"]),
                       enterprise_cap=Decimal(stored["enterprise_cap"]))


def _replaced(app: RobotApplication, asked: dict, today: date):
    rows = {line.position: line for line in app.lines}
    if not rows:
        raise ValidationFailed("This application has no robot lines.", field="line")
    position = asked.get("line")
    if position not in rows:
        raise ValidationFailed("Choose the robot line whose invoice was replaced (1 to %(max)s).", field="line",
                               max=max(rows))
    row = rows[position]
    price = asked.get("unit_price_excl_vat")
    if price is not None and not isinstance(price, Decimal):
        try:
            price = Decimal(str(price).strip())
        except (InvalidOperation, ValueError):
            price = Decimal("NaN")
    new = RobotLineInput(row.model, row.manufacturer, row.domestic, row.quantity,
                         row.unit_price_excl_vat if price is None else price,
                         (asked.get("invoice_no") or "").strip() or row.invoice_no,
                         asked.get("invoice_date") or row.invoice_date)
    lines = [new if line.position == position else
             RobotLineInput(line.model, line.manufacturer, line.domestic, line.quantity, line.unit_price_excl_vat,
                            line.invoice_no, line.invoice_date) for line in app.lines]
    index = [line.position for line in app.lines].index(position)
    problems = [p for p in _check_robot_lines(lines, today) if p[0].startswith(f"lines.{index}.")]
    problems += [p for p in _check_invoices_unclaimed(lines, app.enterprise_id, app.id)
                 if p[0].startswith(f"lines.{index}.")]
    if problems:
        fields = {name.rsplit(".", 1)[-1]: message for name, message, _params in problems}
        params = {k: v for _n, _m, p in problems for k, v in p.items()}
        _name, message, _p = problems[0]
        raise ValidationFailed(message, fields=fields, **params)
    if (new.invoice_no, new.invoice_date, new.unit_price_excl_vat) == (row.invoice_no, row.invoice_date,
                                                                       row.unit_price_excl_vat):
        raise ValidationFailed("The replaced invoice is the approved one: nothing would change.", field="invoice_no")
    return row, index, lines, new


def _check_file(app: RobotApplication, row, new, upload) -> None:
    """The replaced invoice's file (the checklist's VAT-invoice material: its formats, the size limit,
    by content); required when the invoice number changes."""
    problems: list = []
    _code, formats = _formats("robot_subsidy", "invoice_file", app.programme_id)
    _check_upload(upload, "invoice_file", _text(new.invoice_no) != row.invoice_no, _max_bytes(), problems, formats)
    if problems:
        _name, message, params = problems[0]
        raise ValidationFailed(message, field="invoice_file", **params)


def store_file(actor, source_id: int, upload) -> str:
    """Store the replaced invoice's file with the application (its download rules); the line points to
    it once the change is approved."""
    app = _application(source_id)
    return str(_store(actor, upload, owner_type=SOURCE_TYPE, owner_id=app.id, purpose="robot_invoice",
                      field="invoice_file", max_bytes=_max_bytes(),
                      **_material_kwargs("robot_subsidy", "invoice_file")).id)


def _subsidy(app: RobotApplication, lines):
    own = programmes.source_outstanding(SOURCE_TYPE, app.id)
    already = programmes.enterprise_committed(app.programme_id, app.enterprise_id, "robot_subsidy") - own
    calc_lines = [RobotLine(_text(x.model), _text(x.manufacturer), bool(x.domestic), x.quantity,
                            x.unit_price_excl_vat, _text(x.invoice_no), x.invoice_date) for x in lines]
    return calculate_robot(calc_lines, app.pilot_industry, already, _params(app)), already


def refusal(source_id: int) -> DomainError | None:
    """Why this grant cannot be amended now, or None (the grant's page and the form ask this first)."""
    try:
        ensure_amendable(_application(source_id))
    except DomainError as err:
        return err
    return None


def check(source_id: int, asked: dict, today: date) -> dict[str, dict[str, str]]:
    app = _application(source_id)
    ensure_amendable(app)
    row, _index, lines, new = _replaced(app, asked, today)
    _check_file(app, row, new, asked.get("invoice_file"))
    result, _already = _subsidy(app, lines)
    changes = {f"line_{row.position}": {"before": _line_text(row), "after":
                                         f"{_text(new.invoice_no)}/{new.invoice_date.isoformat()}/"
                                         f"{new.unit_price_excl_vat}"}}
    if asked.get("invoice_file") is not None:
        changes["invoice_file"] = {"before": str(row.invoice_file_id or ""), "after": ""}  # the stored id, later
    if result.total_subsidy != app.approved_amount:
        changes["approved_amount"] = {"before": str(app.approved_amount), "after": str(result.total_subsidy)}
    return changes


def apply(actor, source_id: int, changes: dict[str, dict[str, str]]) -> Decimal:
    from voucher.audit.services import record_event

    app = db.session.get(RobotApplication, source_id, populate_existing=True)
    ensure_amendable(app)
    [key] = [k for k in changes if k.startswith("line_")]
    position = int(key.split("_", 1)[1])
    row = next((line for line in app.lines if line.position == position), None)
    if row is None or _line_text(row) != changes[key]["before"]:
        raise Conflict("The grant changed since this amendment was requested (%(field)s is now %(value)s): "
                       "refuse it and ask the enterprise to request again.", field=key,
                       value=_line_text(row) if row else "—")
    number, day, price = changes[key]["after"].rsplit("/", 2)
    asked = {"line": position, "invoice_no": number, "invoice_date": date.fromisoformat(day),
             "unit_price_excl_vat": Decimal(price)}
    row, index, lines, new = _replaced(app, asked, date.max)  # "not in the future" was checked on the day asked
    programmes.lock_programme(app.programme_id)  # the enterprise's other robot grants read under the lock
    result, already = _subsidy(app, lines)
    before = {"line": _line_text(row), "approved_amount": app.approved_amount}
    difference = result.total_subsidy - app.approved_amount
    note = f"robot application {app.id} amended"
    if difference > 0:
        programmes.reserve(actor, app.programme_id, funding_kind="robot_subsidy", amount=difference,
                           enterprise_id=app.enterprise_id, source_type=SOURCE_TYPE, source_id=app.id, note=note,
                           rule_version=programmes.get_version(app.rule_version_id) if app.rule_version_id else None)
    elif difference < 0:
        programmes.release(actor, SOURCE_TYPE, app.id, -difference, note=note)
    row.invoice_no, row.invoice_key = _text(new.invoice_no), invoice_key(new.invoice_no)
    row.invoice_date, row.unit_price_excl_vat = new.invoice_date, new.unit_price_excl_vat
    if changes.get("invoice_file", {}).get("after"):
        row.invoice_file_id = int(changes["invoice_file"]["after"])
    for line, r in zip(app.lines, result.lines):
        line.rate, line.eligible_cost, line.subsidy, line.granted = r.rate, r.eligible_cost, r.subsidy, r.granted
    app.computed_subsidy, app.uncapped_total = result.total_subsidy, result.uncapped_total
    app.cap_applied, app.already_granted = result.cap_applied, already
    app.working = working_json(result.working)
    app.approved_amount = result.total_subsidy
    changes["approved_amount"] = {"before": str(before["approved_amount"]), "after": str(app.approved_amount)}
    db.session.flush()
    record_event(actor, "robot_application.amended", "robot_application", app.id, before=before,
                 after={"line": _line_text(row), "approved_amount": app.approved_amount,
                        "ledger_difference": difference})
    return difference
