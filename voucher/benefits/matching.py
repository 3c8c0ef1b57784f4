"""Matching the bureau's sources against the registered enterprises (免申即享 candidates).

Rules (each applied by the subsidies' own code, never restated here):
- the current programme of a kind is the first open programme funding it (``open_programmes``);
- robot subsidy: an enterprise's invoices (by USCC) not claimed yet — not in any robot application
  line (``robot_line.invoice_key``, the claim-once key) nor in another candidate — computed by
  ``subsidies.robots.compute_robot`` (pilot tier, enterprise cap less what the ledger commits);
- loan discount: an enterprise's statement lines per loan contract (contract numbers normalised),
  whose days are not claimed in a live loan application (``subsidies.loans._check_loan_overlap``)
  nor in another candidate, computed by ``subsidies.loans.compute_loan`` (LPR in force on the
  contract date, ceiling, principal cap per day after its approved claims); a rate above the
  ceiling makes no candidate;
- only registered small, medium and micro enterprises; one listed on the blacklist on the day is
  no candidate: an ``excluded`` row shows the officer the listing;
- a candidate holds its invoices / loan periods as UNIQUE claim keys: matching again makes no
  second candidate for them, even after a decline.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date

from sqlalchemy import or_, select

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.benefits.models import (
    BenefitBlacklist,
    BenefitCandidate,
    BenefitClaim,
    BenefitInvoice,
    BenefitLoanLine,
)
from voucher.errors import N_, DomainError
from voucher.extensions import db
from voucher.money import format_money
from voucher.notifications.services import notify_organisation

EARLIEST_DATE = date(2000, 1, 1)
_NOTICE = {
    "robot": N_("From the bureau's data, your enterprise qualifies for a robot purchase subsidy of %(amount)s without "
                "applying: check the evidence, then confirm or decline."),
    "loan": N_("From the bureau's data, your enterprise qualifies for a loan interest discount of %(amount)s without "
               "applying: check the evidence, then confirm or decline."),
}
MAX_PERIODS = 60


def _current_programme(funding_kind: str, today: date):
    from voucher.subsidies.common import open_programmes

    found = open_programmes(funding_kind, today)
    return found[0] if found else None


def _blacklisted(today: date) -> dict[str, BenefitBlacklist]:
    rows = db.session.scalars(select(BenefitBlacklist).where(
        BenefitBlacklist.listed_from <= today,
        or_(BenefitBlacklist.listed_to.is_(None), BenefitBlacklist.listed_to >= today)).order_by(BenefitBlacklist.id))
    out: dict[str, BenefitBlacklist] = {}
    for row in rows:
        out.setdefault(row.uscc, row)
    return out


def _enterprises():
    from voucher.enterprises.models import Enterprise, Organisation

    stmt = (select(Organisation).join(Enterprise, Enterprise.organisation_id == Organisation.id)
            .where(Organisation.kind == "enterprise", Organisation.uscc.is_not(None)))
    return {org.uscc: org for org in db.session.scalars(stmt)}


def _taken_claims() -> set[str]:
    return set(db.session.scalars(select(BenefitClaim.claim_key)))


def _hash(parts) -> str:
    return hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:32]


def _row(condition: str, row, values: dict) -> dict:
    return {"condition": condition, "source_id": row.source_id if row is not None else None,
            "row_id": row.id if row is not None else None, "row_number": row.row_number if row is not None else None,
            "values": {k: _plain(v) for k, v in values.items()}}


def _plain(v):
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "quantize"):
        return format(v, "f")
    return v


def _common_evidence(org, programme, today: date) -> list[dict]:
    e = org.enterprise
    return [_row("registered", None, {"name": org.name, "uscc": org.uscc}),
            _row("sme", None, {"size_class": e.size_class}),
            _row("programme_open", None, {"programme": programme.name, "opens": programme.opens_on,
                                          "closes": programme.closes_on}),
            _row("not_blacklisted", None, {"day": today})]


def match_candidates(actor: Actor | None = None, today: date | None = None) -> dict[str, int]:
    """Run the match over every source row and registered enterprise; the counts of new candidates
    (``robot``, ``loan``) and of new excluded rows.  Idempotent: run again, nothing new.

    Rule: an officer or the system (the nightly job) runs it; the rules are the subsidies' own (see
    the module's docstring); each new candidate is an audit event and a notification to its
    enterprise (an excluded one notifies nobody)."""
    from voucher.subsidies.common import local_today

    actor = actor or Actor.system("benefits-match")
    require(actor, "benefits.match", message="Only a programme officer (or the nightly job) runs the match.")
    today = today or local_today()
    orgs = _enterprises()
    listed = _blacklisted(today)
    taken = _taken_claims()
    known = set(db.session.scalars(select(BenefitCandidate.key)))
    counts = {"robot": 0, "loan": 0, "excluded": 0}
    robot_programme = _current_programme("robot_subsidy", today)
    loan_programme = _current_programme("loan_discount", today)
    found = []
    if robot_programme is not None:
        found += _robot_candidates(orgs, robot_programme, taken, today)
    if loan_programme is not None:
        found += _loan_candidates(orgs, loan_programme, taken, today)
    made = []  # (candidate, org, status, claims) in the order found
    rows = []
    for kind, org, programme, amount, working, evidence, claims, params, version, inputs in found:
        entry = listed.get(org.uscc)
        if entry is not None:
            key = f"excluded:{kind}:{org.id}:{entry.id}:{_hash(claims)}"
            status, claims = "excluded", []
        else:
            key = f"{kind}:{org.id}:{_hash(claims)}"
            status = "open"
        if key in known:
            continue
        known.add(key)
        rows.append((key, kind, status, org, programme, amount, working, evidence, params, version, inputs, entry,
                     claims))
    for start in range(0, len(rows), INSERT_BATCH):
        made += _insert(rows[start:start + INSERT_BATCH], taken)
    # The audit events and notifications after every insert: one savepoint per batch, not per candidate
    # (each savepoint's commit seals the audit chain so far), the same events in the same order.
    for candidate, org, status, claims in made:
        kind, amount = candidate.kind, candidate.amount
        if status == "open":
            notify_organisation(org.id, _NOTICE[kind], f"/benefits/candidates/{candidate.id}",
                                amount=format_money(amount))
        counts["excluded" if status == "excluded" else kind] += 1
        record_event(actor, f"benefit_candidate.{'excluded' if status == 'excluded' else 'matched'}",
                     "benefit_candidate", candidate.id,
                     after={"kind": kind, "enterprise_id": org.id, "amount": format_money(amount), "claims": claims})
    return counts


INSERT_BATCH = 500


def _new_candidate(row) -> BenefitCandidate:
    key, kind, status, org, programme, amount, working, evidence, params, version, inputs, entry, claims = row
    candidate = BenefitCandidate(
        key=key, kind=kind, status=status, enterprise_id=org.id, programme_id=programme.id,
        district=org.enterprise.district, industry=org.enterprise.industry, amount=amount, working=working,
        evidence=evidence, params=params, rule_version_id=version.id, rule_inputs=inputs,
        exclusion_reason=None if entry is None else _row("blacklisted", entry, {
            "uscc": entry.uscc, "listed_from": entry.listed_from, "listed_to": entry.listed_to,
            "listed_by": entry.listed_by}))
    candidate.claims = [BenefitClaim(claim_key=c) for c in claims]
    return candidate


def _unique_violation(exc: Exception) -> bool:
    return "unique" in str(exc).lower() or "duplicate" in str(exc).lower()


def _insert(rows, taken: set[str]) -> list:
    """Insert a batch of candidates in one savepoint; when a claim was taken meanwhile (UNIQUE: another
    match ran), the batch again one by one, leaving out the candidates whose claims are taken."""
    try:
        with db.session.begin_nested():
            batch = [_new_candidate(row) for row in rows]
            db.session.add_all(batch)
            db.session.flush()
    except Exception as exc:
        if not _unique_violation(exc):
            raise
        batch = None
    if batch is not None:
        for row in rows:
            taken.update(row[-1])
        return [(c, row[3], row[2], row[-1]) for c, row in zip(batch, rows)]
    out = []
    for row in rows:
        try:
            with db.session.begin_nested():
                candidate = _new_candidate(row)
                db.session.add(candidate)
                db.session.flush()
        except Exception as exc:  # a claim taken meanwhile (UNIQUE): no second candidate for it
            if not _unique_violation(exc):
                raise
            continue
        taken.update(row[-1])
        out.append((candidate, row[3], row[2], row[-1]))
    return out


# --- robot subsidies -------------------------------------------------------------------------------

def _robot_candidates(orgs, programme, taken: set[str], today: date):
    from voucher.subsidies.models import RobotLineItem
    from voucher.subsidies.robots import RobotLineInput, compute_robot

    claimed = set(db.session.scalars(select(RobotLineItem.invoice_key).where(RobotLineItem.invoice_key.is_not(None))))
    by_uscc: dict[str, list[BenefitInvoice]] = defaultdict(list)
    seen: set[str] = set()
    for inv in db.session.scalars(select(BenefitInvoice).where(BenefitInvoice.uscc.in_(list(orgs)))
                                  .order_by(BenefitInvoice.invoice_date, BenefitInvoice.id)):
        if inv.invoice_key in seen or inv.invoice_key in claimed or f"invoice:{inv.invoice_key}" in taken:
            continue
        if not (EARLIEST_DATE <= inv.invoice_date <= today):
            continue
        seen.add(inv.invoice_key)
        by_uscc[inv.uscc].append(inv)
    out = []
    for uscc, invoices in by_uscc.items():
        org = orgs[uscc]
        if not org.enterprise.is_sme:
            continue
        invoices = invoices[:100]
        lines = [RobotLineInput(model=i.model, manufacturer=i.manufacturer, domestic=i.domestic, quantity=i.quantity,
                                unit_price_excl_vat=i.amount_excl_vat / i.quantity, invoice_no=i.invoice_no,
                                invoice_date=i.invoice_date) for i in invoices]
        try:
            preview = compute_robot(lines, programme, org, today)  # the version in force on the match day
        except DomainError:
            continue
        if preview.result.total_subsidy <= 0:
            continue
        from voucher.subsidies.common import robot_params_json, working_json

        evidence = _common_evidence(org, programme, today)
        evidence.append(_row("pilot_industry", None, {"industry": org.enterprise.industry,
                                                      "pilot": preview.pilot_industry}))
        evidence.append(_row("cap_left", None, {"already_granted": preview.already_granted,
                                                "cap": preview.params.enterprise_cap}))
        for inv, r in zip(invoices, preview.result.lines):
            evidence.append(_row("invoice", inv, {
                "invoice_no": inv.invoice_no, "model": inv.model, "manufacturer": inv.manufacturer,
                "domestic": inv.domestic, "quantity": inv.quantity, "amount_excl_vat": inv.amount_excl_vat,
                "invoice_date": inv.invoice_date, "rate": r.rate, "subsidy": r.subsidy, "granted": r.granted}))
        out.append(("robot", org, programme, preview.result.total_subsidy, working_json(preview.result.working),
                    evidence, [f"invoice:{i.invoice_key}" for i in invoices], robot_params_json(preview.params),
                    preview.rule_version, preview.inputs))
    return out


# --- loan discounts --------------------------------------------------------------------------------

def _loan_claim(org_id: int, line: BenefitLoanLine) -> str:
    return f"loan:{org_id}:{line.contract_key}:{line.period_start.isoformat()}:{line.period_end.isoformat()}"


def _candidate_periods(taken: set[str]) -> dict[str, list[tuple[date, date]]]:
    """The periods of each loan already in a candidate (any status but excluded: an excluded one holds
    no claim), by the claim's prefix ``loan:<enterprise>:<contract_key>:``: their days are taken.
    From the claim keys read once at the start of the match (not one query per contract)."""
    out: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for key in taken:
        if key.startswith("loan:"):
            prefix, start, end = key.rsplit(":", 2)
            out[prefix + ":"].append((date.fromisoformat(start), date.fromisoformat(end)))
    return out


def _loan_candidates(orgs, programme, taken: set[str], today: date):
    from voucher.subsidies.common import loan_params_json, working_json
    from voucher.subsidies.loans import (
        PeriodInput,
        _check_loan_overlap,
        compute_loan,
        principal_already_subsidised,
    )
    from voucher.subsidies.models import LoanApplication

    in_candidates = _candidate_periods(taken)
    # The subsidies' checks read the enterprise's loan applications: one without any has no claimed days
    # and no approved principal, so the two queries are asked only for the enterprises that have one.
    with_loans = set(db.session.scalars(select(LoanApplication.enterprise_id).distinct()))
    groups: dict[tuple, list[BenefitLoanLine]] = defaultdict(list)
    for line in db.session.scalars(select(BenefitLoanLine).where(BenefitLoanLine.uscc.in_(list(orgs)))
                                   .order_by(BenefitLoanLine.period_start, BenefitLoanLine.id)):
        groups[(line.uscc, line.contract_key, line.contract_date, line.loan_rate, line.lender)].append(line)
    out = []
    for (uscc, contract_key, contract_date, loan_rate, lender), lines in groups.items():
        org = orgs[uscc]
        if not org.enterprise.is_sme or contract_date > today:
            continue
        busy = list(in_candidates.get(f"loan:{org.id}:{contract_key}:", ()))
        kept: list[BenefitLoanLine] = []
        for line in lines:
            if line.period_end > today or _loan_claim(org.id, line) in taken:
                continue
            if any(line.period_start < b and a < line.period_end for a, b in busy):
                continue
            kept.append(line)
            busy.append((line.period_start, line.period_end))
        if not kept:
            continue
        periods = [PeriodInput(x.period_start, x.period_end, x.outstanding_principal, x.interest_paid) for x in kept]
        overlap = _check_loan_overlap(org.id, kept[0].contract_no, periods, None) if org.id in with_loans else []
        clash = {int(field.split(".")[1]) for field, _, _ in overlap}
        kept = [x for i, x in enumerate(kept) if i not in clash][:MAX_PERIODS]
        if not kept:
            continue
        data = loan_input(programme.id, kept)
        try:
            already = principal_already_subsidised(org.id) if org.id in with_loans else []
            preview = compute_loan(data, programme, already, today)
        except DomainError:  # above the ceiling (or not computable): no candidate
            continue
        if preview.result.total_discount <= 0:
            continue
        evidence = _common_evidence(org, programme, today)
        evidence.append(_row("rate_ceiling", kept[0], {
            "contract_no": kept[0].contract_no, "lender": lender, "contract_date": contract_date,
            "loan_rate": loan_rate, "lpr": preview.benchmark.rate_pct,
            "lpr_since": preview.benchmark.effective_from, "ceiling": preview.result.rate_ceiling}))
        for line, r in zip(kept, preview.result.periods):
            evidence.append(_row("interest_period", line, {
                "contract_no": line.contract_no, "period_start": line.period_start, "period_end": line.period_end,
                "days": line.days, "outstanding_principal": line.outstanding_principal,
                "interest_paid": line.interest_paid, "discount": r.discount}))
        out.append(("loan", org, programme, preview.result.total_discount, working_json(preview.result.working),
                    evidence, [_loan_claim(org.id, x) for x in kept], loan_params_json(preview.params),
                    preview.rule_version, preview.inputs))
    return out


def loan_input(programme_id: int, lines: list[BenefitLoanLine]):
    from voucher.subsidies.loans import LoanInput, PeriodInput

    first = lines[0]
    return LoanInput(programme_id=programme_id, bank_name=first.lender, contract_no=first.contract_no,
                     contract_date=first.contract_date, principal=max(x.outstanding_principal for x in lines),
                     loan_rate=first.loan_rate, term_start=min(x.period_start for x in lines),
                     term_end=max(x.period_end for x in lines),
                     periods=tuple(PeriodInput(x.period_start, x.period_end, x.outstanding_principal, x.interest_paid)
                                   for x in lines))


# --- confirming: the application, by the subsidies' services --------------------------------------

def evidence_rows(candidate: BenefitCandidate, condition: str, model) -> list:
    ids = [e["row_id"] for e in candidate.evidence if e["condition"] == condition]
    rows = {r.id: r for r in db.session.scalars(select(model).where(model.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def create_application(actor: Actor, candidate: BenefitCandidate, uploads: dict, *, max_bytes: int,
                       today: date | None = None):
    """The application of a confirmed candidate, saved by the subsidies' services (all their checks),
    then submitted when their rules allow (the state after submission); else left a draft."""
    from voucher.subsidies import review

    token = f"benefit-{candidate.id}"
    if candidate.kind == "robot":
        from voucher.subsidies.robots import RobotInput, RobotLineInput, save_robot_application

        invoices = evidence_rows(candidate, "invoice", BenefitInvoice)
        lines = tuple(RobotLineInput(model=i.model, manufacturer=i.manufacturer, domestic=i.domestic,
                                     quantity=i.quantity, unit_price_excl_vat=i.amount_excl_vat / i.quantity,
                                     invoice_no=i.invoice_no, invoice_date=i.invoice_date,
                                     invoice_file=uploads.get(f"lines.{n}.invoice_file"))
                      for n, i in enumerate(invoices))
        app = save_robot_application(actor, RobotInput(candidate.programme_id, lines), max_bytes=max_bytes,
                                     client_token=token, today=today)
    else:
        from voucher.subsidies.loans import save_loan_application

        lines = evidence_rows(candidate, "interest_period", BenefitLoanLine)
        app = save_loan_application(actor, loan_input(candidate.programme_id, lines), plan=uploads.get("plan_file"),
                                    statement=uploads.get("statement_file"), max_bytes=max_bytes,
                                    client_token=token, today=today)
    try:
        with db.session.begin_nested():
            review.act(actor, candidate.kind, app.id, "submit", today=today)
    except DomainError:
        pass  # e.g. a material of the checklist still missing: the draft waits for the enterprise
    return app
