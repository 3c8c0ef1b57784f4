"""Robot purchase subsidy applications (机器人): lines, invoices, the enterprise's cap.

Rules enforced here:
- an invoice number can be claimed once, system-wide (service check naming the line, backed by
  the UNIQUE ``robot_line.invoice_key``); a withdrawn application gives its invoices back;
- the per-enterprise robot cap uses what the fund ledger already commits to the enterprise
  (:func:`robot_cap_left`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voucher.audit.services import Actor
from voucher.calc import (
    RobotLine,
    RobotParams,
    RobotSubsidyResult,
    invoice_key,
)
from voucher.enterprises.models import Organisation
from voucher.errors import (
    N_,
    OverCap,
)
from voucher.extensions import db
from voucher.identifiers import invoice_shape_ok
from voucher.money import format_money
from voucher.programmes import services as programmes
from voucher.programmes.models import Programme
from voucher.subsidies.common import (
    EARLIEST_DATE,
    MAX_AMOUNT,
    MAX_LINES,
    ROBOT_SOURCE,
    ZERO,
    InputRefused,
    Upload,
    _audit_save,
    _check_upload,
    _collect,
    _formats,
    _material_kwargs,
    _money_ok,
    _programme_for_application,
    _start_save,
    _store,
    _text,
    _to_save,
    calculate_robot,
    enterprise_of,
    get_application,
    local_today,
    robot_params_json,
    versioned_params,
    working_json,
)
from voucher.subsidies.models import (
    RobotApplication,
    RobotLineItem,
)


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
    rule_version: object = None
    inputs: dict | None = None


def compute_robot(lines: Sequence[RobotLineInput], programme: Programme, org: Organisation,
                  day: date | None = None) -> RobotPreview:
    """The subsidy an application would get under the rule version in force on ``day`` (today by
    default): pilot tier from the enterprise's industry, the enterprise cap less what the ledger
    already commits to its robot subsidies in the programme."""
    version, _, params = versioned_params(programme.id, day)
    pilot = org.enterprise.industry in (programme.pilot_industries or [])
    already = programmes.enterprise_committed(programme.id, org.id, "robot_subsidy")
    calc_lines = [RobotLine(_text(x.model), _text(x.manufacturer), bool(x.domestic), x.quantity, x.unit_price_excl_vat,
                            _text(x.invoice_no), x.invoice_date) for x in lines]
    result = calculate_robot(calc_lines, pilot, already, params)
    return RobotPreview(params, pilot, already, result, version, robot_inputs(calc_lines, pilot, already, params))


def robot_inputs(lines: Sequence[RobotLine], pilot: bool, already: Decimal, params: RobotParams) -> dict:
    """The snapshot of a robot calculation's inputs stored with the decision (``rule_inputs``)."""
    return {"lines": [{"model": x.model, "manufacturer": x.manufacturer, "domestic": bool(x.domestic),
                       "quantity": int(x.quantity), "unit_price_excl_vat": str(x.unit_price_excl_vat),
                       "invoice_no": x.invoice_no,
                       "invoice_date": x.invoice_date.isoformat() if x.invoice_date else None} for x in lines],
            "pilot_industry": bool(pilot), "already_granted": str(already),
            "params": robot_params_json(params)}


def reprice_robot_at_submission(app: RobotApplication, day: date) -> None:
    """At submission the amount is fixed under the rule version in force on the submission day: when
    it is not the version the draft was computed with, the lines are computed again with it (the
    stored lines, pilot flag and committed amount) and the version, parameters and working replaced."""
    version, _, params = versioned_params(app.programme_id, day)
    if app.rule_version_id == version.id and app.rule_inputs:
        return
    already = programmes.enterprise_committed(app.programme_id, app.enterprise_id, "robot_subsidy")
    calc_lines = [RobotLine(x.model, x.manufacturer, bool(x.domestic), x.quantity, x.unit_price_excl_vat,
                            x.invoice_no, x.invoice_date) for x in sorted(app.lines, key=lambda r: r.position)]
    result = calculate_robot(calc_lines, bool(app.pilot_industry), already, params)
    app.already_granted = already
    app.uncapped_total = result.uncapped_total
    app.computed_subsidy = result.total_subsidy
    app.cap_applied = result.cap_applied
    app.working = working_json(result.working)
    app.params = robot_params_json(params)
    for row, r in zip(sorted(app.lines, key=lambda r: r.position), result.lines):
        row.rate, row.eligible_cost, row.subsidy, row.granted = r.rate, r.eligible_cost, r.subsidy, r.granted
    app.rule_version_id = version.id
    app.rule_inputs = robot_inputs(calc_lines, bool(app.pilot_industry), already, params)


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
    preview = compute_robot(lines, programme, org, today)
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
    app.rule_version_id = preview.rule_version.id
    app.rule_inputs = preview.inputs
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


def robot_cap_left(programme: Programme, enterprise_id: int, cap: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """``(committed, remaining)`` of an enterprise's robot-subsidy cap in a programme.

    Rule: the per-enterprise cap (``cap``: the decision's version's; by default the version in force
    today) less what the fund ledger already commits to the enterprise's robot subsidies in the
    programme, never below zero.
    """
    if cap is None:
        cap = versioned_params(programme.id)[2].enterprise_cap
    committed = programmes.enterprise_committed(programme.id, enterprise_id, "robot_subsidy")
    return committed, max(cap - committed, ZERO)
