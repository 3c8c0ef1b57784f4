"""Loan interest discount applications (贴息): the ceiling, the periods, the principal cap.

Rules enforced here:
- a loan above benchmark × (1 − margin) is refused before anything is saved, with the ceiling in
  the message (:func:`check_loan_rate`, :func:`compute_loan`);
- the same loan's days are claimed once across the enterprise's live applications (contract
  numbers compared normalised), checked under the enterprise's row lock;
- the enterprise's daily principal cap is served in the order approved
  (:func:`principal_already_subsidised`, rechecked at submission and approval).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Sequence

from sqlalchemy import select

from voucher.audit.services import Actor
from voucher.calc import (
    InterestPeriod,
    LoanDiscountResult,
    LoanParams,
    PrincipalUse,
    rate_ceiling,
)
from voucher.calc.common import fmt_pct
from voucher.enterprises.models import Organisation
from voucher.errors import (
    N_,
    OverCap,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.identifiers import normalise_identifier
from voucher.money import format_money
from voucher.programmes.models import LprRate, Programme
from voucher.subsidies.common import (
    EARLIEST_DATE,
    HUNDRED,
    LOAN_SOURCE,
    MAX_AMOUNT,
    MAX_PERIODS,
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
    application_params,
    calculate_loan,
    enterprise_of,
    get_application,
    loan_params_json,
    local_today,
    params_for,
    versioned_params,
    working_json,
)
from voucher.subsidies.lpr import lpr_in_force
from voucher.subsidies.models import (
    LoanApplication,
    LoanInterestPeriod,
)

# --- the rate ceiling (benchmark from the LPR table) ----------------------------------------------

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


def check_loan_rate(contract_date: date | None, loan_rate: Decimal | None, programme: Programme | None,
                    day: date | None = None) -> None:
    """Refuse at once a loan rate above the eligible ceiling for the contract date's LPR (nothing else),
    under the rule version in force on ``day`` (today by default)."""
    if contract_date is None or loan_rate is None:
        return
    benchmark = lpr_in_force(contract_date)
    params, _ = params_for(programme, day)
    ceiling = rate_ceiling(benchmark.rate_pct, params)
    if loan_rate > ceiling:
        raise ceiling_refusal(benchmark, benchmark.rate_pct, loan_rate, ceiling, params)


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
    rule_version: object = None
    inputs: dict | None = None


def loan_inputs(benchmark_rate, benchmark_from, loan_rate, periods, already, params: LoanParams) -> dict:
    """The snapshot of a loan calculation's inputs stored with the decision (``rule_inputs``)."""
    return {"benchmark_rate": str(benchmark_rate),
            "benchmark_effective_from": benchmark_from.isoformat() if benchmark_from else None,
            "loan_rate": str(loan_rate),
            "periods": [{"start": p.start.isoformat(), "end": p.end.isoformat(),
                         "outstanding_principal": str(p.outstanding_principal),
                         "interest_paid": str(p.interest_paid)} for p in periods],
            "principal_already_subsidised": [[u.start.isoformat(), u.end.isoformat(), str(u.principal)]
                                             for u in already],
            "params": loan_params_json(params)}


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


def compute_loan(data: LoanInput, programme: Programme, already: Sequence[PrincipalUse] = (),
                 day: date | None = None) -> LoanPreview:
    """The discount an application would get: benchmark from the LPR table, the programme's parameters,
    on what remains of the enterprise's daily principal cap after ``already`` (its approved claims).

    Rule: a loan above the ceiling is refused on ``loan_rate`` with the ceiling in the message.
    """
    benchmark = lpr_in_force(data.contract_date)
    version, params, _ = versioned_params(programme.id, day)
    periods = [InterestPeriod(p.start, p.end, p.outstanding_principal, p.interest_paid) for p in data.periods]
    result = calculate_loan(benchmark.rate_pct, data.loan_rate, periods, params, already_subsidised=already)
    if not result.eligible:
        raise ceiling_refusal(benchmark, benchmark.rate_pct, data.loan_rate, result.rate_ceiling, params)
    return LoanPreview(benchmark, params, result, version,
                       loan_inputs(benchmark.rate_pct, benchmark.effective_from, data.loan_rate, periods, already,
                                   params))


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
        _collect(problems, check_loan_rate, data.contract_date, data.loan_rate, programme, today)
    _check_upload(plan, "plan_file", app is None or app.plan_file_id is None, max_bytes, problems,
                  _formats("loan_discount", "plan_file")[1])
    _check_upload(statement, "statement_file", app is None or app.statement_file_id is None, max_bytes, problems,
                  _formats("loan_discount", "statement_file")[1])
    if problems:
        raise InputRefused(problems)
    # The figure shown to the applicant: on what remains of the enterprise's daily principal cap
    # after its approved claims; rechecked at approval (served in the order approved).
    preview = compute_loan(data, programme, principal_already_subsidised(org.id, app.id if app else None), today)
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
    app.rule_version_id = preview.rule_version.id
    app.rule_inputs = preview.inputs
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


# --- approval: the enterprise's daily principal cap, served in the order approved --------------------

def _lock_enterprise(enterprise_id: int) -> None:
    """The enterprise's row lock for the rest of the transaction (after the application's row, before
    the programme's): what holds the loan rules per enterprise (one contract's days claimed once,
    the principal cap per enterprise and day) against concurrent saves and approvals."""
    db.session.execute(select(Organisation.id).where(Organisation.id == enterprise_id).with_for_update())


def _stored_loan_params(app: LoanApplication) -> LoanParams:
    stored = app.params or {}
    if not all(k in stored for k in ("rate_margin_pct", "subsidy_points", "principal_cap", "day_basis")):
        return application_params(app)[0]
    return LoanParams(rate_margin_pct=Decimal(stored["rate_margin_pct"]), subsidy_points=Decimal(stored["subsidy_points"]),
                      principal_cap=Decimal(stored["principal_cap"]), day_basis=int(stored["day_basis"]))


def reprice_loan_at_submission(app: LoanApplication, day: date) -> None:
    """At submission the discount is fixed under the rule version in force on the submission day:
    the application takes that version's parameters (when not the one it was saved with) and its
    inputs snapshot; the caller then computes the discount again (:func:`recompute_loan`)."""
    version, params, _ = versioned_params(app.programme_id, day)
    if app.rule_version_id != version.id:
        app.rule_version_id = version.id
        app.params = loan_params_json(params)
    periods = [InterestPeriod(p.start_date, p.end_date, p.outstanding_principal, p.interest_paid) for p in app.periods]
    app.rule_inputs = loan_inputs(app.benchmark_rate, app.benchmark_effective_from, app.loan_rate, periods,
                                  principal_already_subsidised(app.enterprise_id, app.id), params)


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
